"""A NUL (which PostgreSQL cannot store in text) anywhere in a path or a query string is a 404 or a 400, never a 500."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

NUL = "%00"
# A path() converter, or a named group of a re_path().
CONVERTER = re.compile(r"<(?:\w+:)?\w+>|\(\?P<\w+>[^)]*\)")


def _routes(patterns=None, prefix: str = "") -> list[str]:
    """Every route of the URL configuration, its converters written out as `<...>`."""
    routes = []
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern).lstrip("^").rstrip("$").replace("\\Z", "")
        if isinstance(pattern, URLResolver):
            routes += _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            routes.append(route)
    return sorted(set(routes))


def _paths_with_nul(route: str) -> list[str]:
    """Each argument of the route in turn holding a NUL; a route without one gets a NUL segment of its own."""
    filled = CONVERTER.sub("x", route)
    paths = []
    for match in CONVERTER.finditer(route):
        paths.append("/" + CONVERTER.sub("x", route[: match.start()]) + NUL + CONVERTER.sub("x", route[match.end() :]))
    paths.append("/" + filled + NUL)
    paths.append("/" + (filled.rstrip("/") + "/" if filled else "") + f"a{NUL}b/")
    return paths


ROUTES = [route for route in _routes() if not route.startswith(("static/", "media/"))]
# The platform's probe is answered before any other middleware and reads nothing from the request.
READS_NO_INPUT = {"healthz"}


def test_the_routes_are_found():
    assert "trips/<str:ref>/" in ROUTES and "payments/stk-callback/<str:token>/" in ROUTES and len(ROUTES) > 30


@pytest.fixture(params=["anonymous", "signed-in", "staff"])
def visitor(request, client, make_user):
    if request.param == "signed-in":
        client.force_login(make_user(email="visitor@example.com"))
    elif request.param == "staff":
        client.force_login(make_user(email="staff@example.com", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("route", ROUTES)
def test_a_nul_in_any_path_is_not_found(visitor, route):
    for path in _paths_with_nul(route):
        for method in ("get", "post"):
            response = getattr(visitor, method)(path)
            assert response.status_code in (301, 302, 400, 404), (method, path, response.status_code)


@pytest.mark.parametrize("route", ROUTES)
def test_a_nul_in_any_query_string_is_a_bad_request(visitor, route):
    path = "/" + CONVERTER.sub("x", route)
    for query in (f"q={NUL}", f"a{NUL}=1", f"check_in=2027-01-01{NUL}&page=1", "q=%2500%00"):
        for method in ("get", "post"):
            response = getattr(visitor, method)(f"{path}?{query}")
            expected = 200 if route in READS_NO_INPUT and method == "get" else 400
            if route in READS_NO_INPUT and method == "post":
                expected = 405
            assert response.status_code == expected, (method, path, query, response.status_code)


def test_the_answer_is_our_page_and_changes_nothing(client, make_user):
    client.force_login(make_user(email="visitor@example.com"))
    not_found = client.get(f"/trips/{NUL}/")
    assert not_found.status_code == 404 and "We could not find that page" in not_found.content.decode()
    bad = client.get(f"/listings/?where=kwale{NUL}")
    assert bad.status_code == 400 and "We could not read that address" in bad.content.decode()


def test_an_ordinary_percent_sign_still_works(client):
    assert client.get("/listings/?where=100%25").status_code == 200
