"""The database connection (DATABASES in config/settings.py): persistent and health-checked, so
the request after PostgreSQL dropped one gets a new one instead of an error."""

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import RequestFactory


def wsgi_get(path):
    """One request as a WSGI server makes it, with Django's request_started/finished
    signals (which the test client turns off): that is where connections are checked."""
    statuses = []
    response = WSGIHandler()(
        RequestFactory().get(path).environ,
        lambda status, headers, exc_info=None: statuses.append(status),
    )
    b"".join(response)
    response.close()
    return int(statuses[0].split()[0])


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates a PostgreSQL backend")
def test_after_postgresql_drops_the_connection_the_next_request_succeeds(articles):
    import psycopg

    assert wsgi_get("/articles/public-article/") == 200
    old_pid = connection.connection.info.backend_pid
    params = connection.settings_dict
    with psycopg.connect(
        dbname=params["NAME"],
        user=params["USER"],
        host=params["HOST"],
        port=params["PORT"] or 5432,
        password=params["PASSWORD"] or None,
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [old_pid])

    # another article: the first is now served from the page cache, without the database
    assert wsgi_get("/articles/members-article/") == 200
    assert connection.connection.info.backend_pid != old_pid
