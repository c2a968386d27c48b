"""Listings reads which nights bookings take through listings.taken_nights, the provider reservations registers at
start-up. Whatever listings reads through it must be exactly what bookings_blocking, the one definition of
"taken", says: for every kind of booking, at clocks before and after holds lapse, for stays that touch a booking's
check-in and check-out days."""

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from core.clock import NAIROBI
from listings import taken_nights as taken_nights_module
from listings.selectors import (
    HOST_DASHBOARD_BOOKINGS,
    SearchQuery,
    Stay,
    host_upcoming_bookings,
    listing_booked_nights,
    listing_ids_matching,
    nights_settings_and_bookings,
    stay_quotes,
)
from listings.taken_nights import taken_nights
from reservations.models import Booking
from reservations.selectors import BookingsTakenNights, bookings_blocking
from reservations.services import booked_nights_fill
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db

# 10:00 on 1 Dec 2026 in Nairobi; the holds below were taken just now.
NOW = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=NAIROBI)
MINUTE = datetime.timedelta(minutes=1)
DAY = datetime.timedelta(days=1)
HELD_UNTIL = NOW + 10 * MINUTE
AWAITING_UNTIL = NOW + 20 * MINUTE
CLOCKS = [
    NOW - datetime.timedelta(hours=1),  # before either hold was taken: both live
    NOW,
    HELD_UNTIL - MINUTE,  # both holds live
    HELD_UNTIL,  # the hold lapses at its blocks_until (taken while blocks_until > now)
    HELD_UNTIL + MINUTE,  # the hold has lapsed, the payment is still awaited
    AWAITING_UNTIL,  # both have lapsed
    NOW + datetime.timedelta(days=3),  # days later: only confirmed stays hold nights
]


def d(day: int, month: int = 12) -> datetime.date:
    return datetime.date(2026, month, day)


@pytest.fixture
def host(make_user):
    return make_user(email="host@example.com", full_name="Juma Hamisi")


@pytest.fixture
def listings(host, make_user):
    """Five listings and bookings of every status, several back to back; the fifth listing has none."""
    guest = make_user(email="guest@example.com")
    places = [make_listing(host, title=f"Place {i}", max_nights=30, advance_notice_days=0) for i in range(5)]
    one, two, three, four, _ = places

    def book(listing, check_in, check_out, status, blocks_until=None):
        Booking.objects.create(
            listing=listing,
            booker=guest,
            check_in=check_in,
            check_out=check_out,
            guest_count=1,
            status=status,
            blocks_until=blocks_until,
            idempotency_key=f"{listing.pk}-{check_in}-{status}",
            nights_total_kes=1,
            total_kes=1,
            cancellation_policy="flexible",
            check_in_at=NOW,
        )

    book(one, d(10), d(13), "confirmed")
    book(one, d(13), d(15), "held", HELD_UNTIL)  # checks in on the day the confirmed stay checks out
    book(one, d(11), d(12), "expired", HELD_UNTIL - 5 * MINUTE)  # inside the confirmed stay, holds nothing
    book(two, d(11), d(12), "awaiting_payment", AWAITING_UNTIL)  # one night
    book(two, d(12), d(14), "cancelled")
    book(two, d(14), d(16), "confirmed")
    book(three, d(10), d(14), "cancelled")
    book(three, d(12), d(13), "expired")
    book(four, d(8), d(20), "held", AWAITING_UNTIL + MINUTE)  # a long stay around every range below
    book(four, d(20), d(22), "awaiting_payment", HELD_UNTIL)
    booked_nights_fill()  # written around the booking services: their kept nights filled as for existing rows
    return places


RANGES = [(d(start), d(start) + nights * DAY) for start in range(7, 23) for nights in (1, 2, 3, 8)]


def _expected_nights(now: datetime.datetime, start: datetime.date, end: datetime.date) -> dict[int, dict]:
    """{listing_id: {night: ref}} for the nights in [start, end), from bookings_blocking's rows in Python."""
    taken: dict[int, dict] = {}
    for booking in bookings_blocking(now=now):
        night = booking.check_in
        while night < booking.check_out:
            if start <= night < end:
                taken.setdefault(booking.listing_id, {})[night] = booking.ref
            night += DAY
    return taken


def test_listings_reads_the_provider_reservations_registered():
    assert isinstance(taken_nights(), BookingsTakenNights)


def test_without_a_provider_listings_refuses_to_answer(monkeypatch):
    monkeypatch.setattr(taken_nights_module, "_provider", None)
    with pytest.raises(ImproperlyConfigured, match="No provider of taken nights"):
        taken_nights()
    with pytest.raises(ImproperlyConfigured):
        listing_ids_matching(query=SearchQuery(stay=Stay(check_in=d(10), check_out=d(12))), now=NOW)


def test_listings_reads_the_nights_bookings_blocking_says_are_taken(listings, host):
    ids = [listing.pk for listing in listings]
    compared = taken_somewhere = 0
    for now in CLOCKS:
        for start, end in RANGES:
            expected = _expected_nights(now, start, end)
            context = (now, start, end)

            # Search's SQL (the nights kept for good, the holds read against the clock).
            stay = Stay(check_in=start, check_out=end)
            found = set(listing_ids_matching(query=SearchQuery(stay=stay), now=now))
            assert found == set(ids) - set(expected), context

            # The quote's and the guest calendar's rows, and the host calendar's nights.
            _, taken = nights_settings_and_bookings(listing_ids=ids, start=start, end=end, now=now)
            assert {pk: nights for pk, nights in taken.items() if nights} == expected, context
            quotes = stay_quotes(listings=listings, stay=stay, guests=1, now=now)
            for listing in listings:
                assert quotes[listing.pk].bookable is (listing.pk not in expected), (context, listing.title)
                booked = listing_booked_nights(listing=listing, first_night=start, last_night=end - DAY, now=now)
                assert booked == expected.get(listing.pk, {}), context

            compared += 1
            taken_somewhere += bool(expected)

        # The host dashboard's next stays: the first of the bookings that hold nights at this clock and have not ended.
        today = timezone.localdate(now)
        holding = sorted(
            (b for b in bookings_blocking(now=now) if b.check_out > today), key=lambda b: (b.check_in, b.created_at)
        )
        upcoming = [booking.ref for booking in host_upcoming_bookings(host=host, now=now)]
        assert upcoming == [b.ref for b in holding][:HOST_DASHBOARD_BOOKINGS], now

    assert compared == len(CLOCKS) * len(RANGES)
    assert 0 < taken_somewhere < compared  # the grid finds taken and free ranges
