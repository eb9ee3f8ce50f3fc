"""Steps a new member takes through the test client: sign up, open the link in the mail."""

import re

NEW_PASSWORD = "a-fresh-and-long-passphrase"


def confirmation_path(message) -> str:
    """The path of the verification link in a mail, as the member would click it."""
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^/\s]+/)", message.body)
    assert match, f"no confirmation link in:\n{message.body}"
    return match.group(1)


def sign_up(client, email, password=NEW_PASSWORD, next_url=None):
    data = {"email": email, "password1": password}
    if next_url:
        data["next"] = next_url  # the hidden field the sign-up page carries from ?next=
    return client.post("/accounts/signup/", data)
