"""Errors the API answers outside a service's refusal: an unverified address, a browser without its CSRF token,
and a failure of our own, all as problem+json."""

import json

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.urls import include, path

from tests.api.conftest import assert_problem
from tests.helpers.stays import d

pytestmark = pytest.mark.django_db


def _booking(listing) -> dict:
    return {
        "listing": listing.slug,
        "check_in": d(10).isoformat(),
        "check_out": d(12).isoformat(),
        "shown_total_kes": 21_500,
        "guests": [{"name": "Grace Guest"}],
    }


def test_an_unverified_address_cannot_book_as_on_the_page(client, guest, listing):
    EmailAddress.objects.filter(user=guest).update(verified=False)
    client.force_login(guest)
    answer = client.post(
        "/api/v1/bookings/", json.dumps(_booking(listing)), content_type="application/json",
        headers={"Idempotency-Key": "unverified-1"},
    )  # fmt: skip
    assert_problem(answer, 403, "email_unverified")


def test_a_browser_session_needs_its_csrf_token(guest, listing):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(guest)
    headers = {"Idempotency-Key": "browser-key-1"}
    refused = browser.post("/api/v1/bookings/", json.dumps(_booking(listing)), content_type="application/json",
                           headers=headers)  # fmt: skip
    assert_problem(refused, 403)
    assert "CSRF" in refused.json()["detail"]
    browser.get("/")  # the page sets the CSRF cookie, as a browser session has it
    token = browser.cookies["csrftoken"].value
    made = browser.post("/api/v1/bookings/", json.dumps(_booking(listing)), content_type="application/json",
                        headers={**headers, "X-CSRFToken": token})  # fmt: skip
    assert made.status_code == 201, made.content
    assert browser.get("/api/v1/bookings/").json()["results"][0]["reference"] == made.json()["reference"]


def _broken(request):
    raise RuntimeError("a bug of ours")


urlpatterns = [
    path("api/v1/broken/", _broken),
    path("", include("config.urls")),
]


def test_a_failure_of_ours_is_a_problem_not_the_html_500_page(settings):
    settings.ROOT_URLCONF = __name__
    answer = Client(raise_request_exception=False).get("/api/v1/broken/")
    body = assert_problem(answer, 500, "error")
    assert body["instance"] == "/api/v1/broken/" and "bug" not in json.dumps(body)
    page = Client(raise_request_exception=False).get("/api/v1/nothing-here/")
    assert_problem(page, 404, "not_found")
