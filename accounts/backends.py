"""The authentication backends: Django's and allauth's, loading the session's member with their access.

Each signed-in request loads its member once (django.contrib.auth.get_user, through the backend
that signed them in); these load the records that decide the member's access in the same query
(accounts.entitlements.load_member), so the article page needs one query for both.
"""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth.backends import ModelBackend

from accounts import entitlements


class LoadsAccess:
    def get_user(self, user_id):
        member = entitlements.load_member(user_id)
        return member if member is not None and self.user_can_authenticate(member) else None


class MemberModelBackend(LoadsAccess, ModelBackend):
    """Django's backend (the admin's and the test client's force_login)."""


class MemberAllauthBackend(LoadsAccess, AllauthBackend):
    """allauth's backend: sign-in by email, which readers use."""
