"""Cache-Control for the reading pages: shared by CDNs for anonymous readers, private for everyone else.

A view opts in with @public_when_anonymous. The middleware, first in MIDDLEWARE so it sees
the response after every other middleware has added its cookies, then marks the response:

- public (max-age and s-maxage PUBLIC_CACHE_SECONDS) only when the request carried no session
  and no message cookie, the reader is signed out, the answer is a 200 and it sets no cookie;
- otherwise private, no-cache: a signed-in reader's page is never stored by a shared cache, and
  their browser asks again each time, so a change of access shows on the very next request.

Both carry Vary: Cookie, so a cache that keys on cookies never hands one reader's page to another.
It lives beside the views it marks; settings.MIDDLEWARE names it by its dotted path, so the
articles app imports nothing from config.
"""

from django.conf import settings
from django.utils.cache import patch_cache_control, patch_vary_headers

from articles.caching import can_store_page, is_cacheable_anonymous_request


def public_when_anonymous(view):
    view.public_when_anonymous = True
    return view


class CacheHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not getattr(request, "public_when_anonymous", False):
            return response
        if is_cacheable_anonymous_request(request) and can_store_page(request, response):
            seconds = settings.PUBLIC_CACHE_SECONDS
            patch_cache_control(response, public=True, max_age=seconds, s_maxage=seconds)
        else:
            patch_cache_control(response, private=True, no_cache=True)
        patch_vary_headers(response, ["Cookie"])
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        request.public_when_anonymous = getattr(view_func, "public_when_anonymous", False)
