from django.utils.functional import SimpleLazyObject

from accounts import entitlements


class AccessMiddleware:
    """Attaches request.access, the reader's access, resolved at most once and only if asked."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.access = SimpleLazyObject(lambda: entitlements.for_user(request.user))
        return self.get_response(request)
