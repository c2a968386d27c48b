"""Calls are limited per signed-in user, and per address for anonymous calls (the address as allauth finds it)."""

import pytest
import time_machine
from django.utils import timezone

from tests.api.conftest import assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _one_window():
    """The limits count in fixed minutes: each test runs inside one."""
    with time_machine.travel(timezone.now(), tick=False):
        yield


def test_anonymous_calls_are_limited_per_address_behind_the_trusted_proxy(anonymous, settings):
    settings.API_CALLS_PER_MINUTE_ANON = 3
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    first = {"X-Forwarded-For": "41.90.1.1"}
    for _ in range(3):
        assert anonymous.get("/api/v1/listings/", headers=first).status_code == 200
    limited = anonymous.get("/api/v1/listings/", headers=first)
    assert_problem(limited, 429, "limit")
    assert 0 < int(limited["Retry-After"]) <= 60
    # Another address behind the same proxy has its own allowance.
    assert anonymous.get("/api/v1/listings/", headers={"X-Forwarded-For": "41.90.2.2"}).status_code == 200


def test_signed_in_calls_are_limited_per_user_whatever_the_address(api_as, guest, make_user, settings):
    settings.API_CALLS_PER_MINUTE_USER = 2
    client = api_as(guest.email)
    for n in range(2):
        assert client.get("/api/v1/bookings/", headers={"X-Forwarded-For": f"10.0.0.{n}"}).status_code == 200
    assert_problem(client.get("/api/v1/bookings/", headers={"X-Forwarded-For": "10.0.0.9"}), 429, "limit")
    assert api_as(make_user(email="other@example.com").email).get("/api/v1/bookings/").status_code == 200
