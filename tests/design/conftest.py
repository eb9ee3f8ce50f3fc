import pytest
from django.core.cache import cache

from articles.models import SiteSettings

AD_SENTENCE = "Workshops from the fictional Larkspur Learning."


@pytest.fixture(autouse=True)
def fresh_cache():
    """Pages and lookups are cached per process; each test starts from the database."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def site_settings(db):
    return SiteSettings.objects.create(
        headline="Become the manager your team deserves",
        subheadline="Short, practical guides, reviewed by people who have run teams.",
        trusted_by="Kestrel Freightworks\nOllander Bank\n\nQuillon Press\n",
        members_count=48200,
        countries_count=63,
        ad_snippet=f'<p><strong>{AD_SENTENCE}</strong> <a href="https://example.com/w">Book</a></p>',
    )
