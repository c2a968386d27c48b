"""`never_cache` as Django's decorator sets it, with the headers written directly when the view set none of its own.

Why: Django's decorator parses and rewrites Cache-Control twice and formats the date through the e-mail package on
every response, 123 of the payment-status poll's 2,370 thousand instructions a request in one process against 31
for these headers written directly (bench/instructions.py), and the poll, which every paying guest's browser sends
every 2 s, is below its target of half /healthz's rate (bench/poll.py). A response that already carries
Cache-Control or Expires goes through Django's own `add_never_cache_headers`, which merges with them.
"""

import time
from functools import wraps

from django.utils.cache import add_never_cache_headers
from django.utils.http import http_date

# What add_never_cache_headers writes on a response without caching headers of its own.
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"

_expires: tuple[int, str] = (0, "")  # the last second asked for, and its HTTP date


def _http_date_now() -> str:
    """http_date(time.time()), worked out once a second (an HTTP date has no finer part)."""
    global _expires
    second = int(time.time())
    known = _expires
    if known[0] != second:
        known = (second, http_date(second))
        _expires = known
    return known[1]


def never_cache(view):
    """Mark a view's responses as never to be cached, as django.views.decorators.cache.never_cache does."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not hasattr(request, "META"):  # as Django's: a method needs method_decorator
            raise TypeError("never_cache didn't receive an HttpRequest. Decorating a method? Use method_decorator.")
        response = view(request, *args, **kwargs)
        if "Cache-Control" in response or "Expires" in response:
            add_never_cache_headers(response)
        else:
            response.headers["Expires"] = _http_date_now()
            response.headers["Cache-Control"] = NEVER_CACHE
        return response

    return wrapped
