"""Steps a reader takes, in the browser."""

from tests.integration.browser.conftest import PASSWORD


def sign_in(page, email, password=PASSWORD):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert page.get_by_role("button", name="Log out").is_visible(), page.content()[:2000]
