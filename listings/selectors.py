"""Every read of listings that is not trivial: the stay quote, search, the availability calendar."""

import datetime
from collections import defaultdict

from django.db.models import F, QuerySet, Value
from django.utils import timezone

from listings.models import CalendarDay, Listing

DAY = datetime.timedelta(days=1)


# ---------------------------------------------------------------------------------------------------------------
# Bookings: the one place listings learns which nights bookings take.


def nights_taken_by_bookings(*, start: datetime.date, end: datetime.date, now: datetime.datetime) -> QuerySet:
    """Stays of the bookings that hold nights in [start, end), as rows (listing_id, check_in, check_out, ref).

    The quote, search and both calendars ask here, so they never disagree. Until the Reservations issue
    supplies `bookings_blocking(now=...)`, no booking exists and the rows are empty (and cost no query).
    """
    return (
        CalendarDay.objects.none()
        .annotate(check_in=F("date"), check_out=F("date"), ref=Value(""))
        .values("listing_id", "check_in", "check_out", "ref")
    )


def taken_nights_by_listing(rows, *, start: datetime.date, end: datetime.date) -> dict[int, dict[datetime.date, str]]:
    """Expand booking rows into {listing_id: {night: booking ref}} for the nights in [start, end)."""
    taken: dict[int, dict[datetime.date, str]] = defaultdict(dict)
    for row in rows:
        night = max(row["check_in"], start)
        last = min(row["check_out"], end)
        while night < last:
            taken[row["listing_id"]][night] = row["ref"]
            night += DAY
    return taken


def listing_booked_nights(
    *, listing: Listing, first_night: datetime.date, last_night: datetime.date, now: datetime.datetime | None = None
) -> dict[datetime.date, str]:
    """The nights first_night..last_night (inclusive) of this listing that a booking holds, with its reference."""
    end = last_night + DAY
    rows = nights_taken_by_bookings(start=first_night, end=end, now=now or timezone.now()).filter(listing_id=listing.pk)
    return taken_nights_by_listing(rows, start=first_night, end=end).get(listing.pk, {})
