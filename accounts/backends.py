"""The authentication backends: Django's and allauth's, loading the session's member with their Membership.

Each signed-in request loads its member once (django.contrib.auth.get_user, through the backend
that signed them in); loading the Membership in the same query means the access the middleware
resolves from it costs no query of its own.
"""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth.backends import ModelBackend

from accounts.models import User


class LoadsMembership:
    def get_user(self, user_id):
        member = User.objects.select_related("membership").filter(pk=user_id).first()
        return member if member is not None and self.user_can_authenticate(member) else None


class MemberModelBackend(LoadsMembership, ModelBackend):
    """Django's backend (the admin's and the test client's force_login)."""


class MemberAllauthBackend(LoadsMembership, AllauthBackend):
    """allauth's backend: sign-in by email, which readers use."""
