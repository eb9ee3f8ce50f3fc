"""The free trial: it starts when the email is verified, lasts TRIAL_DAYS to the second, once per person."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from accounts.models import Membership
from articles.models import Visibility
from tests.conftest import SECRET_SENTENCES

PREMIUM = SECRET_SENTENCES[Visibility.PREMIUM]


# --- the admin's "Extend trial by N days" ---


def test_a_trial_end_without_a_start_in_the_database_is_no_trial_and_no_error(
    make_member, articles
):
    member = make_member("nora@example.com")
    Membership.objects.filter(pk=member.pk).update(trial_ends_at=timezone.now() + timedelta(days=3))
    client = Client()
    client.force_login(member)

    response = client.get("/articles/premium-article/")

    assert response.status_code == 200
    assert PREMIUM not in response.content.decode()
