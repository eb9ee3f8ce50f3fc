"""The authentication backends: Django's and allauth's, loading the session's member with their Membership.

Each signed-in request loads its member once (django.contrib.auth.get_user, through the backend
that signed them in); loading the Membership in the same query means the access the middleware
resolves from it costs no query of its own. While the meter is on (METERED_FREE_ARTICLES), the
same query brings the ids of the articles the member read on it this month (on PostgreSQL; a
second small query elsewhere, e.g. the SQLite of `make run`), so the policy stays a pure
function of what was loaded.
"""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import OuterRef
from django.utils import timezone

from accounts.models import MeterRead, User, meter_month


class LoadsMembership:
    def get_user(self, user_id):
        members = User.objects.select_related("membership").filter(pk=user_id)
        month = meter_month(timezone.now()) if settings.METERED_FREE_ARTICLES else None
        in_one_query = month is not None and connection.vendor == "postgresql"
        if in_one_query:
            reads = MeterRead.objects.filter(user=OuterRef("pk"), month=month)
            members = members.annotate(meter_read_ids=ArraySubquery(reads.values("article_id")))
        member = members.first()
        if member is None or not self.user_can_authenticate(member):
            return None
        if month is not None:
            ids = (
                member.meter_read_ids
                if in_one_query
                else MeterRead.objects.filter(user=member, month=month).values_list(
                    "article_id", flat=True
                )
            )
            member.meter_reads_loaded = (month, tuple(ids))
        return member


class MemberModelBackend(LoadsMembership, ModelBackend):
    """Django's backend (the admin's and the test client's force_login)."""


class MemberAllauthBackend(LoadsMembership, AllauthBackend):
    """allauth's backend: sign-in by email, which readers use."""
