"""Which nights bookings take, as listings reads them without importing reservations.

The quote, search and both calendars must know which nights are taken, but the one rule for that (a blocking status
and a hold that has not lapsed: reservations.selectors.bookings_blocking) lives with the bookings, in the app above
listings. So reservations registers a provider of these reads when Django starts (ReservationsConfig.ready), and
listings asks the registered provider at every read. The provider hands back querysets that listings embeds in its
own queries (one branch of a UNION ALL, a page of rows), or SQL for listings' queries written in SQL (search), so an
unpaid hold stops counting in listings' reads at the moment it lapses for reservations, and no page gains a query.
Search's SQL reads the nights of confirmed stays from reservations' BookedNight rows, which the booking services keep
in the transaction that changes the booking (on PostgreSQL from the listing row's booked_nights, which a trigger keeps
equal to those rows); holds with a deadline are always read from the bookings.

Every range is half-open: [start, end) holds the nights from start up to, not including, end, and a booking holds
the nights [check_in, check_out), so its check-out day is free for the next guest.
"""

import datetime
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet


class TakenNights(Protocol):
    """The reads listings needs of bookings. Each returns an unevaluated queryset of the booking model."""

    def bookings_blocking(self, *, now: datetime.datetime) -> QuerySet:
        """Every booking that holds its nights at `now`; its rows have listing_id (and listing), check_in,
        check_out, ref and created_at."""
        ...

    def bookings_overlapping(self, *, start: datetime.date, end: datetime.date, now: datetime.datetime) -> QuerySet:
        """The bookings of bookings_blocking with at least one night in [start, end)."""
        ...

    def nights_free_sql(
        self, *, listing: str, start: datetime.date, end: datetime.date, now: datetime.datetime
    ) -> tuple[str, tuple]:
        """SQL (and its parameters) that is true when no booking of bookings_blocking holds a night in [start, end)
        of the listing row whose alias in the query is `listing`, for listings' queries written in SQL (search)."""
        ...


_provider: TakenNights | None = None


def taken_nights_register(*, provider: TakenNights) -> None:
    """Make `provider` the source of taken nights for every read in listings (the last one registered wins)."""
    global _provider
    _provider = provider


def taken_nights() -> TakenNights:
    """The registered provider. Raises ImproperlyConfigured when there is none: a listing must never look free
    because nobody said which of its nights are taken."""
    if _provider is None:
        raise ImproperlyConfigured(
            "No provider of taken nights is registered, so listings cannot tell which nights bookings hold. "
            "The reservations app registers one when Django starts (ReservationsConfig.ready): "
            "is 'reservations' in INSTALLED_APPS?"
        )
    return _provider
