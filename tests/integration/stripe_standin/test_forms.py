"""The stand-in decodes exactly what the stripe SDK encodes."""

import pytest
import stripe
from hypothesis import given
from hypothesis import strategies as st

from stripe_standin.forms import ParamError, parse_params

pytestmark = pytest.mark.standin

names = st.from_regex(r"[a-z_]{1,8}", fullmatch=True).filter(lambda n: n != "metadata")
leaves = st.text(max_size=12)
values = st.recursive(
    leaves,
    lambda inner: (
        st.dictionaries(names, inner, min_size=1, max_size=3)
        | st.lists(inner, min_size=1, max_size=3)
    ),
    max_leaves=8,
)


class RecordingHTTPClient(stripe.HTTPClient):
    """The SDK's public hook for its HTTP transport: keeps the body instead of sending it."""

    name = "recording"

    def request(self, method, url, headers, post_data=None, **kwargs):
        self.body = post_data
        return '{"id": "cus_1", "object": "customer"}', 200, {}

    def close(self):
        pass


_transport = RecordingHTTPClient()
_sdk = stripe.StripeClient("sk_test_forms", http_client=_transport, max_network_retries=0)


def sdk_encode(params):
    """The form body the SDK (stripe 16.1.0) sends for these params, byte for byte."""
    _sdk.v1.customers.create(params=params)
    return _transport.body


@given(st.dictionaries(names, values, max_size=4))
def test_whatever_the_sdk_encodes_decodes_to_the_same_params(params):
    assert parse_params(sdk_encode(params)) == params


def test_the_usual_checkout_parameters_decode_to_nested_dicts_and_lists():
    body = sdk_encode(
        {
            "line_items": [{"price": "price_1", "quantity": 1}],
            "subscription_data": {"trial_period_days": 14, "metadata": {"0": "digits stay a key"}},
            "allow_promotion_codes": True,
            "expand": ["subscription"],
        }
    )
    assert parse_params(body) == {
        "line_items": [{"price": "price_1", "quantity": "1"}],
        "subscription_data": {"trial_period_days": "14", "metadata": {"0": "digits stay a key"}},
        "allow_promotion_codes": "true",
        "expand": ["subscription"],
    }


def test_empty_brackets_append_as_curl_users_write_them():
    assert parse_params("expand[]=a&expand[]=b") == {"expand": ["a", "b"]}


def test_a_key_used_both_as_value_and_as_hash_is_refused():
    with pytest.raises(ParamError):
        parse_params("customer=cus_1&customer[email]=x")
