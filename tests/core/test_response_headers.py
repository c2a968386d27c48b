"""Headers our middleware and decorators write in place of Django's, for speed (core.middleware.
ContentSecurityPolicyMiddleware, core.cache_control.never_cache): on every kind of response, the same as Django's."""

import datetime

import pytest
import time_machine
from django.http import HttpResponse
from django.middleware.csp import ContentSecurityPolicyMiddleware as DjangoCspMiddleware
from django.test import RequestFactory
from django.utils.csp import CSP
from django.views.decorators.cache import never_cache as django_never_cache
from django.views.decorators.csp import csp_override, csp_report_only_override

from core.cache_control import never_cache
from core.middleware import ContentSecurityPolicyMiddleware

ENFORCED = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "img-src": {CSP.SELF, "data:", "https://photos.example.com"},
    "upgrade-insecure-requests": True,
    "frame-src": None,
}
REPORTED = {"default-src": [CSP.NONE], "style-src": [CSP.SELF, CSP.NONCE], "report-uri": "/csp-reports/"}
OVERRIDE = {"default-src": [CSP.SELF], "script-src": [CSP.NONCE, "https://cdn.example.com"]}


def a_view(*, use_nonce: bool, header: str | None = None):
    def view(request):
        response = HttpResponse(f"<script nonce='{request._csp_nonce}'></script>" if use_nonce else "<p>page</p>")
        if header:
            response[CSP.HEADER_ENFORCE] = header
        return response

    return view


VIEWS = {
    "nonce used": a_view(use_nonce=True),
    "no nonce": a_view(use_nonce=False),
    "its own header": a_view(use_nonce=True, header="default-src 'none'"),
    "override, nonce used": csp_override(OVERRIDE)(a_view(use_nonce=True)),
    "override, no nonce": csp_override(OVERRIDE)(a_view(use_nonce=False)),
    "empty override": csp_override({})(a_view(use_nonce=True)),
    "report-only override": csp_report_only_override(OVERRIDE)(a_view(use_nonce=True)),
}


def csp_headers(middleware_class, view) -> dict[str, str | None]:
    response = middleware_class(view)(RequestFactory().get("/"))
    nonce = response.content.decode().partition("nonce='")[2].partition("'")[0]
    policies = {str(header): response.get(str(header)) for header in (CSP.HEADER_ENFORCE, CSP.HEADER_REPORT_ONLY)}
    # Each response has its own nonce: compare the policies with it named.
    return {
        header: policy.replace(nonce, "<nonce>") if policy and nonce else policy for header, policy in policies.items()
    }


@pytest.mark.parametrize("reported", [{}, REPORTED], ids=["enforced only", "and report-only"])
@pytest.mark.parametrize("view", VIEWS.values(), ids=VIEWS.keys())
def test_the_csp_headers_are_djangos_for_every_kind_of_response(settings, view, reported):
    settings.SECURE_CSP = ENFORCED
    settings.SECURE_CSP_REPORT_ONLY = reported
    ours = [csp_headers(ContentSecurityPolicyMiddleware, view) for _ in range(2)]  # built, then remembered
    assert ours[0] == ours[1] == csp_headers(DjangoCspMiddleware, view)


def test_a_changed_csp_setting_changes_the_header_at_once(settings):
    middleware = ContentSecurityPolicyMiddleware(a_view(use_nonce=False))
    settings.SECURE_CSP = {"default-src": [CSP.SELF]}
    assert middleware(RequestFactory().get("/"))[CSP.HEADER_ENFORCE] == "default-src 'self'"
    settings.SECURE_CSP = {"default-src": [CSP.NONE]}
    assert middleware(RequestFactory().get("/"))[CSP.HEADER_ENFORCE] == "default-src 'none'"


def test_two_responses_get_their_own_nonces(client, db):
    policies = [client.get("/accounts/login/")[CSP.HEADER_ENFORCE] for _ in range(2)]
    assert all("'nonce-" in policy for policy in policies) and policies[0] != policies[1]


CACHE_HEADERS = ("Expires", "Cache-Control")


def responding(**headers):
    def view(request):
        return HttpResponse("<p>page</p>", headers=headers)

    return view


@pytest.mark.parametrize(
    "headers",
    [{}, {"Cache-Control": "public, max-age=60"}, {"Cache-Control": "no-transform"}, {"Expires": "0"}],
    ids=["none of its own", "public", "another directive", "its own expiry"],
)
def test_never_cache_writes_what_djangos_writes(headers):
    request = RequestFactory().get("/")
    # Twice in one second, then in the next: the date is worked out once a second.
    for moment in ("2027-03-01 09:15:30.250", "2027-03-01 09:15:30.900", "2027-03-01 09:15:31.100"):
        with time_machine.travel(datetime.datetime.fromisoformat(moment + "+03:00"), tick=False):
            ours = never_cache(responding(**headers))(request)
            djangos = django_never_cache(responding(**headers))(request)
        assert [ours.get(name) for name in CACHE_HEADERS] == [djangos.get(name) for name in CACHE_HEADERS]
        assert list(ours.headers) == list(djangos.headers)  # in the same order


def test_never_cache_refuses_what_is_not_a_request():
    with pytest.raises(TypeError, match="method_decorator"):
        never_cache(responding())(object())
