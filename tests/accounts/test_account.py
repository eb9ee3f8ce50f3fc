"""The account page (/account/, accounts/views.py): the member's state, and their email
preferences. Its billing section is billing's (tests/billing/test_account_billing.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Newsletter, NewsletterSubscription
from accounts.services import trial_set
from tests.pages import element_text


def test_account_page_needs_a_login(client):
    response = client.get("/account/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/account/"


def test_account_page_shows_the_days_left_in_the_trial(client, make_member):
    tina = make_member("tina@example.com", trial="active")  # ends six days from now
    client.force_login(tina)

    membership = element_text(client.get("/account/").content.decode(), css_class="panel")

    assert "Free trial: 6 days left" in membership
    assert f"Your trial ends on {tina.membership.trial_ends_at:%-d %B %Y}" in membership


def test_account_page_counts_a_part_day_as_a_day_left(client, make_member):
    tina = make_member("tina@example.com", trial="active")
    trial_set(
        user_id=tina.pk,
        started_at=tina.membership.trial_started_at,
        ends_at=timezone.now() + timedelta(hours=3),
    )
    client.force_login(tina)

    assert "Free trial: 1 day left" in element_text(
        client.get("/account/").content.decode(), css_class="panel"
    )


def test_account_page_tells_a_lapsed_member_their_trial_ended(client, readers):
    client.force_login(readers["trial_over"])

    html = client.get("/account/").content.decode()

    assert "Your free trial ended on" in html
    assert "Subscribe" in html


def test_account_page_asks_an_unverified_member_to_verify(client, readers):
    client.force_login(readers["unverified"])

    assert (
        "Verify your email address to start your free trial"
        in client.get("/account/").content.decode()
    )


# ---- email preferences ----------------------------------------------------------------


@pytest.fixture
def weekly(readers):
    """The weekly newsletter, with the member in trial on it."""
    newsletter = Newsletter.objects.create(name="The Weekly Guide", slug="weekly", is_default=True)
    NewsletterSubscription.objects.create(user=readers["in_trial"], newsletter=newsletter)
    return newsletter


def test_a_member_in_trial_sees_the_days_left_and_the_preferences(client, readers, weekly):
    client.force_login(readers["in_trial"])

    html = client.get("/account/").content.decode()

    assert "Free trial: 6 days left" in html
    assert "Email preferences" in html
    assert f'name="newsletters" value="{weekly.pk}"' in html and "checked" in html


def test_unticking_the_box_stops_the_newsletter(client, readers, weekly):
    client.force_login(readers["in_trial"])

    response = client.post("/account/email-preferences/", {})

    assert response.status_code == 302 and response["Location"] == "/account/"
    assert not readers["in_trial"].newsletters.exists()
    html = client.get("/account/").content.decode()
    assert "Your email preferences are saved." in html


def test_ticking_it_again_restores_it(client, readers, weekly):
    NewsletterSubscription.objects.filter(user=readers["in_trial"]).delete()
    client.force_login(readers["in_trial"])

    client.post("/account/email-preferences/", {"newsletters": [weekly.pk]})

    assert list(readers["in_trial"].newsletters.all()) == [weekly]


def test_preferences_change_only_by_post_and_only_for_a_signed_in_member(client, readers, weekly):
    assert client.post("/account/email-preferences/", {})["Location"].startswith("/accounts/login/")
    client.force_login(readers["in_trial"])
    assert client.get("/account/email-preferences/").status_code == 405
    assert list(readers["in_trial"].newsletters.all()) == [weekly]
