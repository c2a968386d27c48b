"""The booking-level locks, in the one lock order: (the booker) → listing → booking. mpesa.locks adds the payment
and the refund after them."""

from django.db import connection

from listings.models import Listing
from reservations.models import Booking

# The first key of the booker's advisory lock (pg_advisory_xact_lock(int, int)); the second is the user's id.
BOOKER_LOCK_SPACE = 1_310_001


def booker_lock(*, booker_id: int) -> None:
    """Hold the booker's advisory lock until the transaction ends: first in the lock order (booker -> listing ->
    booking -> payment -> refund), taken wherever a rule counts one person's bookings or prompts.

    A no-op on SQLite, where a writing transaction already runs alone (BEGIN IMMEDIATE).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s::integer, %s::integer)", [BOOKER_LOCK_SPACE, booker_id & 0x7FFFFFFF]
            )


def _lock(booking: Booking) -> Booking:
    """Lock the listing, then the booking (the one lock order), and return a fresh copy of the booking."""
    Listing.objects.select_for_update().filter(pk=booking.listing_id).first()
    return Booking.objects.select_for_update().select_related("listing").get(pk=booking.pk)


def booking_lock(*, booking_id: int) -> Booking:
    """Lock the booking's listing, then the booking (the one lock order). Call inside a transaction."""
    return _lock(Booking.objects.only("listing_id").get(pk=booking_id))
