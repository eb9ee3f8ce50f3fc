"""Premium downloads (articles/views.py's download, articles/attachments.py): an article's files
are listed for everyone, and their bytes go only to readers who may read the article, asked of
the entitlement policy on every request. Uploads in the admin are checked by name and content."""

import io
import zipfile
from html import unescape
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from accounts.entitlements import Meter
from accounts.models import MeterRead
from articles.demo_data import worksheet_pdf
from articles.models import Attachment, Visibility
from tests.articles.conftest import warm_site_wide_lookups
from tests.articles.test_article_detail import ARTICLE_PAGE_BUDGET
from tests.conftest import METER_N
from tests.pages import element_text
from tests.test_access_matrix import READS, may_read

PDF = worksheet_pdf(["Feedback worksheet", "1. What did you see?"])
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
# The start of a Windows program: what a renamed .exe really holds
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(200)


def ooxml(main_part: str) -> bytes:
    """The least of an Office Open XML file: a zip whose [Content_Types].xml names its main part."""
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Override PartName="/main.xml" ContentType="{main_part}"/></Types>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("main.xml", "<document/>")
    return buffer.getvalue()


def attach(article, title="Feedback worksheet", content=PDF, name="feedback-worksheet.pdf"):
    return Attachment.objects.create(
        article=article, title=title, file=ContentFile(content, name=name)
    )


def download(reader, attachment, *, slug=None):
    client = Client()
    if reader is not None:
        client.force_login(reader)
    return client.get(f"/articles/{slug or attachment.article.slug}/downloads/{attachment.pk}/")


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def worksheet(articles):
    return attach(articles[Visibility.PREMIUM])


# ---- the list on the article page --------------------------------------------------------


def test_every_reader_sees_the_list_with_title_kind_and_size(client, articles, worksheet):
    attach(articles[Visibility.PREMIUM], "Team charter template", ooxml(DOCX_MAIN), "charter.docx")

    html = client.get("/articles/premium-article/").content.decode()

    downloads = element_text(html, css_class="downloads")
    assert "Feedback worksheet" in downloads and "PDF" in downloads
    assert f"{len(PDF)} bytes" in downloads or "KB" in downloads
    assert "Team charter template" in downloads and "DOCX" in downloads
    assert f'href="/articles/premium-article/downloads/{worksheet.pk}/"' in html
    assert "For readers of the full article." in downloads  # the anonymous reader's teaser


def test_an_article_without_attachments_shows_no_downloads_section(client, articles):
    html = client.get("/articles/premium-article/").content.decode()

    assert 'class="downloads"' not in html


# ---- who gets the bytes ------------------------------------------------------------------


@pytest.mark.parametrize("reader_name", READS)
def test_only_readers_of_the_article_get_the_file(readers, worksheet, plans, reader_name):
    response = download(readers[reader_name], worksheet)

    if may_read(reader_name, Visibility.PREMIUM):
        assert response.status_code == 200
        assert body_of(response) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == 'attachment; filename="feedback-worksheet.pdf"'
        assert response["X-Content-Type-Options"] == "nosniff"
    else:
        assert response.status_code == 403
        assert not response.streaming
        assert b"%PDF" not in response.content
        assert "Content-Disposition" not in response
        assert "Go to the article" in response.content.decode()
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_a_members_article_file_goes_to_any_verified_member(readers, articles):
    handout = attach(articles[Visibility.MEMBERS])

    assert body_of(download(readers["free"], handout)) == PDF
    assert download(readers["unverified"], handout).status_code == 403
    assert download(None, handout).status_code == 403


def test_the_anonymous_reader_is_told_how_to_get_it(worksheet):
    html = download(None, worksheet).content.decode()

    assert "Premium Article" in html  # the article it comes with, linked
    assert 'href="/articles/premium-article/"' in html
    assert "Sign in or start your free trial to read this article." in html


# ---- the meter: a download never spends a read -------------------------------------------


@pytest.fixture
def meter_on(settings):
    settings.METERED_FREE_ARTICLES = METER_N


@pytest.mark.usefixtures("meter_on")
def test_a_metered_member_downloads_only_after_reading_the_article(readers, worksheet):
    fran = readers["free"]
    reads = MeterRead.objects.filter(user=fran).count()

    refused = download(fran, worksheet)

    assert refused.status_code == 403 and b"%PDF" not in refused.content
    assert "use one of your free reads" in refused.content.decode()
    assert MeterRead.objects.filter(user=fran).count() == reads  # no read spent by the download

    client = Client()
    client.force_login(fran)
    assert client.get("/articles/premium-article/").status_code == 200  # spends the read
    assert MeterRead.objects.filter(user=fran).count() == reads + 1

    assert body_of(download(fran, worksheet)) == PDF
    assert MeterRead.objects.filter(user=fran).count() == reads + 1


@pytest.mark.usefixtures("meter_on")
def test_a_member_who_used_the_months_reads_gets_no_file(readers, worksheet):
    response = download(readers["free_used_up"], worksheet)

    assert response.status_code == 403 and b"%PDF" not in response.content
    assert "You have read this month's free articles." in unescape(response.content.decode())


@pytest.mark.usefixtures("meter_on")
def test_an_exempt_articles_file_goes_to_a_metered_member(readers, make_article):
    exempt = make_article("exempt-guide", meter=Meter.EXEMPT)

    assert body_of(download(readers["free"], attach(exempt))) == PDF


@pytest.mark.usefixtures("meter_on")
def test_a_hard_paywalled_articles_file_never_goes_to_a_metered_member(readers, make_article):
    hard = make_article("hard-guide", meter=Meter.HARD)

    assert download(readers["free"], attach(hard)).status_code == 403


# ---- forged and stale addresses ----------------------------------------------------------


def test_another_articles_attachment_under_this_slug_is_not_found(readers, articles):
    public_file = attach(articles[Visibility.PUBLIC])
    premium_file = attach(articles[Visibility.PREMIUM])

    # the public article's slug cannot unlock the premium article's file
    assert download(None, premium_file, slug="public-article").status_code == 404
    assert download(readers["subscriber"], public_file, slug="premium-article").status_code == 404


def test_an_unknown_attachment_is_not_found(readers, worksheet):
    client = Client()
    client.force_login(readers["subscriber"])

    assert client.get(f"/articles/premium-article/downloads/{worksheet.pk + 1}/").status_code == 404


def test_a_drafts_file_is_only_for_staff(readers, unpublished):
    draft_file = attach(unpublished["draft"])

    assert download(readers["subscriber"], draft_file).status_code == 404
    assert body_of(download(readers["staff"], draft_file)) == PDF


def test_a_file_missing_from_storage_is_not_found(readers, worksheet):
    worksheet.file.storage.delete(worksheet.file.name)

    assert download(readers["subscriber"], worksheet).status_code == 404


# ---- storage: no public URL, no guessable name -------------------------------------------


def test_the_stored_file_has_a_random_name_and_no_public_url(client, worksheet, media_root):
    other = attach(worksheet.article)

    assert "feedback" not in worksheet.file.name
    assert worksheet.file.name != other.file.name
    assert worksheet.file.name.startswith("attachments/") and worksheet.file.name.endswith(".pdf")
    assert (Path(media_root) / worksheet.file.name).read_bytes() == PDF
    for url in [f"/media/{worksheet.file.name}", f"/{worksheet.file.name}"]:
        response = client.get(url)
        assert response.status_code == 404 and b"%PDF" not in response.content


def test_deleting_an_attachment_deletes_its_file(
    worksheet, media_root, django_capture_on_commit_callbacks
):
    stored = Path(media_root) / worksheet.file.name

    with django_capture_on_commit_callbacks(execute=True):
        worksheet.delete()

    assert not stored.exists()


# ---- caching: the list is retired when attachments change --------------------------------


@pytest.mark.usefixtures("production_caching")
def test_a_new_attachment_shows_on_the_next_request(readers, articles):
    anonymous = Client()
    subscriber = Client()
    subscriber.force_login(readers["subscriber"])
    for client in (anonymous, subscriber):
        assert "Feedback worksheet" not in client.get("/articles/premium-article/").content.decode()

    worksheet = attach(articles[Visibility.PREMIUM])

    for client in (anonymous, subscriber):
        assert "Feedback worksheet" in client.get("/articles/premium-article/").content.decode()

    worksheet.title = "Feedback worksheet, second edition"
    worksheet.save()
    for client in (anonymous, subscriber):
        assert "second edition" in client.get("/articles/premium-article/").content.decode()

    worksheet.delete()
    for client in (anonymous, subscriber):
        assert "Feedback worksheet" not in client.get("/articles/premium-article/").content.decode()


@pytest.mark.usefixtures("production_caching")
def test_a_subscriber_reads_an_article_with_attachments_within_the_budget(
    client, readers, worksheet, plans, django_assert_max_num_queries
):
    client.force_login(readers["subscriber"])
    warm_site_wide_lookups(client)

    with django_assert_max_num_queries(ARTICLE_PAGE_BUDGET):
        response = client.get("/articles/premium-article/")

    assert "Feedback worksheet" in response.content.decode()


# ---- uploads in the admin ----------------------------------------------------------------


def upload(client, article, content: bytes, name: str, title="Feedback worksheet"):
    """Save the article's admin page with one new attachment, as an editor's browser posts it."""
    return client.post(
        f"/admin/articles/article/{article.pk}/change/",
        {
            "title": article.title,
            "slug": article.slug,
            "topic": article.topic_id,
            "author": article.author_id,
            "reviewer": "",
            "summary": article.summary,
            "intro": article.intro,
            "body": article.body,
            "visibility": article.visibility,
            "meter": article.meter,
            "status": article.status,
            "publish_at_0": article.publish_at.strftime("%Y-%m-%d"),
            "publish_at_1": article.publish_at.strftime("%H:%M:%S"),
            "seo_description": "",
            "attachments-TOTAL_FORMS": "1",
            "attachments-INITIAL_FORMS": "0",
            "attachments-MIN_NUM_FORMS": "0",
            "attachments-MAX_NUM_FORMS": "1000",
            "attachments-0-title": title,
            "attachments-0-file": ContentFile(content, name=name),
            "attachments-0-position": "0",
        },
    )


@pytest.fixture
def editing(client, editor, articles):
    client.force_login(editor)
    return client


@pytest.mark.parametrize(
    ("content", "name", "kind"),
    [
        (PDF, "worksheet.pdf", "pdf"),
        (ooxml(DOCX_MAIN), "Charter.DOCX", "docx"),
        (ooxml(XLSX_MAIN), "budget.xlsx", "xlsx"),
    ],
)
def test_an_editor_uploads_a_pdf_docx_or_xlsx(editing, articles, content, name, kind):
    response = upload(editing, articles[Visibility.PREMIUM], content, name)

    assert response.status_code == 302, response.content.decode()[:2000]
    attachment = Attachment.objects.get()
    assert (attachment.filename, attachment.kind, attachment.size) == (name, kind, len(content))
    assert attachment.file.read() == content


@pytest.mark.parametrize(
    ("content", "name", "error"),
    [
        (EXE, "worksheet.pdf", "its content is not a PDF"),
        (b"just text, no PDF", "worksheet.pdf", "its content is not a PDF"),
        (ooxml(DOCX_MAIN), "budget.xlsx", "its content is not an Excel workbook"),
        (ooxml(XLSX_MAIN), "charter.docx", "its content is not a Word document"),
        (PDF, "charter.docx", "its content is not a Word document"),
        (b"PK\x03\x04 not really a zip", "charter.docx", "its content is not a Word document"),
        (EXE, "setup.exe", "setup.exe is none of those"),
        (PDF, "worksheet", "worksheet is none of those"),
    ],
    ids=[
        "exe-renamed-pdf",
        "text-renamed-pdf",
        "docx-renamed-xlsx",
        "xlsx-renamed-docx",
        "pdf-renamed-docx",
        "broken-zip",
        "exe",
        "no-extension",
    ],
)
def test_an_upload_that_is_not_what_its_name_says_is_refused(
    editing, articles, content, name, error
):
    response = upload(editing, articles[Visibility.PREMIUM], content, name)

    assert response.status_code == 200
    assert error in unescape(response.content.decode())
    assert not Attachment.objects.exists()


def test_an_upload_over_the_limit_is_refused_naming_both_sizes(editing, articles, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024

    response = upload(editing, articles[Visibility.PREMIUM], PDF + bytes(2000), "big.pdf")

    assert response.status_code == 200
    assert "attachments may be at most 1.0\xa0KB (ATTACHMENT_MAX_BYTES)" in unescape(
        response.content.decode()
    )
    assert not Attachment.objects.exists()


def test_the_admin_links_the_file_through_the_download_view_only(editing, worksheet):
    html = editing.get(f"/admin/articles/article/{worksheet.article.pk}/change/").content.decode()

    assert f"/articles/premium-article/downloads/{worksheet.pk}/" in html
    assert worksheet.file.name not in html


def test_renaming_an_attachment_keeps_its_file_and_replacing_it_deletes_the_old_one(
    editing, worksheet, media_root, django_capture_on_commit_callbacks
):
    article, old_file = worksheet.article, Path(media_root) / worksheet.file.name
    form = {
        "title": article.title,
        "slug": article.slug,
        "topic": article.topic_id,
        "author": article.author_id,
        "summary": article.summary,
        "intro": article.intro,
        "body": article.body,
        "visibility": article.visibility,
        "meter": article.meter,
        "status": article.status,
        "publish_at_0": article.publish_at.strftime("%Y-%m-%d"),
        "publish_at_1": article.publish_at.strftime("%H:%M:%S"),
        "attachments-TOTAL_FORMS": "1",
        "attachments-INITIAL_FORMS": "1",
        "attachments-0-id": worksheet.pk,
        "attachments-0-article": article.pk,
        "attachments-0-title": "Feedback worksheet, renamed",
        "attachments-0-position": "0",
    }
    url = f"/admin/articles/article/{article.pk}/change/"

    assert editing.post(url, form).status_code == 302
    worksheet.refresh_from_db()
    assert worksheet.title == "Feedback worksheet, renamed" and old_file.read_bytes() == PDF

    new_pdf = worksheet_pdf(["Second edition"])
    with django_capture_on_commit_callbacks(execute=True):
        form["attachments-0-file"] = ContentFile(new_pdf, name="second-edition.pdf")
        assert editing.post(url, form).status_code == 302

    worksheet.refresh_from_db()
    assert worksheet.file.read() == new_pdf and worksheet.filename == "second-edition.pdf"
    assert not old_file.exists()
