import datetime
import uuid

import pytest
from django.utils import timezone

from core.clock import NAIROBI
from listings.selectors import Stay
from reservations.services import GuestData, booking_hold
from tests.listings.builders import make_listing

# Stays are numbered by day from the first of a month that is always ahead of the clock the suite runs on (today,
# or NEXUS_CLOCK_OFFSET_DAYS ahead): services that read the real clock then agree that NOW and every stay are to come.
FIRST_DAY = (timezone.localdate() + datetime.timedelta(days=45)).replace(day=1)
NOW = datetime.datetime.combine(FIRST_DAY, datetime.time(9, 0), tzinfo=NAIROBI)


def d(day: int) -> datetime.date:
    """The stay calendar's day number `day` (1 is FIRST_DAY; 31 may fall in the next month)."""
    return FIRST_DAY + datetime.timedelta(days=day - 1)


def stay(check_in: int, check_out: int) -> Stay:
    return Stay(check_in=d(check_in), check_out=d(check_out))


@pytest.fixture
def host(make_user):
    return make_user(email="host@example.com", full_name="Hassan Host")


@pytest.fixture
def listing(host):
    return make_listing(host, cleaning_fee_kes=1_500, cancellation_policy="moderate")


@pytest.fixture
def guest(make_user):
    return make_user(email="guest@example.com", full_name="Grace Guest")


@pytest.fixture
def hold(listing):
    """Hold a stay for a user through the one service, at NOW unless told otherwise."""

    def _hold(user, check_in: int, check_out: int, *, guests=None, now=NOW, key=None, listing_obj=None):
        target = listing_obj or listing
        guests = guests or [GuestData(full_name=user.full_name, email=user.email)]
        from listings.selectors import stay_quote

        quote = stay_quote(listing=target, stay=stay(check_in, check_out), guests=len(guests), now=now)
        return booking_hold(
            booker=user,
            listing_id=target.pk,
            stay=stay(check_in, check_out),
            guests=guests,
            shown_total_kes=quote.total_kes,
            idempotency_key=key or uuid.uuid4().hex,
            now=now,
        )

    return _hold
