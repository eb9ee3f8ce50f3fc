"""Input as attackers send it, for the property tests of every form and of the Stripe webhook:
never a 500, and when the input is refused nothing in the database changes."""

from django.apps import apps
from django.contrib.sessions.models import Session
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# Text as attackers send it: control characters and NUL included, sometimes very long.
hostile_text = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.sampled_from(
        [
            "\x00",
            "' OR 1=1 --",
            "<script>alert(1)</script>",
            "a" * 5000,
            "%00",
            "../../etc/passwd",
            "²",
            "NaN",
            "-1",
        ]
    ),
)


def form_data(fields):
    """The form's own field names with hostile values, sometimes missing, plus strays."""
    known = st.fixed_dictionaries({}, optional=dict.fromkeys(fields, hostile_text))
    stray = st.dictionaries(st.text(min_size=1, max_size=20), hostile_text, max_size=3)
    return st.builds(lambda a, b: {**b, **a}, known, stray)


def row_counts(client, warm_up_url):
    """Every table's row count, but sessions, which a visit may legitimately start. The page
    is fetched first, so rows a first visit creates on purpose (the site settings) are there."""
    client.get(warm_up_url)
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model is not Session
    }
