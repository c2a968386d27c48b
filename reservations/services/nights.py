"""The nights bookings keep with no deadline (BookedNight), kept in step with the bookings in the same transaction.

A booking keeps its nights with no deadline while its status blocks and blocks_until is empty: once confirmed (and
while support looks into a payment). Every change of status or of blocks_until goes through _move() or, for a
payment held for support, one save in payments.py; both call booked_nights_sync, so the rows change in the
transaction that changes the booking, under the locks its service holds.
"""

import datetime

from django.db import connection, transaction

from listings.models import Listing
from reservations.models import BookedNight, Booking

DAY = datetime.timedelta(days=1)


def keeps_nights_for_good(booking: Booking) -> bool:
    """Whether the booking's nights belong in BookedNight: a blocking status and no deadline."""
    return booking.status in Booking.BLOCKING and booking.blocks_until is None


def _rows(booking: Booking) -> list[BookedNight]:
    night, rows = booking.check_in, []
    while night < booking.check_out:
        rows.append(BookedNight(booking_id=booking.pk, listing_id=booking.listing_id, night=night))
        night += DAY
    return rows


def booked_nights_sync(booking: Booking, *, kept_before: bool) -> None:
    """Add or remove the booking's rows when it starts or stops keeping its nights for good (`kept_before`: whether
    it did before the change just saved). One query when it changed, none otherwise. Caller holds the booking's
    locks, inside the transaction that saved it."""
    kept = keeps_nights_for_good(booking)
    if kept == kept_before:
        return
    if kept:
        BookedNight.objects.bulk_create(_rows(booking))
    else:
        # Through the (listing, night) index: booking_id has none of its own.
        BookedNight.objects.filter(
            listing_id=booking.listing_id,
            night__gte=booking.check_in,
            night__lt=booking.check_out,
            booking_id=booking.pk,
        ).delete()


@transaction.atomic
def booked_nights_fill(*, batch_size: int = 5000) -> int:
    """Rebuild every BookedNight row from the bookings (existing data, or rows written around the services, such
    as a bulk load). Returns the number of nights. Bookings wait meanwhile: on PostgreSQL a SHARE lock on their
    table holds back every change until this commits (a SQLite transaction already writes alone).

    On PostgreSQL the listings are locked first (EXCLUSIVE: they can still be read), in the one lock order
    (listing -> booking): the trigger that keeps each listing's booked_nights updates their rows, and a booking
    service holding a listing while it waited for the bookings' table would otherwise deadlock with this."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Listing._meta.db_table} IN EXCLUSIVE MODE")
            cursor.execute(f"LOCK TABLE {Booking._meta.db_table} IN SHARE MODE")
    BookedNight.objects.all().delete()
    bookings = (
        Booking.objects.filter(status__in=Booking.BLOCKING, blocks_until__isnull=True)
        .only("pk", "listing_id", "check_in", "check_out", "status", "blocks_until")
        .order_by("pk")
    )
    rows, total = [], 0
    for booking in bookings.iterator(chunk_size=batch_size):
        rows += _rows(booking)
        if len(rows) >= batch_size:
            BookedNight.objects.bulk_create(rows)
            total, rows = total + len(rows), []
    BookedNight.objects.bulk_create(rows)
    return total + len(rows)
