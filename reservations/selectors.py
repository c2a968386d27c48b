"""Every non-trivial read of bookings, scoped to who may see it."""

import datetime
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from core.models import User
from reservations.models import Booking, BookingEvent, BookingGuest


def bookings_blocking(*, now: datetime.datetime) -> QuerySet[Booking]:
    """The only definition of "these nights are taken": a blocking status and a hold that has not lapsed."""
    return Booking.objects.filter(status__in=Booking.BLOCKING).filter(
        Q(blocks_until__isnull=True) | Q(blocks_until__gt=now)
    )


def bookings_overlapping(*, start: datetime.date, end: datetime.date, now: datetime.datetime) -> QuerySet[Booking]:
    """Blocking bookings with at least one night in [start, end)."""
    return bookings_blocking(now=now).filter(check_in__lt=end, check_out__gt=start)


def unpaid_holds_count(*, user: User, now: datetime.datetime) -> int:
    return bookings_blocking(now=now).filter(booker=user, status__in=Booking.UNPAID).count()


def _visible_to(user: User) -> Q:
    return Q(booker=user) | Q(guests__user=user)


def booking_get_for_booker(*, user: User, ref: str) -> Booking:
    """The booker's own booking; 404 for anyone else."""
    return get_object_or_404(Booking.objects.select_related("listing", "listing__host"), booker=user, ref=ref)


def booking_get_for_viewer(*, user: User, ref: str) -> Booking:
    """A booking its booker or one of its linked guests may see; 404 for anyone else."""
    bookings = Booking.objects.filter(_visible_to(user)).distinct().select_related("listing", "listing__host", "booker")
    return get_object_or_404(bookings, ref=ref)


def booking_get_for_host(*, host: User, ref: str) -> Booking:
    return get_object_or_404(Booking.objects.select_related("listing", "booker"), listing__host=host, ref=ref)


def booking_guests(*, booking: Booking) -> list[BookingGuest]:
    return list(booking.guests.order_by("position"))


def booking_timeline(*, booking: Booking) -> list[BookingEvent]:
    return list(booking.events.select_related("actor").order_by("created_at", "id"))


@dataclass(frozen=True)
class Trips:
    upcoming: list[Booking]
    past: list[Booking]
    cancelled: list[Booking]

    @property
    def empty(self) -> bool:
        return not (self.upcoming or self.past or self.cancelled)


def trips_for_user(*, user: User, now: datetime.datetime | None = None) -> Trips:
    """Every booking the person made or is a linked guest on, in three groups. Lapsed holds count as cancelled."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    bookings = (
        Booking.objects.filter(pk__in=Booking.objects.filter(_visible_to(user)).values("pk"))
        .select_related("listing")
        .prefetch_related(Prefetch("listing__photos"))
        .order_by("check_in", "created_at")
    )
    upcoming, past, cancelled = [], [], []
    for booking in bookings:
        if not booking.holds_nights(now=now):
            cancelled.append(booking)
        elif booking.check_out <= today:
            past.append(booking)
        else:
            upcoming.append(booking)
    past.reverse()
    cancelled.sort(key=lambda b: b.created_at, reverse=True)
    return Trips(upcoming=upcoming, past=past, cancelled=cancelled)


def bookings_for_host(*, host: User, listing_slug: str = "", status: str = "") -> QuerySet[Booking]:
    """Bookings on the host's own listings, newest stay first, with the booker and guests in two more queries."""
    bookings = Booking.objects.filter(listing__host=host).select_related("listing", "booker")
    if listing_slug:
        bookings = bookings.filter(listing__slug=listing_slug)
    if status:
        bookings = bookings.filter(status=status)
    return bookings.prefetch_related("guests").order_by("-check_in", "-created_at")
