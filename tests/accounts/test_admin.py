"""The member admin (accounts/admin.py): the member list and its columns, the trial set by
hand or extended by N days, and complimentary access granted and ended by staff."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.entitlements import State, for_user
from accounts.models import ComplimentaryAccess, TrialClaim, User
from articles.models import Visibility
from tests.conftest import SECRET_SENTENCES

PREMIUM = SECRET_SENTENCES[Visibility.PREMIUM]


# ---- the member list ------------------------------------------------------------------


def member_rows(html) -> dict[str, dict[str, str]]:
    """The admin's member list as {email: {column: cell text or icon's alt}}."""
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        cells = dict(re.findall(r'<t[hd] class="field-(\w+)[^"]*">(.*?)</t[hd]>', row, re.S))
        if "email" in cells:
            text = {k: re.sub(r'<img [^>]*alt="(\w+)"[^>]*>', r"\1", v) for k, v in cells.items()}
            rows[re.sub(r"<[^>]+>", "", text["email"])] = {
                k: re.sub(r"<[^>]+>", "", v) for k, v in text.items()
            }
    return rows


def test_the_member_list_shows_verified_trial_and_access_columns(client, superuser, readers):
    client.force_login(superuser)

    rows = member_rows(client.get("/admin/accounts/user/").content.decode())

    assert rows["tina@example.com"]["verified"] == "True"
    assert rows["tina@example.com"]["access_state"] == "trial"
    assert rows["tina@example.com"]["trial_ends_at"] != "-"
    assert rows["oscar@example.com"]["access_state"] == "trial over"
    assert rows["una@example.com"]["verified"] == "False"
    assert rows["una@example.com"]["access_state"] == "unverified"
    assert rows["una@example.com"]["trial_started_at"] == "-"
    assert rows["stella@example.com"]["access_state"] == "staff"
    assert rows["sue@example.com"]["access_state"] == "subscriber"
    assert rows["gail@example.com"]["access_state"] == "payment grace"
    assert rows["carl@example.com"]["access_state"] == "cancelled"
    assert rows["cora@example.com"]["access_state"] == "complimentary"


def test_the_member_list_costs_the_same_queries_for_12_or_32_members(
    client, superuser, readers, make_member
):
    client.force_login(superuser)

    def queries_for_the_list():
        with CaptureQueriesContext(connection) as captured:
            html = client.get("/admin/accounts/user/").content.decode()
        return len(captured), member_rows(html)

    with_twelve, _ = queries_for_the_list()
    for number in range(20):
        make_member(f"reader{number}@example.com", trial="over")
    with_thirty_two, rows = queries_for_the_list()

    assert with_thirty_two == with_twelve
    assert len(rows) == 32  # the eleven signed-in readers, the superuser and the twenty
    assert rows["reader7@example.com"]["access_state"] == "trial over"
    assert rows["tina@example.com"]["access_state"] == "trial"


def test_staff_see_each_members_free_reads_this_month(client, settings, superuser, readers):
    settings.METERED_FREE_ARTICLES = 3
    client.force_login(superuser)

    rows = member_rows(client.get("/admin/accounts/user/").content.decode())
    page = client.get(f"/admin/accounts/user/{readers['free_almost'].pk}/change/").content.decode()

    assert rows["fran@example.com"]["meter_reads_this_month"] == "0 of 3"
    assert rows["fay@example.com"]["meter_reads_this_month"] == "2 of 3"
    assert rows["flo@example.com"]["meter_reads_this_month"] == "3 of 3"
    assert "Free reads this month" in page and "2 of 3" in page
    # last month's reads count for nothing
    with time_machine.travel(timezone.now() + timedelta(days=32)):
        client.force_login(superuser)
        later = member_rows(client.get("/admin/accounts/user/").content.decode())
    assert later["flo@example.com"]["meter_reads_this_month"] == "0 of 3"


def test_the_member_list_searches_by_email(client, superuser, readers):
    client.force_login(superuser)

    rows = member_rows(client.get("/admin/accounts/user/?q=oscar").content.decode())

    assert list(rows) == ["oscar@example.com"]


# ---- the trial, by hand and extended by N days -----------------------------------------


def premium_page_for(user, at) -> str:
    """The premium article as `user` sees it at `at`, signed in afresh then (sessions last two weeks)."""
    client = Client()
    with time_machine.travel(at, tick=False):
        client.force_login(user)
        return client.get("/articles/premium-article/").content.decode()


@pytest.fixture
def a_month_ahead():
    """A moment a month ahead of the clock as the test starts, to the second: the fixtures'
    articles (live since an hour before) are live then."""
    return (timezone.now() + timedelta(days=30)).replace(microsecond=0)


def extend(by, users, days, *, at=None):
    """Tick members in the admin's member list, choose "Extend trial by N days", type N, press Go."""
    client = Client()
    with time_machine.travel(at or timezone.now(), tick=False):
        client.force_login(by)
        return client.post(
            "/admin/accounts/user/",
            {
                "action": "extend_trial",
                "_selected_action": [u.pk for u in users],
                "days": days,
                "index": 0,
            },
            follow=True,
        )


def test_extending_an_ended_trial_reopens_access(superuser, make_member, articles, a_month_ahead):
    oscar = make_member("oscar@example.com", trial="over")
    extended_at = a_month_ahead + timedelta(days=60)
    assert PREMIUM not in premium_page_for(oscar, extended_at)

    response = extend(superuser, [oscar], 5, at=extended_at)

    assert "Extended 1 trial(s) by 5 day(s)." in response.content.decode()
    oscar.refresh_from_db()
    assert oscar.membership.trial_ends_at == extended_at + timedelta(
        days=5
    )  # five days from the extension
    assert PREMIUM in premium_page_for(oscar, extended_at + timedelta(days=5, seconds=-1))
    assert PREMIUM not in premium_page_for(oscar, extended_at + timedelta(days=5))


def test_extending_a_running_trial_adds_to_its_end(superuser, make_member):
    tina = make_member("tina@example.com", trial="active")
    ends_at = tina.membership.trial_ends_at

    extend(superuser, [tina], 3)

    tina.refresh_from_db()
    assert tina.membership.trial_ends_at == ends_at + timedelta(days=3)


@pytest.mark.parametrize("days", ["", "0", "-2", "seven", "366"])
def test_extending_by_an_invalid_number_of_days_changes_nothing(superuser, make_member, days):
    oscar = make_member("oscar@example.com", trial="over")
    ends_at = oscar.membership.trial_ends_at

    response = extend(superuser, [oscar], days)

    assert response.status_code == 200
    assert "Enter a number of days from 1 to 365" in response.content.decode()
    oscar.refresh_from_db()
    assert oscar.membership.trial_ends_at == ends_at


def test_extending_a_member_who_never_had_a_trial_gives_one_and_records_the_claim(
    superuser, make_member, articles, a_month_ahead
):
    nora = make_member("nora@example.com")
    at = a_month_ahead

    response = extend(superuser, [nora], 10, at=at)

    assert "Extended 1 trial(s) by 10 day(s)." in response.content.decode()
    nora.refresh_from_db()
    assert (nora.membership.trial_started_at, nora.membership.trial_ends_at) == (
        at,
        at + timedelta(days=10),
    )
    assert TrialClaim.objects.filter(user=nora).exists()
    assert PREMIUM in premium_page_for(nora, at + timedelta(days=9))


def change_member_in_admin(by, member, **trial):
    client = Client()
    client.force_login(by)
    form = {
        "email": member.email,
        "name": "",
        "is_active": "on",
        "trial_started_at_0": "",
        "trial_started_at_1": "",
        "trial_ends_at_0": "",
        "trial_ends_at_1": "",
        "date_joined_0": f"{member.date_joined:%Y-%m-%d}",
        "date_joined_1": f"{member.date_joined:%H:%M:%S}",
    }
    for field, moment in trial.items():
        form[f"{field}_0"], form[f"{field}_1"] = f"{moment:%Y-%m-%d}", f"{moment:%H:%M:%S}"
    return client.post(f"/admin/accounts/user/{member.pk}/change/", form)


def test_the_admin_refuses_a_trial_end_without_a_start(superuser, make_member):
    member = make_member("nora@example.com")

    response = change_member_in_admin(
        superuser, member, trial_ends_at=timezone.now() + timedelta(days=3)
    )

    assert response.status_code == 200
    assert "A trial needs both its start and its end (or neither)." in response.content.decode()
    member.refresh_from_db()
    assert member.membership.trial_ends_at is None


def test_the_admin_saves_a_trial_set_by_hand(superuser, make_member, articles):
    member = make_member("nora@example.com")
    start = timezone.now().replace(microsecond=0)

    response = change_member_in_admin(
        superuser, member, trial_started_at=start, trial_ends_at=start + timedelta(days=3)
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.membership.trial_ends_at == start + timedelta(days=3)
    assert PREMIUM in premium_page_for(member, start + timedelta(days=2))


# ---- complimentary access -------------------------------------------------------------


def test_staff_grant_complimentary_access_in_the_admin_and_are_recorded_as_granting_it(
    client, superuser, make_member
):
    client.force_login(superuser)
    member = make_member("guest@example.com", trial="over")
    until = timezone.now() + timedelta(days=30)

    response = client.post(
        "/admin/accounts/complimentaryaccess/add/",
        {
            "user": member.pk,
            "starts_at_0": timezone.now().strftime("%Y-%m-%d"),
            "starts_at_1": timezone.now().strftime("%H:%M:%S"),
            "until_0": until.strftime("%Y-%m-%d"),
            "until_1": until.strftime("%H:%M:%S"),
            "reason": "Speaker at our conference",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    grant = ComplimentaryAccess.objects.get(user=member)
    assert grant.granted_by == superuser and grant.reason == "Speaker at our conference"


def test_staff_grant_complimentary_access_to_members_from_the_member_list(
    client, superuser, make_member, articles
):
    client.force_login(superuser)
    member = make_member("guest@example.com", trial="over")
    until = (timezone.now() + timedelta(days=30)).date()

    response = client.post(
        "/admin/accounts/user/",
        {
            "action": "grant_complimentary_access",
            "_selected_action": [member.pk],
            "until": until.isoformat(),
            "days": "",
        },
        follow=True,
    )

    assert (
        f"Granted complimentary access to 1 member(s) until {until:%-d %B %Y}."
        in response.content.decode()
    )
    grant = ComplimentaryAccess.objects.get(user=member)
    assert grant.granted_by == superuser and grant.until.date() == until


def test_granting_complimentary_access_needs_a_future_date(client, superuser, make_member):
    client.force_login(superuser)
    member = make_member("guest@example.com", trial="over")

    response = client.post(
        "/admin/accounts/user/",
        {
            "action": "grant_complimentary_access",
            "_selected_action": [member.pk],
            "until": "2001-01-01",
            "days": "",
        },
        follow=True,
    )

    assert "Choose a date in the future" in response.content.decode()
    assert not ComplimentaryAccess.objects.exists()


def test_staff_grant_in_the_admin_reaches_the_members_access_and_ending_it_now_takes_it_away(
    client, superuser, make_member
):
    client.force_login(superuser)
    member = make_member("guest@example.com", trial="over")
    until = timezone.now() + timedelta(days=30)
    client.post(
        "/admin/accounts/complimentaryaccess/add/",
        {
            "user": member.pk,
            "starts_at_0": timezone.now().strftime("%Y-%m-%d"),
            "starts_at_1": timezone.now().strftime("%H:%M:%S"),
            "until_0": until.strftime("%Y-%m-%d"),
            "until_1": until.strftime("%H:%M:%S"),
            "reason": "Speaker at our conference",
        },
    )

    def state():
        return for_user(User.objects.select_related("membership").get(pk=member.pk)).state

    assert state() == State.COMPLIMENTARY
    grant = ComplimentaryAccess.objects.get(user=member)
    client.post(
        "/admin/accounts/complimentaryaccess/",
        {"action": "end_now", "_selected_action": [grant.pk]},
    )
    assert state() == State.TRIAL_OVER
