"""The page Checkout returns to (/billing/success/): pending until paid, and only for the member
whose session it is."""

from billing.models import Subscription
from tests.billing.conftest import pay, start_checkout


def test_the_success_page_before_payment_says_pending_and_asks_for_nothing(
    client, oscar, stripe_plans
):
    session_id = start_checkout(client, stripe_plans["month"])

    html = client.get(f"/billing/success/?session_id={session_id}").content.decode()

    assert "Your payment is pending" in html
    assert "/checkout/" not in html and "Subscribe" not in html
    assert not Subscription.objects.exists()


def test_another_members_session_is_not_found(client, oscar, make_member, stripe_plans, standin):
    session_id = start_checkout(client, stripe_plans["month"])
    pay(standin, f"{standin}/checkout/{session_id}")
    client.force_login(make_member("mallory@example.com", trial="over"))

    assert client.get(f"/billing/success/?session_id={session_id}").status_code == 404
    assert client.get("/billing/success/?session_id=cs_test_nonexistent").status_code == 404
    assert client.get("/billing/success/").status_code == 404
    assert not Subscription.objects.exists()
