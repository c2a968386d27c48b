import datetime

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.db import IntegrityError, connection, transaction

from listings.selectors import stay_quote
from listings.services import ListingError, calendar_block, calendar_set_price
from reservations.models import Booking, BookingEvent, BookingGuest
from reservations.selectors import bookings_blocking, trips_for_user
from reservations.services import (
    BookingError,
    GuestData,
    _move,
    booking_cancel,
    booking_confirm,
    booking_guests_link_account,
    booking_hold,
    booking_host_cancel,
    bookings_expire_all,
)
from tests.helpers.stays import NOW, d, stay
from tests.listings.builders import set_night

pytestmark = pytest.mark.django_db

HOLD = datetime.timedelta(minutes=15)


def test_hold_freezes_the_quote_and_writes_one_event(hold, guest, listing):
    booking = hold(guest, 10, 13)
    assert booking.status == Booking.Status.HELD
    assert booking.blocks_until == NOW + HOLD
    assert booking.ref.startswith("NX-") and len(booking.ref) == 9
    assert booking.total_kes == 3 * 10_000 + 1_500
    assert [n["price_kes"] for n in booking.nights] == [10_000, 10_000, 10_000]
    assert booking.cancellation_policy == "moderate"
    assert list(booking.events.values_list("action", "to_status")) == [("held", "held")]
    assert booking.guests.get().user == guest


def test_a_held_booking_keeps_exactly_what_its_quote_freezes(hold, guest, listing):
    listing.weekly_discount_percent = 10
    listing.save(update_fields=["weekly_discount_percent"])
    set_night(listing, d(11), price_override_kes=12_000)
    quote = stay_quote(listing=listing, stay=stay(10, 18), guests=1, now=NOW)
    assert quote.discount_kes and quote.discount_name  # eight nights: a weekly discount, and a special price
    booking = hold(guest, 10, 18)
    booking.refresh_from_db()
    frozen = quote.frozen_fields()
    assert {field: getattr(booking, field) for field in frozen} == frozen


def test_hold_blocks_overlapping_dates_but_not_back_to_back(hold, guest, make_user):
    hold(guest, 10, 13)
    other = make_user(email="other@example.com")
    with pytest.raises(BookingError):
        hold(other, 12, 14)
    with pytest.raises(BookingError):
        hold(other, 9, 11)
    assert hold(other, 13, 15).status == Booking.Status.HELD  # check-out day is the next check-in
    assert hold(make_user(email="third@example.com"), 8, 10).status == Booking.Status.HELD


def test_a_lapsed_hold_no_longer_blocks_the_quote_or_a_new_hold(hold, guest, make_user, listing):
    first = hold(guest, 10, 13)
    later = NOW + HOLD + datetime.timedelta(seconds=1)
    assert stay_quote(listing=listing, stay=stay(10, 13), guests=1, now=later).bookable
    assert not bookings_blocking(now=later).filter(pk=first.pk).exists()
    second = hold(make_user(email="other@example.com"), 11, 12, now=later)
    assert second.status == Booking.Status.HELD
    first.refresh_from_db()
    assert first.status == Booking.Status.EXPIRED
    assert first.events.filter(action="expired", actor_kind="system").count() == 1


def test_price_change_while_booking_is_refused_with_the_new_total(guest, listing):
    set_night(listing, d(11), price_override_kes=12_000)
    with pytest.raises(BookingError, match="KES 33,500"):
        booking_hold(
            booker=guest,
            listing_id=listing.pk,
            stay=stay(10, 13),
            guests=[GuestData(full_name="Grace")],
            shown_total_kes=31_500,
            idempotency_key="k1",
            now=NOW,
        )
    assert not Booking.objects.exists()


def test_duplicate_submission_makes_one_hold(hold, guest):
    first = hold(guest, 10, 13, key="same-form")
    again = hold(guest, 10, 13, key="same-form")
    assert first.pk == again.pk
    assert Booking.objects.count() == 1


def test_third_unpaid_hold_is_refused(hold, guest, make_user):
    hold(guest, 1, 2)
    hold(guest, 3, 4)
    with pytest.raises(BookingError, match="2 unpaid bookings"):
        hold(guest, 5, 6)


def test_hold_rate_limit_per_user(hold, guest, settings):
    settings.BOOKING_HOLDS_PER_HOUR = 2
    settings.BOOKING_MAX_UNPAID_HOLDS = 10
    hold(guest, 1, 2)
    hold(guest, 3, 4)
    with pytest.raises(BookingError, match="too many times"):
        hold(guest, 5, 6)


def test_host_block_and_guest_hold_exclude_each_other(hold, guest, listing):
    calendar_block(listing=listing, first_night=d(20), last_night=d(21))
    with pytest.raises(BookingError):
        hold(guest, 19, 22)
    booking = hold(guest, 10, 12)
    with pytest.raises(ListingError, match=booking.ref):
        calendar_block(listing=listing, first_night=d(11), last_night=d(11))


def test_frozen_quote_and_policy_do_not_follow_later_changes(hold, guest, listing):
    booking = hold(guest, 10, 13)
    calendar_set_price(listing=listing, first_night=d(10), last_night=d(12), price_kes=20_000)
    listing.cancellation_policy = "strict"
    listing.cleaning_fee_kes = 5_000
    listing.save()
    booking.refresh_from_db()
    assert (booking.total_kes, booking.cancellation_policy, booking.cleaning_fee_kes) == (31_500, "moderate", 1_500)


def test_every_status_change_writes_exactly_one_event(hold, guest):
    booking = hold(guest, 10, 13)
    _move(booking, Booking.Status.AWAITING_PAYMENT, action="payment_started", message="x", actor_kind="mpesa")
    _move(booking, Booking.Status.AWAITING_PAYMENT, action="payment_started", message="x", actor_kind="mpesa")
    booking_confirm(booking_id=booking.pk)
    booking_confirm(booking_id=booking.pk)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED and booking.blocks_until is None
    assert list(booking.events.values_list("from_status", "to_status")) == [
        ("", "held"),
        ("held", "awaiting_payment"),
        ("awaiting_payment", "confirmed"),
    ]


def test_illegal_transitions_raise(hold, guest):
    booking = hold(guest, 10, 13)
    with pytest.raises(BookingError):
        _move(booking, Booking.Status.CONFIRMED, action="x", message="x", actor_kind="system")
    _move(booking, Booking.Status.CANCELLED, action="cancelled", message="x", actor_kind="user")
    for target in (Booking.Status.HELD, Booking.Status.CONFIRMED, Booking.Status.EXPIRED):
        with pytest.raises(BookingError):
            _move(booking, target, action="x", message="x", actor_kind="system")
    assert booking.events.count() == 2


def test_cancelling_a_hold_frees_the_nights_at_once(hold, guest, make_user):
    booking = hold(guest, 10, 13)
    booking_cancel(booking=booking, user=guest, now=NOW)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert hold(make_user(email="next@example.com"), 10, 13).status == Booking.Status.HELD


def test_cancel_is_refused_while_a_payment_is_in_flight(hold, guest):
    booking = hold(guest, 10, 13)
    _move(booking, Booking.Status.AWAITING_PAYMENT, action="payment_started", message="x", actor_kind="mpesa")
    with pytest.raises(BookingError, match="payment is in progress"):
        booking_cancel(booking=booking, user=guest, now=NOW)


def _confirmed_and_paid(hold, guest, django_capture_on_commit_callbacks):
    booking = hold(guest, 20, 23)
    _move(booking, Booking.Status.AWAITING_PAYMENT, action="payment_started", message="x", actor_kind="mpesa")
    Booking.objects.filter(pk=booking.pk).update(paid_kes=booking.total_kes)
    with django_capture_on_commit_callbacks(execute=True):
        return booking_confirm(booking_id=booking.pk)


@pytest.mark.parametrize(
    ("cancelled_at", "refund_kes"),
    [
        ((15, datetime.time(14, 0)), 30_000 + 1_500),  # exactly 5 days before 14:00 check-in
        ((15, datetime.time(14, 1)), 15_000 + 1_500),  # just after: half the nights
        ((19, datetime.time(14, 0)), 15_000 + 1_500),  # exactly 24 h before
        ((19, datetime.time(14, 1)), 1_500),  # later: cleaning fee only
    ],
)
def test_cancelling_a_confirmed_stay_records_the_refund_due(
    hold, guest, django_capture_on_commit_callbacks, cancelled_at, refund_kes
):
    booking = _confirmed_and_paid(hold, guest, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    day, time_of_day = cancelled_at
    at = datetime.datetime.combine(d(day), time_of_day, tzinfo=NOW.tzinfo)
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=booking, user=guest, reason="Plans changed", now=at)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert booking.refund_due_kes == refund_kes
    assert booking.events.last().details["refund_due_kes"] == refund_kes
    assert {m.to[0] for m in mail.outbox} == {"guest@example.com", "host@example.com"}


def test_host_cancels_a_confirmed_booking_with_a_full_refund(hold, guest, host, django_capture_on_commit_callbacks):
    booking = _confirmed_and_paid(hold, guest, django_capture_on_commit_callbacks)
    with pytest.raises(BookingError, match="why"):
        booking_host_cancel(booking=booking, host=host, reason="  ", now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        booking_host_cancel(booking=booking, host=host, reason="Water tank burst.", now=NOW)
    booking.refresh_from_db()
    assert (booking.status, booking.refund_due_kes) == (Booking.Status.CANCELLED, booking.total_kes)
    assert booking.events.last().actor_kind == "host"


def test_another_host_cannot_cancel(hold, guest, make_user, django_capture_on_commit_callbacks):
    booking = _confirmed_and_paid(hold, guest, django_capture_on_commit_callbacks)
    with pytest.raises(BookingError):
        booking_host_cancel(booking=booking, host=make_user(email="else@example.com"), reason="Mine now", now=NOW)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_confirmation_mails_every_guest_and_the_host(hold, guest, django_capture_on_commit_callbacks):
    guests = [
        GuestData(full_name="Grace Guest", email="guest@example.com"),
        GuestData(full_name="Peter Friend", email="peter@example.com"),
        GuestData(full_name="Little One", age_group="child"),
    ]
    booking = hold(guest, 10, 13, guests=guests)
    _move(booking, Booking.Status.AWAITING_PAYMENT, action="payment_started", message="x", actor_kind="mpesa")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        booking_confirm(booking_id=booking.pk)
    assert sorted(m.to[0] for m in mail.outbox) == ["guest@example.com", "host@example.com", "peter@example.com"]
    assert all(booking.ref in m.subject for m in mail.outbox)
    assert any(alt[1] == "text/html" for alt in mail.outbox[0].alternatives)


def test_late_payment_after_the_dates_were_taken_is_refused(hold, guest, make_user):
    first = hold(guest, 10, 13)
    later = NOW + HOLD + datetime.timedelta(minutes=1)
    hold(make_user(email="other@example.com"), 11, 12, now=later)
    first.refresh_from_db()
    assert first.status == Booking.Status.EXPIRED
    with pytest.raises(BookingError, match="after these dates were taken"):
        booking_confirm(booking_id=first.pk, now=later)
    first.refresh_from_db()
    assert first.status == Booking.Status.EXPIRED


def test_late_payment_with_the_nights_still_free_confirms(hold, guest):
    booking = hold(guest, 10, 13)
    confirmed = booking_confirm(booking_id=booking.pk, now=NOW + datetime.timedelta(hours=2))
    assert confirmed.status == Booking.Status.CONFIRMED
    assert list(confirmed.events.values_list("action", flat=True)) == ["held", "expired", "confirmed"]


def test_guests_are_linked_only_to_verified_accounts(hold, guest, make_user):
    verified = make_user(email="peter@example.com")
    unverified = make_user(email="mary@example.com")
    EmailAddress.objects.filter(user=unverified).update(verified=False)
    booking = hold(
        guest,
        10,
        13,
        guests=[
            GuestData(full_name="Grace", email="guest@example.com"),
            GuestData(full_name="Peter", email="PETER@example.com"),
            GuestData(full_name="Mary", email="mary@example.com"),
        ],
    )
    links = dict(booking.guests.values_list("full_name", "user"))
    assert links == {"Grace": guest.pk, "Peter": verified.pk, "Mary": None}
    assert trips_for_user(user=verified, now=NOW).upcoming == [booking]
    assert trips_for_user(user=unverified, now=NOW).empty


def test_verifying_an_address_later_links_the_guest_rows(hold, guest, make_user):
    booking = hold(
        guest, 10, 13, guests=[GuestData(full_name="Grace"), GuestData(full_name="Joy", email="joy@example.com")]
    )
    joy = make_user(email="joy@example.com")
    assert booking_guests_link_account(user=joy, email="joy@example.com") == 1
    assert BookingGuest.objects.get(full_name="Joy").user == joy
    assert trips_for_user(user=joy, now=NOW).upcoming == [booking]


def test_expire_holds_command_tidies_lapsed_holds(hold, guest):
    booking = hold(guest, 10, 13)
    assert bookings_expire_all(now=NOW) == 0
    assert bookings_expire_all(now=NOW + HOLD) == 1
    booking.refresh_from_db()
    assert booking.status == Booking.Status.EXPIRED


@pytest.mark.postgres
def test_exclusion_constraint_rejects_an_overlapping_insert(hold, guest, listing):
    booking = hold(guest, 10, 13)
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        Booking.objects.create(
            listing=listing,
            booker=guest,
            check_in=d(12),
            check_out=d(14),
            guest_count=1,
            idempotency_key="direct",
            nights_total_kes=1,
            total_kes=1,
            cancellation_policy="flexible",
            check_in_at=NOW,
        )
    assert excinfo.value.__cause__.pgcode == "23P01"
    assert Booking.objects.get() == booking


@pytest.mark.postgres
def test_booking_events_are_append_only(hold, guest):
    booking = hold(guest, 10, 13)
    event = booking.events.get()
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        BookingEvent.objects.filter(pk=event.pk).update(message="rewritten")
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        BookingEvent.objects.filter(pk=event.pk).delete()
    with connection.cursor() as cursor:
        cursor.execute("SELECT message FROM reservations_bookingevent WHERE id = %s", [event.pk])
        assert cursor.fetchone()[0] == event.message
