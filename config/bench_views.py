"""The ceiling of `make bench`: the cheapest response this site can give.

It passes through the same gunicorn, WSGI handler and middleware as every page, and does
nothing else, so a page's requests per second divided by this view's, measured in the same
run, says how much of the machine the page itself costs. Mounted at /_ceiling/ only when
BENCH_CEILING is on (bench/web_bench.py sets it).
"""

from django.http import HttpResponse


def hello(request):
    return HttpResponse("Hello, world.", content_type="text/plain")
