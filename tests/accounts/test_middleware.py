"""request.access (accounts/middleware.py): the reader's access, resolved at most once per
request, and only if something asks."""

from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.entitlements import State
from accounts.middleware import AccessMiddleware
from accounts.models import User
from articles.models import Visibility
from tests.conftest import SECRET_SENTENCES


def membership_lookups(queries) -> int:
    """How many times the reader's Membership was read: the one query access costs (or none,
    when it came with the member)."""
    return sum('"accounts_membership"' in q["sql"] for q in queries)


def test_a_request_that_never_asks_pays_nothing(make_member, django_assert_num_queries):
    request = RequestFactory().get("/anything/")
    request.user = make_member("tina@example.com", trial="active")
    middleware = AccessMiddleware(lambda request: HttpResponse("no access needed"))

    with django_assert_num_queries(0):
        response = middleware(request)

    assert response.content == b"no access needed"


def test_access_is_resolved_once_however_often_a_request_asks(make_member):
    request = RequestFactory().get("/anything/")
    request.user = User.objects.get(pk=make_member("tina@example.com", trial="active").pk)

    def view(request):
        answers = [request.access.state for _ in range(3)] + [request.access.has_premium]
        return HttpResponse(repr(answers))

    with CaptureQueriesContext(connection) as queries:
        response = AccessMiddleware(view)(request)

    assert membership_lookups(queries.captured_queries) == 1
    assert response.content.decode() == repr([State.TRIAL] * 3 + [True])


def test_the_article_page_resolves_the_readers_access_once(client, readers, articles):
    client.force_login(readers["in_trial"])

    with CaptureQueriesContext(connection) as queries:
        html = client.get("/articles/premium-article/").content.decode()

    assert SECRET_SENTENCES[Visibility.PREMIUM] in html
    # the session's member is loaded with their Membership: that one query is all access costs
    [member_query] = [
        q["sql"] for q in queries.captured_queries if '"accounts_membership"' in q["sql"]
    ]
    assert '"accounts_user"' in member_query
