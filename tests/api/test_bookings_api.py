"""Bookings over the API: made with an Idempotency-Key, refused with a code, listed, read with the trip page's
disclosure rule, cancelled."""

import pytest
from django.db import transaction

from reservations.models import Booking
from reservations.services import GuestData
from tests.api.conftest import assert_problem
from tests.helpers.stays import d
from tests.listings.builders import make_listing, set_night

pytestmark = pytest.mark.django_db


def booking_body(listing, check_in=10, check_out=13, *, total=None, guests=None):
    return {
        "listing": listing.slug,
        "check_in": d(check_in).isoformat(),
        "check_out": d(check_out).isoformat(),
        "shown_total_kes": (check_out - check_in) * 10_000 + 1_500 if total is None else total,
        "guests": guests or [{"name": "Grace Guest", "email": "guest@example.com"}],
    }


def book(client, body, key="key-0001"):
    return client.post("/api/v1/bookings/", body, headers={"Idempotency-Key": key})


def test_a_booking_is_made_once_per_key(api_as, guest, listing):
    client = api_as(guest.email)
    first = book(client, booking_body(listing))
    assert first.status_code == 201, first.content
    booking = first.json()
    assert booking["reference"].startswith("NX-") and booking["status"] == "held"
    assert booking["blocks_until"].endswith("+03:00") and booking["total_kes"] == 31_500
    assert booking["is_booker"] is True and booking["payment"]["state"] == "ready"
    again = book(client, booking_body(listing))
    assert again.status_code == 200 and again.json()["reference"] == booking["reference"]
    other = book(client, booking_body(listing, 10, 14))
    assert_problem(other, 422, "idempotency_key_reused")
    assert Booking.objects.count() == 1


def test_the_key_is_required_and_checked(api_as, guest, listing):
    client = api_as(guest.email)
    for headers in ({}, {"Idempotency-Key": "short"}, {"Idempotency-Key": "bad key with spaces"}):
        body = assert_problem(client.post("/api/v1/bookings/", booking_body(listing), headers=headers), 422)
        assert "Idempotency-Key" in body["errors"]
    assert not Booking.objects.exists()


def test_refusals_carry_codes_and_store_nothing(api_as, guest, listing, make_user, settings):
    client = api_as(guest.email)
    changed = assert_problem(book(client, booking_body(listing, total=1), key="retry-key-1"), 409, "price_changed")
    assert changed["quote"]["total_kes"] == 31_500 and "KES 31,500" in changed["detail"]
    # Nothing was stored: the same key is judged afresh.
    assert book(client, booking_body(listing), key="retry-key-1").status_code == 201
    other = api_as(make_user(email="other@example.com").email)
    assert_problem(book(other, booking_body(listing, 11, 12, total=11_500)), 409, "dates_taken")
    short = make_listing(listing.host, min_nights=3)
    assert_problem(book(other, booking_body(short, 10, 11, total=10_000)), 422, "min_nights")
    crowd = [{"name": f"Guest {n}"} for n in range(6)]
    assert_problem(book(other, booking_body(short, 10, 14, total=40_000, guests=crowd)), 422, "max_guests")
    settings.BOOKING_MAX_UNPAID_HOLDS = 1
    limited = book(client, booking_body(short, 20, 23, total=30_000), key="limit-key-1")
    assert_problem(limited, 429, "limit")
    assert int(limited["Retry-After"]) > 0


def test_field_errors_are_named(api_as, guest, listing):
    client = api_as(guest.email)
    body = booking_body(listing, guests=[{"name": " ", "email": "not-mail", "phone": "12", "age_group": "elder"}])
    body["check_in"] = "tomorrow"
    errors = assert_problem(book(client, body), 422, "invalid")["errors"]
    assert {"check_in", "guests.0.name", "guests.0.email", "guests.0.phone", "guests.0.age_group"} <= set(errors)
    assert_problem(book(client, {**booking_body(listing), "listing": "no-such-place"}), 404, "not_found")


def test_signed_out_callers_get_401(anonymous, listing):
    assert_problem(anonymous.get("/api/v1/bookings/"), 401, "not_authenticated")
    assert_problem(book(anonymous, booking_body(listing)), 401, "not_authenticated")


@pytest.fixture
def group_trip(guest, make_user, hold, paid_payment):
    """A booking by the guest for themselves and a friend whose verified account is linked, and another typed
    guest without an account."""
    friend = make_user(email="friend@example.com", full_name="Faith Friend")
    guests = [
        GuestData(full_name=guest.full_name, email=guest.email, phone="254708374149"),
        GuestData(full_name=friend.full_name, email=friend.email, phone="254711111111"),
        GuestData(full_name="Tom Typed", email="tom@example.com", phone="254722222222"),
    ]
    booking = hold(guest, 10, 13, guests=guests)
    return booking, friend


def test_a_linked_guest_reads_the_trip_without_money_or_others_contacts(api_as, group_trip):
    booking, friend = group_trip
    body = api_as(friend.email).get(f"/api/v1/bookings/{booking.ref}/").json()
    assert body["is_booker"] is False and body["payment"] is None and body["refund_if_cancelled_kes"] is None
    assert body["private_details"] is None  # not confirmed yet
    contacts = {guest["name"]: (guest["email"], guest["phone"]) for guest in body["guests"]}
    assert contacts == {
        "Grace Guest": ("", ""),
        "Faith Friend": ("friend@example.com", "254711111111"),
        "Tom Typed": ("", ""),
    }
    assert all("KES" not in event["message"] for event in body["events"])
    listed = api_as(friend.email).get("/api/v1/bookings/").json()["results"]
    assert [(row["reference"], row["is_booker"]) for row in listed] == [(booking.ref, False)]


def test_the_private_address_shows_once_confirmed_to_the_booker_and_linked_guests(
    api_as, group_trip, guest, paid_payment
):
    booking, friend = group_trip
    booking.listing.street_address = "Plot 7, Beach Road"
    booking.listing.host_phone = "254712345678"
    booking.listing.save()
    with transaction.atomic():
        paid_payment(booking=booking)
    for person in (guest, friend):
        body = api_as(person.email).get(f"/api/v1/bookings/{booking.ref}/").json()
        assert body["status"] == "confirmed"
        assert body["private_details"]["street_address"] == "Plot 7, Beach Road"
        assert body["private_details"]["host_phone"] == "254712345678"
    booker_view = api_as(guest.email).get(f"/api/v1/bookings/{booking.ref}/").json()
    assert booker_view["payment"]["state"] == "confirmed" and booker_view["payment"]["paid_kes"] == 31_500
    assert booker_view["payment"]["receipts"] == ["UKK4H7TQ2M"]
    assert {g["phone"] for g in booker_view["guests"]} == {"254708374149", "254711111111", "254722222222"}


def test_the_booker_cancels_and_reads_the_refund(api_as, guest, listing):
    client = api_as(guest.email)
    reference = book(client, booking_body(listing)).json()["reference"]
    answer = client.post(f"/api/v1/bookings/{reference}/cancel/", {"reason": "Plans changed"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["booking"]["status"] == "cancelled" and body["refund_due_kes"] == 0
    again = client.post(f"/api/v1/bookings/{reference}/cancel/", {})
    assert again.status_code == 200 and again.json()["booking"]["status"] == "cancelled"


def test_a_linked_guest_cannot_cancel(api_as, group_trip):
    booking, friend = group_trip
    assert_problem(api_as(friend.email).post(f"/api/v1/bookings/{booking.ref}/cancel/", {}), 404, "not_found")


def test_a_blocked_night_is_dates_taken(api_as, guest, listing):
    set_night(listing, d(11), blocked=True)
    assert_problem(book(api_as(guest.email), booking_body(listing)), 409, "dates_taken")


def test_cancelling_a_paid_stay_answers_the_refund_due(api_as, guest, hold, paid_payment):
    booking = hold(guest, 10, 13)
    with transaction.atomic():
        paid_payment(booking=booking)
    answer = api_as(guest.email).post(f"/api/v1/bookings/{booking.ref}/cancel/", {"reason": "Sick"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    # Moderate policy, weeks before check-in: the nights and the cleaning fee come back.
    assert body["refund_due_kes"] == 31_500
    assert body["booking"]["status"] == "cancelled" and body["booking"]["payment"]["refund_due_kes"] == 31_500
