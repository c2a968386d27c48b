"""Search's SQL against the straightforward answer, while bookings and the calendar change through their services.

Search reads the nights that bookings keep with no deadline from BookedNight (kept by the booking services) and the
holds with a deadline live through bookings_blocking; the straightforward answer is the quote of each listing, which
reads every booking through bookings_blocking. After each step of a booking's life (held, lapsing, confirmed, confirmed
late, held for support, released, cancelled by guest or host) and of the calendar (blocked, opened), the two must
agree for a grid of stays and clocks, and BookedNight must hold exactly the nights of the bookings kept for good.
"""

import datetime
import itertools
import uuid

import pytest
import time_machine

from listings.selectors import SearchQuery, Stay, listing_ids_matching, listing_search, stay_quote, stay_quotes
from listings.services import calendar_block, calendar_unblock
from reservations.models import BookedNight, Booking
from reservations.selectors import bookings_kept_for_good
from reservations.services import (
    GuestData,
    booked_nights_fill,
    booking_cancel,
    booking_confirm,
    booking_hold,
    booking_hold_for_support,
    booking_host_cancel,
    booking_payment_ended,
    booking_payment_started,
    hold_duration,
)
from tests.helpers.stays import NOW, d
from tests.listings.builders import make_listing, set_night

pytestmark = pytest.mark.django_db

MINUTE = datetime.timedelta(minutes=1)
DAY = datetime.timedelta(days=1)


@pytest.fixture
def host(make_user):
    return make_user(email="host@example.com", full_name="Juma Hamisi")


@pytest.fixture
def places(host):
    """Six listings in Kwale with different rules; the last one in Nairobi, so the place filter matters."""
    rules = [
        {"min_nights": 1},
        {"min_nights": 2, "max_guests": 2},
        {"min_nights": 1, "max_nights": 4},
        {"min_nights": 3},
        {"min_nights": 1, "advance_notice_days": 2},
        {"min_nights": 1, "county": "nairobi", "town": "Kilimani"},
    ]
    listings = [make_listing(host, title=f"Place {i}", **fields) for i, fields in enumerate(rules)]
    set_night(listings[0], d(9), min_nights_override=4)
    set_night(listings[3], d(12), min_nights_override=1, price_override_kes=15_000)
    return listings


def _clocks() -> list[datetime.datetime]:
    """Now, just before and at the moment the holds taken now lapse, and two days later."""
    lapse = NOW + hold_duration()
    return [NOW, lapse - MINUTE, lapse, NOW + 2 * DAY]


STAYS = [Stay(check_in=d(start), check_out=d(start) + n * DAY) for start in range(6, 17) for n in (1, 3)]


def _agree(places, *, where: str = "", guests_list=(1, 3)) -> int:
    """Compare search with the quote over the grid; returns how many stays were bookable somewhere."""
    bookable = 0
    ids = [listing.pk for listing in places if not where or listing.county == where]
    for now, stay, guests in itertools.product(_clocks(), STAYS, guests_list):
        found = listing_ids_matching(query=SearchQuery(where=where, stay=stay, guests=guests), now=now)
        quotes = stay_quotes(listings=places, stay=stay, guests=guests, now=now)
        expected = [pk for pk in ids if quotes[pk].bookable]
        assert sorted(found) == sorted(expected), (now, stay, guests)
        bookable += bool(expected)
    # The page's cards carry the same quote as the quote of each listing.
    for now, stay in itertools.product(_clocks()[::3], STAYS[::5]):
        results = listing_search(query=SearchQuery(where=where, stay=stay, guests=2), page_number=1, now=now)
        on_page = {card.listing.pk for card in results.cards}
        quotes = stay_quotes(listings=[p for p in places if p.pk in on_page], stay=stay, guests=2, now=now)
        assert {card.listing.pk: card.quote for card in results.cards} == quotes, (now, stay)
    # The nights kept for good are exactly those of the bookings kept for good.
    kept = {
        (booking.listing_id, booking.check_in + i * DAY, booking.pk)
        for booking in bookings_kept_for_good()
        for i in range(booking.night_count)
    }
    assert set(BookedNight.objects.values_list("listing_id", "night", "booking_id")) == kept
    return bookable


def _pay(booking: Booking) -> Booking:
    """The M-Pesa prompt went out: the booking awaits its payment (within its hold)."""
    with time_machine.travel(NOW, tick=False):
        return booking_payment_started(booking=booking, blocks_until=NOW + hold_duration(), details={"amount_kes": 1})


def _hold(listing, booker, check_in: int, check_out: int, *, now=NOW) -> Booking:
    stay = Stay(check_in=d(check_in), check_out=d(check_out))
    quote = stay_quote(listing=listing, stay=stay, guests=1, now=now)
    with time_machine.travel(now, tick=False):
        return booking_hold(
            booker=booker,
            listing_id=listing.pk,
            stay=stay,
            guests=[GuestData(full_name=booker.full_name, email=booker.email)],
            shown_total_kes=quote.total_kes,
            idempotency_key=uuid.uuid4().hex,
            now=now,
        )


def test_search_agrees_with_the_quote_through_a_bookings_and_a_calendars_life(places, host, make_user):
    one, two, three, four, five, _ = places
    guests = [make_user(email=f"guest{i}@example.com", full_name=f"Guest {i}") for i in range(6)]
    assert _agree(places) > 0

    # Holds taken now: they count until their deadline, then lapse without anything being written.
    held = _hold(one, guests[0], 10, 13)
    _pay(_hold(two, guests[1], 12, 14))
    _agree(places)

    # Confirmed: kept for good, whatever the clock.
    _pay(held)
    with time_machine.travel(NOW, tick=False):
        booking_confirm(booking_id=held.pk, now=NOW)
    assert BookedNight.objects.filter(booking_id=held.pk).count() == 3
    _agree(places)

    # A payment that lands after the hold lapsed confirms it late, while the nights are still free.
    late = _pay(_hold(three, guests[2], 7, 9))
    later = NOW + hold_duration() + 5 * MINUTE
    with time_machine.travel(later, tick=False):
        booking_confirm(booking_id=late.pk, now=later)
    late.refresh_from_db()
    assert late.status == Booking.Status.CONFIRMED
    _agree(places)

    # Held for support: no deadline, so kept for good; released again: back to a hold with a deadline.
    support = _pay(_hold(four, guests[3], 13, 16))
    with time_machine.travel(NOW, tick=False):
        support = booking_hold_for_support(booking=support, message="Amount differs", details={})
    assert support.blocks_until is None
    assert BookedNight.objects.filter(booking_id=support.pk).count() == 3
    _agree(places)
    with time_machine.travel(NOW, tick=False):
        booking_payment_ended(booking=support, message="Support released it", details={})
    assert not BookedNight.objects.filter(booking_id=support.pk).exists()
    _agree(places)

    # Host blocks and opens nights.
    with time_machine.travel(NOW, tick=False):
        calendar_block(listing=five, first_night=d(11), last_night=d(12), note="Repairs")
        calendar_block(listing=two, first_night=d(8), last_night=d(8))
    _agree(places)
    with time_machine.travel(NOW, tick=False):
        calendar_unblock(listing=five, first_night=d(12), last_night=d(12))
    _agree(places)

    # Cancelled by the guest, and by the host: the nights go free at once.
    with time_machine.travel(NOW, tick=False):
        booking_cancel(booking=Booking.objects.get(pk=held.pk), user=guests[0], now=NOW)
        booking_host_cancel(booking=Booking.objects.get(pk=late.pk), host=host, reason="Burst pipe", now=NOW)
    assert not BookedNight.objects.filter(booking_id__in=[held.pk, late.pk]).exists()
    assert _agree(places) > 0
    # And with a place to search, where the county narrows the listings first.
    _agree(places, where="kwale", guests_list=(2,))


def test_filling_rebuilds_the_nights_of_bookings_written_around_the_services(places, make_user):
    guest = make_user(email="guest@example.com")
    booking = _pay(_hold(places[0], guest, 10, 12))
    with time_machine.travel(NOW, tick=False):
        booking_confirm(booking_id=booking.pk, now=NOW)
    BookedNight.objects.all().delete()  # as before the rows existed
    stay = Stay(check_in=d(10), check_out=d(11))
    assert places[0].pk in listing_ids_matching(query=SearchQuery(stay=stay), now=NOW)  # not yet known to search

    assert booked_nights_fill() == 2
    assert places[0].pk not in listing_ids_matching(query=SearchQuery(stay=stay), now=NOW)
    assert booked_nights_fill() == 2  # again: the same rows
