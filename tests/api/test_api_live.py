"""The API over real HTTP against the live server: two submissions of one key at the same instant, and a whole
journey from sign-up to a booking confirmed by an M-Pesa payment in the emulator."""

import re
import threading

import pytest
import requests
from django.core import mail

from daraja_emulator import dispatcher
from reservations.models import Booking
from tests.daraja import use_emulator
from tests.helpers.stays import d
from tests.helpers.waiting import wait_for
from tests.listings.builders import make_listing

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _sign_in(base: str, email: str, password: str = "nexus-demo") -> dict:
    credentials = {"email": email, "password": password}
    answer = requests.post(f"{base}/_allauth/app/v1/auth/login", json=credentials, timeout=10)
    assert answer.status_code == 200, answer.text
    return {"X-Session-Token": answer.json()["meta"]["session_token"]}


def _body(listing, check_in=10, check_out=13):
    return {
        "listing": listing.slug,
        "check_in": d(check_in).isoformat(),
        "check_out": d(check_out).isoformat(),
        "shown_total_kes": (check_out - check_in) * 10_000,
        "guests": [{"name": "Grace Guest"}],
    }


def _at_once(calls: list) -> list[requests.Response]:
    """Run the calls from threads released together; every answer, in order."""
    barrier = threading.Barrier(len(calls))
    answers: list = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        answers[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_two_concurrent_requests_with_one_key_make_one_booking(live_server, guest, host):
    listing = make_listing(host)
    headers = {**_sign_in(live_server.url, guest.email), "Idempotency-Key": "race-key-0001"}
    url = f"{live_server.url}/api/v1/bookings/"
    answers = _at_once([lambda: requests.post(url, json=_body(listing), headers=headers, timeout=30)] * 4)
    assert sorted(answer.status_code for answer in answers) == [200, 200, 200, 201]
    assert len({answer.json()["reference"] for answer in answers}) == 1
    assert Booking.objects.count() == 1


def test_one_key_on_two_listings_at_once_makes_one_booking_and_no_5xx(live_server, guest, host):
    first, second = make_listing(host), make_listing(host)
    headers = {**_sign_in(live_server.url, guest.email), "Idempotency-Key": "race-key-0002"}
    url = f"{live_server.url}/api/v1/bookings/"
    answers = _at_once(
        [
            lambda: requests.post(url, json=_body(first), headers=headers, timeout=30),
            lambda: requests.post(url, json=_body(second), headers=headers, timeout=30),
        ]
    )
    assert sorted(answer.status_code for answer in answers) == [201, 422]
    refused = next(answer for answer in answers if answer.status_code == 422)
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert refused.json()["code"] == "idempotency_key_reused"
    assert Booking.objects.count() == 1


@pytest.fixture
def emulated_daraja(settings, live_server):
    use_emulator(settings, live_server, MPESA_QUERY_AFTER_SECONDS=0, MPESA_QUERY_EVERY_SECONDS=0)
    yield
    dispatcher.stop()


def test_from_sign_up_to_a_confirmed_booking_over_http(live_server, host, emulated_daraja):
    listing = make_listing(host, nightly_price_kes=8_000)
    base = live_server.url
    signed_up = requests.post(
        f"{base}/_allauth/app/v1/auth/signup",
        json={"email": "new@example.com", "password": "a-long-passphrase-9", "full_name": "Neema New"},
        timeout=10,
    )
    assert signed_up.status_code == 401, signed_up.text  # signed up, e-mail to verify first
    flow_token = signed_up.json()["meta"]["session_token"]
    wait_for(lambda: any("new@example.com" in message.to for message in mail.outbox))
    message = next(message for message in mail.outbox if "new@example.com" in message.to)
    key = re.search(r"/accounts/confirm-email/([^/\s]+)/", message.body).group(1)
    verified = requests.post(
        f"{base}/_allauth/app/v1/auth/email/verify",
        json={"key": key},
        headers={"X-Session-Token": flow_token},
        timeout=10,
    )
    assert verified.status_code == 200, verified.text
    auth = {"X-Session-Token": verified.json()["meta"]["session_token"]}

    found = requests.get(
        f"{base}/api/v1/listings/",
        params={"check_in": d(10).isoformat(), "check_out": d(12).isoformat(), "guests": 2},
        timeout=10,
    ).json()
    assert [card["slug"] for card in found["results"]] == [listing.slug]
    quote = requests.get(
        f"{base}/api/v1/listings/{listing.slug}/quote/",
        params={"check_in": d(10).isoformat(), "check_out": d(12).isoformat(), "guests": 2},
        timeout=10,
    ).json()
    assert quote["bookable"] and quote["total_kes"] == 16_000
    body = {
        "listing": listing.slug,
        "check_in": d(10).isoformat(),
        "check_out": d(12).isoformat(),
        "shown_total_kes": quote["total_kes"],
        "guests": [{"name": "Neema New", "email": "new@example.com"}, {"name": "Baraka", "age_group": "child"}],
    }
    headers = {**auth, "Idempotency-Key": "journey-01"}
    made = requests.post(f"{base}/api/v1/bookings/", json=body, headers=headers, timeout=30)
    assert made.status_code == 201, made.text
    reference = made.json()["reference"]
    started = requests.post(
        f"{base}/api/v1/bookings/{reference}/payments/", json={"phone": "0700 000 001"}, headers=auth, timeout=30
    )
    assert started.status_code == 202, started.text
    payment = started.json()
    assert payment["amount_kes"] == 16_000 and payment["status"] in ("pending", "starting")

    def confirmed() -> bool:
        url = f"{base}/api/v1/bookings/{reference}/payments/{payment['id']}/"
        status = requests.get(url, headers=auth, timeout=10).json()
        return status["booking_status"] == "confirmed" and status["status"] == "succeeded"

    wait_for(confirmed, timeout=20)
    trip = requests.get(f"{base}/api/v1/bookings/{reference}/", headers=auth, timeout=10).json()
    assert trip["status"] == "confirmed" and trip["payment"]["paid_kes"] == 16_000 and trip["private_details"]
