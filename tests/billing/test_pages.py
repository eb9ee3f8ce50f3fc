"""The pricing page and the account page's billing section, as a reader sees them."""

from tests.pages import page

OUTAGE = "We couldn't reach our payment provider. Nothing was charged; please try again."


def test_the_paywall_subscribe_button_posts_the_entry_plan_to_checkout(
    client, articles, plans, make_member
):
    client.force_login(make_member("oscar@example.com", trial="over"))

    html = page(client, "/articles/premium-article/")

    assert 'action="/billing/checkout/"' in html and f'name="plan" value="{plans[0].pk}"' in html
