"""Every read of listings that is not trivial: the stay quote, search, the availability calendar."""

import calendar
import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db.models import Count, F, OuterRef, QuerySet, Subquery, Value
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import User
from listings.models import CalendarDay, Listing, ListingPhoto

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


# ---------------------------------------------------------------------------------------------------------------
# Host side.


def listing_get_for_host(*, host: User, slug: str) -> Listing:
    """The host's own listing by slug; 404 for anyone else's, so that its existence is not confirmed."""
    return get_object_or_404(Listing.objects.filter(host=host), slug=slug)


def listing_photo_get_for_host(*, host: User, slug: str, photo_id: int) -> ListingPhoto:
    """A photo of the host's own listing; 404 for anyone else's."""
    return get_object_or_404(
        ListingPhoto.objects.select_related("listing").filter(listing__host=host, listing__slug=slug), pk=photo_id
    )


def listing_photos_for_host(*, listing: Listing) -> list[ListingPhoto]:
    return list(ListingPhoto.objects.filter(listing=listing).order_by("order", "id"))


def listing_publish_missing(*, listing: Listing) -> list[str]:
    """What the listing still lacks before it can be published, in words a host reads; empty when it is ready."""
    missing = []
    if not listing.photos.exists():
        missing.append(_("at least one photo"))
    if not listing.nightly_price_kes:
        missing.append(_("a nightly price"))
    if not listing.max_guests:
        missing.append(_("the number of guests it sleeps"))
    return missing


@dataclass(frozen=True)
class HostListingRow:
    listing: Listing
    photo_count: int
    cover_url: str


def listings_for_host(*, host: User) -> list[HostListingRow]:
    """The host's listings, newest first, each with its photo count and cover thumbnail, in one query."""
    cover = ListingPhoto.objects.filter(listing=OuterRef("pk")).order_by("order", "id")
    listings = (
        Listing.objects.filter(host=host)
        .annotate(
            photo_count=Count("photos", distinct=True),
            cover_thumbnail=Subquery(cover.values("thumbnail")[:1]),
            cover_image=Subquery(cover.values("image")[:1]),
        )
        .order_by("-created_at", "-id")
    )
    rows = []
    for listing in listings:
        name = listing.cover_thumbnail or listing.cover_image
        rows.append(
            HostListingRow(
                listing=listing, photo_count=listing.photo_count, cover_url=default_storage.url(name) if name else ""
            )
        )
    return rows


@dataclass(frozen=True)
class HostNight:
    """One cell of the host's calendar: a night as the host set it."""

    date: datetime.date
    in_month: bool
    past: bool
    blocked: bool
    note: str
    price_kes: int | None
    price_overridden: bool
    min_nights: int | None
    booking_ref: str

    @property
    def editable(self) -> bool:
        return self.in_month and not self.past


@dataclass(frozen=True)
class HostCalendarMonth:
    month: datetime.date  # the first day of the month
    weeks: list[list[HostNight]]
    previous_month: datetime.date | None
    next_month: datetime.date | None


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def _add_months(month: datetime.date, months: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def host_calendar_month(*, listing: Listing, month: datetime.date) -> HostCalendarMonth:
    """The host's view of one month: for each night its price, block and note, minimum-stay override and booking.

    One query for the calendar rows, whatever the number of nights set; the booking hook adds its own.
    """
    today = timezone.localdate()
    month = month_start(month)
    weeks_of_dates = calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(month.year, month.month)
    first, last = weeks_of_dates[0][0], weeks_of_dates[-1][-1]
    rows = {
        row.date: row
        for row in CalendarDay.objects.filter(listing=listing, date__range=(first, last)).only(
            "date", "blocked", "note", "price_override_kes", "min_nights_override"
        )
    }
    booked = listing_booked_nights(listing=listing, first_night=first, last_night=last)
    weeks = []
    for week in weeks_of_dates:
        cells = []
        for day in week:
            row = rows.get(day)
            override = row.price_override_kes if row else None
            cells.append(
                HostNight(
                    date=day,
                    in_month=day.month == month.month,
                    past=day < today,
                    blocked=bool(row and row.blocked),
                    note=row.note if row else "",
                    price_kes=override if override is not None else listing.nightly_price_kes,
                    price_overridden=override is not None,
                    min_nights=row.min_nights_override if row else None,
                    booking_ref=booked.get(day, ""),
                )
            )
        weeks.append(cells)
    this_month = month_start(today)
    horizon = month_start(today + datetime.timedelta(days=730))
    return HostCalendarMonth(
        month=month,
        weeks=weeks,
        previous_month=_add_months(month, -1) if month > this_month else None,
        next_month=_add_months(month, 1) if month < horizon else None,
    )
