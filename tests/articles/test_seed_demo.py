"""`make run`'s demo data: the publication, the plans and a login for each kind of reader, safe to run again."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from accounts.entitlements import State, for_user
from accounts.models import TrialClaim, User
from articles.models import Article, Attachment, Person, Topic, Visibility
from billing.models import Plan
from tests.pages import element_text


def seed():
    call_command("seed_demo", stdout=StringIO())


DEMO_STATES = {
    "admin@example.com": State.STAFF,
    "reader@example.com": State.TRIAL,
    "lapsed@example.com": State.TRIAL_OVER,
}
MODELS = [Article, Attachment, Topic, Person, Plan, User, TrialClaim]


@pytest.fixture
def seeded(db):
    seed()


def test_seeding_twice_changes_nothing(seeded):
    counts = {model: model.objects.count() for model in MODELS}

    seed()

    assert {model: model.objects.count() for model in MODELS} == counts


def test_the_demo_publication_has_10_articles_in_3_topics_by_3_authors_and_2_reviewers(seeded):
    assert Article.objects.count() == 10
    assert Article.objects.published().count() == 10
    assert Topic.objects.filter(articles__isnull=False).distinct().count() >= 3
    assert Person.objects.filter(articles__isnull=False).distinct().count() == 3
    assert Person.objects.filter(reviewed_articles__isnull=False).distinct().count() == 2


def test_every_demo_article_has_at_least_300_words(seeded):
    for article in Article.objects.all():
        words = len(f"{article.intro} {article.body}".split())
        assert words >= 300, f"{article.slug}: {words} words"


def test_the_demo_articles_mix_visibilities(seeded):
    visibilities = set(Article.objects.values_list("visibility", flat=True))

    assert {Visibility.PUBLIC, Visibility.PREMIUM} <= visibilities


def test_the_demo_plans_are_12_a_month_and_99_a_year(seeded):
    plans = {(p.name, p.display_price, p.interval) for p in Plan.objects.active()}

    assert plans == {("Monthly", "£12.00", "month"), ("Annual", "£99.00", "year")}
    assert Plan.objects.from_price().display_price == "£12.00"


def test_each_demo_login_has_its_access_state(seeded):
    seed()

    states = {
        user.email: for_user(user).state for user in User.objects.filter(email__in=DEMO_STATES)
    }

    assert states == DEMO_STATES


@pytest.mark.parametrize("email", ["admin@example.com", "reader@example.com", "lapsed@example.com"])
def test_the_demo_password_logs_in(client, seeded, email):
    response = client.post("/accounts/login/", {"login": email, "password": "masthead-demo"})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(email=email).pk)


def test_the_demo_admin_opens_the_admin(client, seeded):
    client.force_login(User.objects.get(email="admin@example.com"))

    assert client.get("/admin/accounts/user/").status_code == 200


def test_the_demo_reader_is_still_in_trial_when_make_run_is_run_weeks_later(db):
    seed()

    with time_machine.travel(timezone.now() + timedelta(days=30)):
        seed()
        states = {user.email: for_user(user).state for user in User.objects.all()}

    assert states["reader@example.com"] == State.TRIAL
    assert states["lapsed@example.com"] == State.TRIAL_OVER


def test_the_command_prints_the_demo_logins(db, capsys):
    call_command("seed_demo")

    out = capsys.readouterr().out
    for email in ["admin@example.com", "reader@example.com", "lapsed@example.com"]:
        assert email in out
    assert "masthead-demo" in out


# `make run` with each documented value of the trial and meter settings: trials off (0) or
# on, the meter off (0) or on (the demo's 3, and 1 read a month).
@pytest.mark.parametrize("trial_days", [0, 7])
@pytest.mark.parametrize("metered", [0, 1, 3])
def test_the_demo_seeds_and_serves_with_every_trial_and_meter_setting(
    client, db, settings, trial_days, metered
):
    settings.TRIAL_DAYS = trial_days
    settings.METERED_FREE_ARTICLES = metered

    seed()
    seed()  # and again, as every `make run` does
    premium = Article.objects.filter(visibility=Visibility.PREMIUM).first()

    for email in [None, "reader@example.com", "lapsed@example.com", "admin@example.com"]:
        if email:
            client.force_login(User.objects.get(email=email))
        assert client.get("/").status_code == 200
        assert client.get(premium.get_absolute_url()).status_code == 200


def test_with_trials_off_the_demo_members_are_free_members_on_the_meter(client, db, settings):
    settings.TRIAL_DAYS = 0
    settings.METERED_FREE_ARTICLES = 3

    seed()
    premium = Article.objects.filter(visibility=Visibility.PREMIUM).first()
    reader = User.objects.get(email="reader@example.com")
    client.force_login(reader)
    html = client.get(premium.get_absolute_url()).content.decode()

    assert for_user(reader).state == State.NO_SUBSCRIPTION
    assert TrialClaim.objects.count() == 0
    assert "2 of 3 free articles left this month." in html
    assert 'class="paywall"' not in html


GUIDE = "/articles/first-ninety-days-as-a-manager/"


def test_the_demo_long_guide_shows_a_teaser_reader_contents_of_its_public_part(client, seeded):
    html = client.get(GUIDE).content.decode()

    contents = element_text(html, css_class="toc")
    assert contents == (
        "In this guide Why the first weeks matter What not to do in week one "
        "A simple plan for the period"
    )
    assert "Days 1 to 30" not in html  # the premium part's sections stay behind the paywall


def test_the_demo_long_guide_shows_the_demo_reader_contents_of_the_whole_guide(client, seeded):
    client.force_login(User.objects.get(email="reader@example.com"))

    contents = element_text(client.get(GUIDE).content.decode(), css_class="toc")

    assert "Days 1 to 30: listen Hold a first one-to-one with everyone" in contents
    assert contents.endswith("At ninety days: take stock")


def test_every_demo_article_ends_with_three_to_read_next(client, seeded):
    for article in Article.objects.all():
        html = client.get(article.get_absolute_url()).content.decode()
        read_next = element_text(html, css_class="read-next")
        assert read_next.startswith("Read next"), article.slug
        assert read_next.count("min read") == 3, article.slug
        assert article.title not in read_next, article.slug


def test_the_demo_one_to_ones_guide_comes_with_a_worksheet_for_its_readers(client, seeded):
    url = "/articles/one-to-ones-people-look-forward-to/"
    worksheet = Attachment.objects.get()
    assert worksheet.article.visibility == Visibility.PREMIUM
    assert "One-to-one preparation worksheet" in client.get(url).content.decode()
    download = f"{url}downloads/{worksheet.pk}/"
    assert client.get(download).status_code == 403  # anonymous: no bytes

    client.force_login(User.objects.get(email="reader@example.com"))  # in the trial
    response = client.get(download)

    pdf = b"".join(response.streaming_content)
    assert response["Content-Disposition"] == 'attachment; filename="one-to-one-worksheet.pdf"'
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    assert b"(One-to-one preparation worksheet) '" in pdf
    # the cross-reference table points at each object: a PDF reader can open it
    xref = int(pdf.rsplit(b"startxref", 1)[1].split()[0])
    assert pdf[xref:].startswith(b"xref\n0 6\n")
    offsets = [int(line.split()[0]) for line in pdf[xref:].splitlines()[3:8]]
    assert [pdf[o:].split(b" ", 1)[0] for o in offsets] == [b"1", b"2", b"3", b"4", b"5"]
