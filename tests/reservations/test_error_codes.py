"""Refusals carry a machine-readable code beside the sentence a guest reads (the API answers with the code)."""

import datetime
import uuid

import pytest
from django.utils import timezone

from listings.selectors import stay_quote
from mpesa.services import PaymentError, payment_start
from reservations.services import BookingError, GuestData, booking_cancel, booking_hold, booking_hold_submission
from tests.helpers.stays import NOW, stay
from tests.listings.builders import make_listing, set_night

pytestmark = pytest.mark.django_db


def _submit(user, listing, check_in, check_out, *, total=None, key=None, guests=None):
    guests = guests or [GuestData(full_name=user.full_name, email=user.email)]
    quote = stay_quote(listing=listing, stay=stay(check_in, check_out), guests=len(guests), now=NOW)
    return booking_hold_submission(
        booker=user,
        listing_id=listing.pk,
        stay=stay(check_in, check_out),
        guests=guests,
        shown_total_kes=quote.total_kes if total is None else total,
        idempotency_key=key or uuid.uuid4().hex,
        now=NOW,
    )


def test_stay_rules_are_named_by_code(host, guest):
    listing = make_listing(host, min_nights=3, max_guests=2, max_nights=10)
    cases = [
        ((10, 11), 1, "min_nights"),
        ((10, 13), 3, "max_guests"),
        ((10, 25), 1, "max_nights"),
        ((10, 10), 1, "invalid_dates"),
    ]
    for (check_in, check_out), guests, code in cases:
        quote = stay_quote(listing=listing, stay=stay(check_in, check_out), guests=guests, now=NOW)
        assert (quote.bookable, quote.code) == (False, code), quote.reason
    set_night(listing, stay(12, 13).check_in, blocked=True)
    quote = stay_quote(listing=listing, stay=stay(10, 14), guests=1, now=NOW)
    assert quote.code == "dates_taken" and quote.reason.startswith("Not available")
    assert stay_quote(listing=listing, stay=stay(20, 23), guests=1, now=NOW).code == ""


def test_a_hold_refused_by_a_rule_or_a_price_carries_its_code_and_keeps_its_sentence(host, guest, make_user):
    listing = make_listing(host, min_nights=2)
    with pytest.raises(BookingError) as refused:
        _submit(guest, listing, 10, 11, total=10_000)
    assert refused.value.code == "min_nights" and str(refused.value).startswith("Minimum stay is 2 nights")
    with pytest.raises(BookingError) as changed:
        _submit(guest, listing, 10, 13, total=1)
    assert changed.value.code == "price_changed" and changed.value.quote.total_kes == 30_000
    assert str(changed.value) == "The price changed to KES 30,000 while you were booking."
    _submit(guest, listing, 10, 13)
    other = make_user(email="other@example.com")
    with pytest.raises(BookingError) as taken:
        _submit(other, listing, 11, 14)
    assert taken.value.code == "dates_taken"


def test_the_unpaid_holds_limit_is_a_limit_with_a_retry_after(host, guest, settings):
    settings.BOOKING_MAX_UNPAID_HOLDS = 1
    listing = make_listing(host)
    _submit(guest, listing, 10, 12)
    with pytest.raises(BookingError) as limited:
        _submit(guest, listing, 20, 22)
    assert limited.value.code == "limit" and limited.value.retry_after > 0


def test_a_repeated_key_returns_its_booking_or_is_refused_with_another_body(host, guest):
    listing = make_listing(host)
    first = _submit(guest, listing, 10, 12, key="same-key-1")
    again = _submit(guest, listing, 10, 12, key="same-key-1", total=20_000)
    assert first.created and not again.created and again.booking.pk == first.booking.pk
    with pytest.raises(BookingError) as reused:
        _submit(guest, listing, 10, 13, key="same-key-1", total=30_000)
    assert reused.value.code == "idempotency_key_reused"
    friend = [GuestData(full_name=guest.full_name, email=guest.email), GuestData(full_name="Someone Else")]
    with pytest.raises(BookingError):
        _submit(guest, listing, 10, 12, key="same-key-1", guests=friend, total=20_000)


def test_the_form_path_still_returns_the_first_booking_for_a_reused_key(host, guest):
    listing = make_listing(host)
    first = _submit(guest, listing, 10, 12, key="form-key-1").booking
    quote = stay_quote(listing=listing, stay=stay(10, 13), guests=1, now=NOW)
    again = booking_hold(
        booker=guest,
        listing_id=listing.pk,
        stay=stay(10, 13),
        guests=[GuestData(full_name=guest.full_name)],
        shown_total_kes=quote.total_kes,
        idempotency_key="form-key-1",
        now=NOW,
    )
    assert again.pk == first.pk


def test_cancel_and_payment_refusals_carry_codes(host, guest, make_user):
    listing = make_listing(host)
    booking = _submit(guest, listing, 10, 12).booking
    with pytest.raises(PaymentError) as bad_phone:
        payment_start(booking=booking, user=guest, phone="12")
    assert bad_phone.value.code == "invalid_phone"
    stranger = make_user(email="stranger@example.com")
    with pytest.raises(PaymentError) as not_booker:
        payment_start(booking=booking, user=stranger, phone="0708374149")
    assert not_booker.value.code == "not_allowed"
    booking_cancel(booking=booking, user=guest, now=timezone.now())
    with pytest.raises(PaymentError) as closed:
        payment_start(booking=booking, user=guest, phone="0708374149")
    assert closed.value.code == "not_awaiting_payment"
    with pytest.raises(BookingError) as not_own:
        booking_cancel(booking=booking, user=stranger, now=timezone.now() + datetime.timedelta(minutes=1))
    assert not_own.value.code == "cannot_cancel"
