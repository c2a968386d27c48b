"""Holds at the same instant: twenty people on overlapping stays make exactly one booking; one account on ten
listings makes exactly as many unpaid holds as its limit allows."""

import threading
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from listings.selectors import stay_quote
from reservations.models import Booking
from reservations.services import BookingError, GuestData, booking_hold
from tests.helpers.stays import NOW, stay
from tests.listings.builders import make_listing

ATTEMPTS = 20


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_overlapping_holds_make_exactly_one_booking(listing, make_user):
    users = [make_user(email=f"racer{i}@example.com", full_name=f"Racer {i}") for i in range(ATTEMPTS)]
    # Overlapping but different stays, so no two requests are identical.
    stays = [stay(10 + i % 3, 14 + i % 2) for i in range(ATTEMPTS)]
    totals = [stay_quote(listing=listing, stay=s, guests=1, now=NOW).total_kes for s in stays]
    barrier = threading.Barrier(ATTEMPTS)
    outcomes: list = [None] * ATTEMPTS
    captured_sql: list[list[str]] = [[] for _ in range(ATTEMPTS)]

    def attempt(i: int) -> None:
        try:
            with CaptureQueriesContext(connection) as queries:
                barrier.wait()
                try:
                    outcomes[i] = booking_hold(
                        booker=users[i],
                        listing_id=listing.pk,
                        stay=stays[i],
                        guests=[GuestData(full_name=users[i].full_name, email=users[i].email)],
                        shown_total_kes=totals[i],
                        idempotency_key=uuid.uuid4().hex,
                        now=NOW,
                    )
                except Exception as error:  # recorded and judged below
                    outcomes[i] = error
            captured_sql[i] = [q["sql"] for q in queries.captured_queries]
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    bookings = [o for o in outcomes if isinstance(o, Booking)]
    refusals = [o for o in outcomes if isinstance(o, BookingError)]
    others = [o for o in outcomes if not isinstance(o, Booking | BookingError)]
    assert others == []
    assert len(bookings) == 1 and len(refusals) == ATTEMPTS - 1
    assert all(str(r) for r in refusals)
    assert Booking.objects.filter(status__in=Booking.BLOCKING).count() == 1
    locks = [sql for sqls in captured_sql for sql in sqls if "FOR UPDATE" in sql and '"listings_listing"' in sql]
    assert len(locks) >= ATTEMPTS


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_simultaneous_holds_by_one_account_on_ten_listings_make_exactly_two(host, make_user, settings):
    settings.BOOKING_MAX_UNPAID_HOLDS = 2
    settings.BOOKING_HOLDS_PER_HOUR = 100
    listings = [make_listing(host) for _ in range(10)]
    booker = make_user(email="hoarder@example.com", full_name="Hoarding Guest")
    wanted = stay(10, 13)
    total = stay_quote(listing=listings[0], stay=wanted, guests=1, now=NOW).total_kes
    barrier = threading.Barrier(len(listings))
    outcomes: list = [None] * len(listings)

    def attempt(i: int) -> None:
        try:
            barrier.wait()
            outcomes[i] = booking_hold(
                booker=booker,
                listing_id=listings[i].pk,
                stay=wanted,
                guests=[GuestData(full_name=booker.full_name, email=booker.email)],
                shown_total_kes=total,
                idempotency_key=uuid.uuid4().hex,
                now=NOW,
            )
        except Exception as error:  # judged below
            outcomes[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(listings))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    bookings = [o for o in outcomes if isinstance(o, Booking)]
    refusals = [str(o) for o in outcomes if isinstance(o, BookingError)]
    assert len(bookings) == 2 and len(refusals) == 8, outcomes
    assert all("2 unpaid bookings" in message for message in refusals)
    assert Booking.objects.filter(booker=booker, status__in=Booking.UNPAID).count() == 2
