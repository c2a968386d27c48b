"""Garbage in, 4xx out: malformed, oversized, mistyped and hostile bodies and parameters on every endpoint get a
client error as problem+json, never a 5xx and never an HTML page."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import ApiClient, sign_in
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db

GARBAGE_BODIES = [
    b"",
    b"{",
    b"not json at all",
    b"[]",
    b"[1, 2, 3]",
    b"null",
    b"42",
    b'"a string"',
    b'{"listing": null}',
    b'{"listing": ["a"], "guests": "everyone"}',
    b'{"guests": [null, 1, "x", {"name": {"first": "A"}}]}',
    b'{"check_in": "2026-02-30", "check_out": "99999-01-01"}',
    b'{"check_in": "0001-01-01", "check_out": "9999-12-31", "shown_total_kes": 1e308}',
    b'{"shown_total_kes": -1, "guests": []}',
    b'{"shown_total_kes": 99999999999999999999999999999}',
    b'{"name": "\\u0000", "phone": "\\u0000", "reason": "\\u0000", "title": "\\u0000"}',
    b'{"name": "\\ud800", "title": "\\ud800", "reason": "\\udfff", "phone": "\\ud800"}',
    '{"title": "Ünïcødé ☃ 🏠", "reason": "ok"}'.encode(),
    b'{"publish": "maybe", "amenities": "wifi", "max_guests": "lots", "first_night": [], "action": {}}',
    b'{"listing": "' + b"a" * 5000 + b'", "reason": "' + b"x" * 100_000 + b'"}',
    b"\xff\xfe\xfd",
    json.dumps({"guests": [{"name": "x"}] * 500}).encode(),
    ("[" * 3000 + "]" * 3000).encode(),
]

GARBAGE_QUERIES = [
    "guests=-1&check_in=yesterday&check_out=2026-13-45",
    "page=-5&sort=DROP%20TABLE",
    "page=99999999999999999999&where=" + "x" * 500,
    "amenities=rocket&amenities=&property_type=castle",
    "min_price=1e9&max_price=-3",
    "month=2026-99",
    "month=99999-01",
    "check_in=9999-12-31&check_out=9999-12-31",
    "check_in=0001-01-01&check_out=0001-01-02",
    "status=lost&listing=%FF%FE",
    "where=%F0%9F%8F%A0%ED%A0%80",
]


@pytest.fixture
def targets(host, guest, hold):
    listing = make_listing(host)
    booking = hold(guest, 10, 12)
    return {
        "listing": listing,
        "booking": booking,
        "guest": sign_in(guest.email),
        "host": sign_in(host.email),
    }


def post_paths(targets) -> list[tuple[ApiClient, str, str]]:
    slug, ref = targets["listing"].slug, targets["booking"].ref
    guest, host = targets["guest"], targets["host"]
    return [
        (guest, "post", "/api/v1/bookings/"),
        (guest, "post", f"/api/v1/bookings/{ref}/cancel/"),
        (guest, "post", f"/api/v1/bookings/{ref}/payments/"),
        (host, "post", "/api/v1/host/listings/"),
        (host, "patch", f"/api/v1/host/listings/{slug}/"),
        (host, "post", f"/api/v1/host/listings/{slug}/photos/"),
        (host, "post", f"/api/v1/host/listings/{slug}/calendar/"),
    ]


def get_paths(targets) -> list[tuple[ApiClient, str]]:
    slug, ref = targets["listing"].slug, targets["booking"].ref
    guest, host = targets["guest"], targets["host"]
    return [
        (guest, "/api/v1/listings/"),
        (guest, f"/api/v1/listings/{slug}/"),
        (guest, f"/api/v1/listings/{slug}/availability/"),
        (guest, f"/api/v1/listings/{slug}/quote/"),
        (guest, "/api/v1/bookings/"),
        (guest, f"/api/v1/bookings/{ref}/"),
        (host, "/api/v1/host/listings/"),
        (host, f"/api/v1/host/listings/{slug}/calendar/"),
        (host, "/api/v1/host/bookings/"),
    ]


def assert_client_error_or_success(answer, what) -> None:
    assert answer.status_code < 500, (what, answer.status_code, answer.content[:300])
    if answer.status_code >= 400:
        assert answer["Content-Type"].startswith("application/problem+json"), (what, answer["Content-Type"])
        assert answer.json()["status"] == answer.status_code


def test_garbage_bodies_get_4xx_problems(targets):
    for client, method, path in post_paths(targets):
        for body in GARBAGE_BODIES:
            headers = {"Idempotency-Key": "fuzz-key-0001"} if path == "/api/v1/bookings/" else {}
            for content_type in ("application/json", "text/plain", "application/x-www-form-urlencoded"):
                answer = getattr(client.client, method)(
                    path,
                    body,
                    content_type=content_type,
                    headers={**headers, "X-Session-Token": client.token},
                )
                assert_client_error_or_success(answer, (path, body[:60], content_type))
                if path == "/api/v1/bookings/" or path.endswith("/payments/"):
                    assert answer.status_code >= 400, (path, body[:60])


def test_garbage_parameters_get_4xx_problems_or_an_answer(targets):
    for client, path in get_paths(targets):
        for query in GARBAGE_QUERIES:
            assert_client_error_or_success(client.get(f"{path}?{query}"), (path, query))


def test_unknown_paths_and_methods_are_problems_not_pages(targets):
    guest = targets["guest"]
    for answer, status in (
        (guest.get("/api/v1/nowhere/"), 404),
        (guest.get("/api/v1/bookings/NX-\u00e9\u00e9/"), 404),
        (guest.get("/api/v1/listings/%00/"), 404),
        (guest.get("/api/v1/listings/?where=%00"), 400),
        (guest.delete("/api/v1/listings/"), 405),
        (guest.post("/api/v1/listings/", {}), 405),
    ):
        assert answer.status_code == status, answer.content[:200]
        assert answer["Content-Type"].startswith("application/problem+json")
    assert "GET" in guest.delete("/api/v1/listings/")["Allow"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
        max_leaves=20,
    )
    | st.fixed_dictionaries(
        {
            "listing": st.text(max_size=30),
            "check_in": st.text(max_size=12) | st.dates().map(str),
            "check_out": st.text(max_size=12) | st.dates().map(str),
            "shown_total_kes": st.integers() | st.text(max_size=5),
            "guests": st.lists(
                st.fixed_dictionaries(
                    {"name": st.text(max_size=20), "email": st.text(max_size=20), "phone": st.text(max_size=15)}
                ),
                max_size=3,
            ),
        }
    )
)
def test_random_booking_bodies_never_5xx(targets, body):
    answer = targets["guest"].post("/api/v1/bookings/", body, headers={"Idempotency-Key": "fuzz-key-0002"})
    assert_client_error_or_success(answer, body)
