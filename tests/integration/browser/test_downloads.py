"""Premium downloads in a real browser: a subscriber downloads the worksheet from the article's
page; the same download address gives a signed-out browser no bytes."""

from django.core.files.base import ContentFile

from accounts.models import SubscriptionStatus
from articles.demo_data import WORKSHEET, worksheet_pdf
from articles.models import Attachment
from tests.conftest import PASSWORD as MEMBER_PASSWORD
from tests.integration.browser.helpers import sign_in


def test_a_subscriber_downloads_the_worksheet_and_a_stranger_gets_no_bytes(
    chromium, live_server, page, demo_site, articles, make_member, make_subscription, screenshot
):
    pdf = worksheet_pdf(WORKSHEET["lines"])
    Attachment.objects.create(
        article=articles["premium"],
        title=WORKSHEET["title"],
        file=ContentFile(pdf, name=WORKSHEET["filename"]),
    )
    make_subscription(make_member("sue@example.com", trial="over"), SubscriptionStatus.ACTIVE)
    sign_in(page, "sue@example.com", MEMBER_PASSWORD)

    page.goto("/articles/premium-article/")
    link = page.get_by_role("link", name=WORKSHEET["title"])
    screenshot(page, "article-with-downloads")
    with page.expect_download() as started:
        link.click()
    download = started.value

    assert download.suggested_filename == "one-to-one-worksheet.pdf"
    with open(download.path(), "rb") as saved:
        assert saved.read() == pdf

    stranger = chromium.new_context(base_url=live_server.url)
    try:
        response = stranger.request.get(link.get_attribute("href"))
        assert response.status == 403
        assert b"%PDF" not in response.body()
        assert "content-disposition" not in response.headers
    finally:
        stranger.close()
