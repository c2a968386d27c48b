import secrets
import struct
from urllib.parse import unquote_plus, urlencode, urlsplit

from allauth.core.exceptions import RateLimited
from allauth.core.ratelimit import respond_429
from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import BadRequest
from django.http import Http404
from django.middleware.csp import ContentSecurityPolicyMiddleware as DjangoContentSecurityPolicyMiddleware
from django.middleware.csp import get_nonce
from django.middleware.gzip import GZipMiddleware as DjangoGZipMiddleware
from django.middleware.gzip import re_accepts_gzip
from django.shortcuts import resolve_url
from django.utils.cache import patch_vary_headers
from django.utils.csp import CSP, build_policy
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect
from isal import isal_zlib

from core.htmx import is_htmx_request


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
        if response.status_code not in (301, 302, 303, 307, 308) or not is_htmx_request(request):
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


# A gzip member's header (RFC 1952) before its file name: deflate, a file name follows (FNAME), no time, XFL 4 (the
# fastest algorithm), OS unknown; as gzip.GzipFile writes it at level 1.
_GZIP_HEADER = b"\x1f\x8b\x08\x08\x00\x00\x00\x00\x04\xff"


def _gzipped(content: bytes) -> bytes:
    """`content` gzipped at ISA-L's level 1, its header naming a file of random characters and random length
    (1 to 100), so that the compressed length of a page says nothing about a secret on it (BREACH), as Django does.

    The member is written around a raw deflate stream rather than through gzip.GzipFile, whose Python layers cost as
    much as compressing itself on a small response: 27 -> 15 microseconds for the payment-status poll's 1.6 KB
    fragment (every paying guest's browser, every 2 s; bench/poll.py prints its ratio to /healthz).

    Why ISA-L (the `isal` package) rather than zlib: its level 1 makes a stream as small as zlib's level 1 (the
    demo property page's 27.6 KB: 6,199 bytes against 6,245) in a quarter of the time (a search page's 27.0 KB in
    half), and its CRC-32 takes a tenth. In a serving process, alternating the two every 500 requests, a gzipped
    request's CPU: property page 1,058 -> 945 us, dated search 1,329 -> 1,252, the poll 513 -> 504;
    bench/demo_pages.py --gzip-too prints the gzipped pages' ratios to /healthz (the property page's 0.233-0.247
    against its target of 0.25 before)."""
    name = secrets.token_hex(50)[: 1 + secrets.randbelow(100)].encode("ascii")
    body = isal_zlib.compress(content, 1, -isal_zlib.MAX_WBITS)
    trailer = struct.pack("<II", isal_zlib.crc32(content), len(content) & 0xFFFFFFFF)  # CRC-32 and size, mod 2^32
    return b"".join((_GZIP_HEADER, name, b"\x00", body, trailer))


class GZipMiddleware(DjangoGZipMiddleware):
    """Django's GZipMiddleware, with a response built in memory (every page and fragment) compressed at a fast level
    (_gzipped) instead of zlib's 6; streamed responses are Django's.

    Why: at level 6 compressing cost 0.74 ms of CPU for the demo property page (47 KB) and 0.38 ms for a search page
    (29 KB), a tenth of each page's CPU for a client that accepts gzip (bench/demo_pages.py --accept-gzip); zlib's level
    1 cost 0.25 and 0.20 ms for 17% and 13% more bytes (7.2 KB instead of 6.1 KB), well inside bench/page_weight.py's
    budget, and _gzipped makes as many bytes for less again."""

    def process_response(self, request, response):
        if response.streaming or response.has_header("Content-Encoding") or len(response.content) < 200:
            return super().process_response(request, response)
        patch_vary_headers(response, ("Accept-Encoding",))
        if not re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
            return response
        compressed = _gzipped(response.content)
        if len(compressed) >= len(response.content):  # a JPEG, say: sent as it is
            return response
        response.content = compressed
        response.headers["Content-Length"] = str(len(compressed))
        etag = response.get("ETag")
        if etag and etag.startswith('"'):  # a strong ETag names the bytes as sent: weak for the compressed ones
            response.headers["ETag"] = "W/" + etag
        response.headers["Content-Encoding"] = "gzip"
        return response


# Stands for the nonce in a policy built once: random, so no configured source can contain it.
_NONCE_MARK = secrets.token_hex(16)


class ContentSecurityPolicyMiddleware(DjangoContentSecurityPolicyMiddleware):
    """Django's CSP middleware, with each configuration's policy built once and the response's nonce written into it,
    where Django builds the policy from the configuration on every response.

    Why: building SECURE_CSP's policy cost 46 of the payment-status poll's 2,470 thousand instructions a request in
    one process (bench/instructions.py); the poll is below its target of half /healthz's rate (bench/poll.py).
    A configuration is remembered by identity: settings and `csp_override` hand the same dictionary to every
    response, and a changed setting is a new one. Django's check that the nonce reaches templates (security.W027)
    looks for its own class by name; tests/core/test_views.py checks that the layout's script carries the header's
    nonce."""

    def __init__(self, get_response):
        super().__init__(get_response)
        self._built: dict[str, tuple[dict, str, str]] = {}  # header: (configuration, policy, policy with the mark)

    def _policy(self, header: str, config: dict, nonce) -> str:
        built = self._built.get(header)
        if built is None or built[0] is not config:
            built = (config, build_policy(config), build_policy(config, _NONCE_MARK))
            self._built[header] = built
        return built[2].replace(_NONCE_MARK, str(nonce)) if nonce else built[1]

    def process_response(self, request, response):
        nonce = get_nonce(request)
        for header, config in (
            (CSP.HEADER_ENFORCE, getattr(response, "_csp_config", settings.SECURE_CSP)),
            (CSP.HEADER_REPORT_ONLY, getattr(response, "_csp_ro_config", settings.SECURE_CSP_REPORT_ONLY)),
        ):
            # As Django's: a header the view set stays; an empty configuration sends none.
            if config and header not in response:
                response.headers[str(header)] = self._policy(str(header), config, nonce)
        return response
