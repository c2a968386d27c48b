"""A minute's cache of whole pages for anonymous visitors: the home page and undated searches, nothing else.

Issue 21 allows it only for anonymous pages that show no money owed and no availability at the moment of booking,
for at most a minute, and nothing per user. Figure that justifies it (bench/demo_pages.py, demo data, gunicorn):
computed ("home, cold"), the home page costs ~7 ms of server CPU a request, 0.07-0.09 of /healthz's; from this
cache ("home, warm") 0.8 ms, 0.64-0.79 of /healthz's (the undated search: ~9 ms and 1.0 ms). The bench prints both.

What differs between two anonymous visitors of the same URL is kept out of the stored page: the CSP nonce (a fresh
one in every response's header) is rendered as a placeholder, stored that way, and every response, the first one
included, gets its own nonce written in. A page that asks for the real nonce, or for a CSRF token (each visitor's own,
matching their cookie; the layout prints none for anonymous visitors), is never stored: unstorable, never wrong.

Each gunicorn process keeps its own copy (the "pages" cache, in memory): a hit costs no query, and no page is
older than a minute in any process.
"""

import hashlib
from collections.abc import Callable
from functools import cache, wraps

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.middleware.csp import get_nonce
from django.utils.crypto import salted_hmac

PAGE_CACHE = "pages"
MAX_SECONDS = 60


@cache
def _nonce_placeholder(secret_key: str) -> str:
    """The string that stands for the CSP nonce in a stored page: the same in every process (derived from
    SECRET_KEY), unguessable from outside, and made of characters that need no escaping."""
    return salted_hmac("core.page_cache", "csp-nonce", secret=secret_key, algorithm="sha256").hexdigest()


def nonce_placeholder() -> str:
    return _nonce_placeholder(settings.SECRET_KEY)


def _visitor_may_share(request: HttpRequest) -> bool:
    """An anonymous GET with no message waiting for it (counting them does not mark them read)."""
    if request.method != "GET" or request.user.is_authenticated:
        return False
    return len(get_messages(request)) == 0


def _key(request: HttpRequest) -> str:
    headers = request.headers
    # The URL (its whole query: the header's search box prints `where`) and the htmx headers that pick a fragment.
    identity = "\n".join(
        (request.get_host(), request.get_full_path(), headers.get("HX-Request", ""), headers.get("HX-Boosted", ""))
    )
    return "page:" + hashlib.sha256(identity.encode()).hexdigest()


def _render_for_cache(view, request, args, kwargs) -> tuple[HttpResponse, tuple | None]:
    """The view's response, rendered with placeholders, and what to store (None when it must not be stored)."""
    nonce = get_nonce(request)
    token_asked = request.META.pop("CSRF_COOKIE_NEEDS_UPDATE", None)
    request._csp_nonce = nonce_placeholder()
    try:
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
    finally:
        request._csp_nonce = nonce
        real_token_used = request.META.pop("CSRF_COOKIE_NEEDS_UPDATE", None)
        if token_asked or real_token_used:
            request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    storable = (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not real_token_used
        and not nonce  # the nonce was generated while rendering: a real one is in the page
        and set(response.headers) <= {"Content-Type"}
    )
    stored = (response["Content-Type"], response.content) if storable else None
    return response, stored


def _written_in(content: bytes, request: HttpRequest) -> bytes:
    """The page with this response's CSP nonce in place of the placeholder."""
    placeholder = nonce_placeholder().encode()
    if placeholder in content:
        nonce = get_nonce(request)
        content = content.replace(placeholder, str(nonce if nonce is not None else "").encode())
    return content


def cache_anonymous_page(*, when: Callable[[HttpRequest], bool] = lambda request: True):
    """Serve the view's page to anonymous visitors from the pages cache for up to MAX_SECONDS, for the requests
    `when` accepts; signed-in visitors, messages waiting and anything but a plain 200 page always go to the view."""

    def decorator(view):
        @wraps(view)
        def cached_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            seconds = min(getattr(settings, "ANONYMOUS_PAGE_CACHE_SECONDS", MAX_SECONDS), MAX_SECONDS)
            if seconds <= 0 or not when(request) or not _visitor_may_share(request):
                return view(request, *args, **kwargs)
            pages = caches[PAGE_CACHE]
            key = _key(request)
            stored = pages.get(key)
            if stored is None:
                response, stored = _render_for_cache(view, request, args, kwargs)
                if stored is None:
                    if not response.streaming:
                        response.content = _written_in(response.content, request)
                    return response
                pages.set(key, stored, seconds)
            content_type, content = stored
            return HttpResponse(_written_in(content, request), content_type=content_type)

        return cached_view

    return decorator
