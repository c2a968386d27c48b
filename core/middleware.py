from urllib.parse import unquote_plus, urlencode, urlsplit

from allauth.core.exceptions import RateLimited
from allauth.core.ratelimit import respond_429
from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import BadRequest
from django.http import Http404
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect


def _page_url(request) -> str:
    """The page the visitor is on: htmx's current URL when it is ours, else the requested path."""
    current = request.htmx.current_url if request.htmx else None
    if current and url_has_allowed_host_and_scheme(current, allowed_hosts={request.get_host()}):
        parts = urlsplit(current)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.get_full_path()


class HtmxAuthRedirectMiddleware:
    """An htmx request sent to sign-in is redirected as a whole page, never swapped into a fragment."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.htmx or response.status_code not in (301, 302, 303, 307, 308):
            return response
        login_path = resolve_url(settings.LOGIN_URL)
        if urlsplit(response.get("Location", "")).path != login_path:
            return response
        query = urlencode({REDIRECT_FIELD_NAME: _page_url(request)})
        return HttpResponseClientRedirect(f"{login_path}?{query}")


class HealthCheckMiddleware:
    """Answer /healthz before host checks, HTTPS redirects and sessions: the platform probes it over plain HTTP."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            from core.views import healthz

            return healthz(request)
        return self.get_response(request)


class UnstorableCharactersMiddleware:
    """A NUL in the path is a page that cannot exist (404) and in the query string a bad request (400).

    PostgreSQL cannot store NUL in text, so a lookup that reached the database with one would fail; refusing it
    here is the one rule for every URL, signed in or not.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info:
            raise Http404("A NUL character in the path.")
        if "\x00" in unquote_plus(request.META.get("QUERY_STRING", ""), errors="replace"):
            raise BadRequest("A NUL character in the query string.")
        return self.get_response(request)


class RateLimitedMiddleware:
    """allauth raises RateLimited from inside a sign-up or sign-in when a code was asked for the same number too
    soon (its own views catch it only when a code is sent again): answered with the 429 page, never a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RateLimited):
            return respond_429(request)
        return None
