"""Fixtures for bookings: a host and their listing, a guest, and holds made through the one hold service."""

import uuid

import pytest

from listings.selectors import stay_quote
from reservations.services import GuestData, booking_hold
from tests.helpers.stays import NOW, stay
from tests.listings.builders import make_listing


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
        guests = guests or [GuestData(full_name=user.full_name, email=user.email or "")]
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


@pytest.fixture
def people(make_user):
    """A guest and a host, for tests that pay over real HTTP (booking_for makes their booking)."""
    return make_user(email="wanjiku@example.com", full_name="Wanjiku Kamau"), make_user(
        email="host@example.com", full_name="Otieno Host"
    )
