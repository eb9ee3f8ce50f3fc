"""Signing up (/accounts/signup/, allauth with our templates): the page sells the trial, errors
sit next to their fields, and a taken address gives nothing away."""

import re

from django.core import mail
from hypothesis import given

from accounts.models import User
from tests.accounts.steps import sign_up
from tests.hostile import EXAMPLES, form_data, row_counts


def test_sign_up_page_sells_the_trial(client, site_settings, plans):
    html = client.get("/accounts/signup/").content.decode()

    assert "<h1>Start your free trial</h1>" in html
    assert "7 days free, then from £12.00 per month" in html
    assert '<label for="id_email">' in html and '<label for="id_password1">' in html


def test_sign_up_errors_are_shown_next_to_the_fields(client, site_settings, plans):
    response = client.post("/accounts/signup/", {"email": "not-an-email", "password1": "x"})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="errorlist' in html
    assert "Enter a valid email address." in html


def test_sign_up_promises_no_card_only_when_the_trial_needs_none(
    client, site_settings, plans, settings
):
    assert "No card needed to start." in client.get("/accounts/signup/").content.decode()

    settings.TRIAL_MODE = "card"

    html = client.get("/accounts/signup/").content.decode()
    assert "No card needed" not in html
    assert "You choose a plan next; nothing is charged until the trial ends." in html


def test_signing_up_with_a_taken_address_looks_the_same_and_mails_the_owner(
    client_for, make_member, fresh_cache
):
    make_member("tina@example.com", trial="active")

    taken = sign_up(client_for(None), "tina@example.com")
    taken_mail = list(mail.outbox)
    mail.outbox.clear()
    new = sign_up(client_for(None), "newcomer@example.com")

    assert taken.status_code == new.status_code == 302
    assert taken["Location"] == new["Location"] == "/accounts/confirm-email/"
    # the owner of the address hears someone tried; nobody learns it from the page
    [warning] = taken_mail  # "you already have an account", sent to the owner only
    assert warning.to == ["tina@example.com"]
    assert "already" in (warning.subject + warning.body).lower()
    assert "/accounts/confirm-email/" not in warning.body
    assert User.objects.filter(email="tina@example.com").count() == 1
    [verification] = mail.outbox
    assert verification.to == ["newcomer@example.com"]


def test_the_sign_up_page_after_a_taken_address_says_the_same_as_for_a_new_one(
    client_for, make_member, fresh_cache
):
    make_member("tina@example.com", trial="active")
    taken_client, new_client = client_for(None), client_for(None)
    sign_up(taken_client, "tina@example.com")
    sign_up(new_client, "newcomer@example.com")

    taken_page, new_page = (
        re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", c.get(url).content.decode())
        for c, url in (
            (taken_client, "/accounts/confirm-email/"),
            (new_client, "/accounts/confirm-email/"),
        )
    )

    # the address as typed, and masked: "we sent a link to t…@example.com"
    assert taken_page.replace("tina@example.com", "X").replace("t…@", "X@") == new_page.replace(
        "newcomer@example.com", "X"
    ).replace("n…@", "X@")


@EXAMPLES
@given(data=form_data(["email", "password1"]))
def test_any_input_to_sign_up_is_answered_and_a_refused_one_writes_nothing(
    client, db, fresh_cache, data
):
    before = row_counts(client, "/accounts/signup/")
    response = client.post("/accounts/signup/", data)
    assert response.status_code < 500
    if response.status_code != 302:
        assert row_counts(client, "/accounts/signup/") == before


def test_sign_up_asks_for_the_password_once_with_a_show_hide_script_and_no_rules_up_front(
    client, site_settings, plans
):
    html = client.get("/accounts/signup/").content.decode()

    assert html.count('type="password"') == 1
    assert 'name="password1"' in html and 'autocomplete="new-password"' in html
    assert 'name="password2"' not in html and "(again)" not in html
    assert "too similar" not in html and "at least 8 characters" not in html
    assert '<script src="/static/js/password-toggle.js" defer></script>' in html


def test_a_password_that_breaks_a_rule_is_told_which_rule(client, db, fresh_cache):
    response = client.post(
        "/accounts/signup/", {"email": "newcomer@example.com", "password1": "abc12"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "This password is too short. It must contain at least 8 characters." in html
    assert not User.objects.filter(email="newcomer@example.com").exists()
    assert not mail.outbox


def test_one_password_is_enough_to_sign_up(client, db, fresh_cache):
    response = client.post(
        "/accounts/signup/", {"email": "newcomer@example.com", "password1": "a-long-passphrase-42"}
    )

    assert response.status_code == 302
    assert User.objects.get(email="newcomer@example.com").check_password("a-long-passphrase-42")
