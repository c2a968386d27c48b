"""A host blocks nights at the instant a guest holds them: one of the two wins, never both."""

import datetime
import threading
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from listings.models import CalendarDay, Listing
from listings.selectors import Stay, stay_quote
from listings.services import ListingError, calendar_block
from reservations.models import Booking
from reservations.services import BookingError, GuestData, booking_hold
from tests.listings.builders import make_listing

ROUNDS = 6


def race(listing: Listing, first: datetime.date, guest) -> dict[str, object]:
    """Block the night `first` and hold a two-night stay from it at the same instant, in two connections."""
    stay = Stay(check_in=first, check_out=first + datetime.timedelta(days=2))
    now = timezone.now()
    total = stay_quote(listing=listing, stay=stay, guests=1, now=now).total_kes
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def block() -> None:
        try:
            barrier.wait()
            calendar_block(listing=listing, first_night=first, last_night=first, note="Race")
            outcomes["block"] = "blocked"
        except Exception as error:  # judged by the test
            outcomes["block"] = error
        finally:
            connection.close()

    def hold() -> None:
        try:
            barrier.wait()
            outcomes["hold"] = booking_hold(
                booker=guest,
                listing_id=listing.pk,
                stay=stay,
                guests=[GuestData(full_name=guest.full_name, email=guest.email)],
                shown_total_kes=total,
                idempotency_key=uuid.uuid4().hex,
                now=now,
            )
        except Exception as error:  # judged by the test
            outcomes["hold"] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=block), threading.Thread(target=hold)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_blocking_and_holding_the_same_nights_at_once_never_both_succeed(make_user):
    host = make_user("hassan@example.com", full_name="Hassan Otieno")
    listing = make_listing(host, max_guests=4)
    today = timezone.localdate()

    for round_number in range(ROUNDS):
        first = today + datetime.timedelta(days=10 + 5 * round_number)
        guest = make_user(f"guest{round_number}@example.com", full_name=f"Guest {round_number}")

        outcomes = race(listing, first, guest)

        blocked = outcomes["block"] == "blocked"
        held = isinstance(outcomes["hold"], Booking)
        assert blocked != held, outcomes
        if blocked:
            assert isinstance(outcomes["hold"], BookingError), outcomes
        else:
            assert isinstance(outcomes["block"], ListingError), outcomes
            assert "Booked nights cannot be blocked" in str(outcomes["block"])
        assert CalendarDay.objects.filter(listing=listing, date=first, blocked=True).exists() == blocked
        assert Booking.objects.filter(listing=listing, check_in=first).exists() == held
