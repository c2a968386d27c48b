"""Which nights are taken and what the host set for each night, as the quote, search and both calendars read them.

Bookings' nights come through listings.taken_nights, the provider reservations registers at start-up, so these reads
never disagree with reservations' one rule and listings imports nothing of reservations.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import BooleanField, CharField, F, IntegerField, QuerySet, Value
from django.utils import timezone

from listings.models import CalendarDay, Listing
from listings.taken_nights import taken_nights

DAY = datetime.timedelta(days=1)


def nights_taken_by_bookings(*, start: datetime.date, end: datetime.date, now: datetime.datetime) -> QuerySet:
    """Stays of the bookings that hold nights in [start, end), as rows (listing_id, check_in, check_out, ref).

    The quote, search and both calendars ask here, so they never disagree with reservations' one rule.
    """
    stays = taken_nights().bookings_overlapping(start=start, end=end, now=now)
    return stays.values("listing_id", "check_in", "check_out", "ref")


def calendar_and_booking_rows(
    *,
    listing_filter: dict,
    start: datetime.date,
    end: datetime.date,
    now: datetime.datetime,
    with_listing: bool,
    trailing: dict | None = None,
) -> QuerySet:
    """One UNION ALL of the calendar rows in [start, end) that set something and the stays of the bookings that hold
    nights there, for the listings `listing_filter` picks (`listing_id=` or `listing_id__in=`). Rows: (listing_id,
    when `with_listing`), start, end, blocked, price override, minimum-nights override, booking ref ('' for a
    calendar row, whose start and end are its date), then the `trailing` expressions (for a union with other
    rows)."""
    calendar_rows, booking_rows = calendar_and_booking_parts(
        listing_filter=listing_filter, start=start, end=end, now=now, with_listing=with_listing, trailing=trailing
    )
    return calendar_rows.union(booking_rows, all=True).order_by()


def calendar_and_booking_parts(
    *,
    listing_filter: dict,
    start: datetime.date,
    end: datetime.date,
    now: datetime.datetime,
    with_listing: bool,
    leading: dict | None = None,
    trailing: dict | None = None,
) -> tuple[QuerySet, QuerySet]:
    """calendar_and_booking_rows's two querysets, for a union of its own, each row after the `leading` expressions."""
    leading = leading or {}
    listing_column = {"u_listing": F("listing_id")} if with_listing else {}
    trailing = trailing or {}
    columns = (*leading, *listing_column, "u_start", "u_end", "u_blocked", "u_price", "u_min", "u_ref", *trailing)
    calendar_rows = (
        CalendarDay.objects.filter(**listing_filter, date__gte=start, date__lt=end)
        .exclude(blocked=False, price_override_kes__isnull=True, min_nights_override__isnull=True)
        .order_by()
        .annotate(
            **leading,
            **listing_column,
            u_start=F("date"),
            u_end=F("date"),
            u_blocked=F("blocked"),
            u_price=F("price_override_kes"),
            u_min=F("min_nights_override"),
            u_ref=Value("", output_field=CharField()),
            **trailing,
        )
        .values_list(*columns)
    )
    booking_rows = (
        nights_taken_by_bookings(start=start, end=end, now=now)
        .filter(**listing_filter)
        .order_by()
        .annotate(
            **leading,
            **listing_column,
            u_start=F("check_in"),
            u_end=F("check_out"),
            u_blocked=Value(True, output_field=BooleanField()),
            u_price=Value(None, output_field=IntegerField()),
            u_min=Value(None, output_field=IntegerField()),
            u_ref=F("ref"),
            **trailing,
        )
        .values_list(*columns)
    )
    return calendar_rows, booking_rows


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


@dataclass(frozen=True)
class NightSettings:
    """What the host set for one night (a CalendarDay row, as the quote and the guest calendar read it)."""

    blocked: bool
    price_override_kes: int | None
    min_nights_override: int | None


def nights_settings_and_bookings(
    *, listing_ids: list[int], start: datetime.date, end: datetime.date, now: datetime.datetime
) -> tuple[dict[int, dict[datetime.date, NightSettings]], dict[int, dict[datetime.date, str]]]:
    """The host's settings and the booked nights of these listings in [start, end), in one query.

    Calendar rows and booking rows come back together (UNION ALL), so a stay or a month costs one query
    however many nights it has and whether or not bookings exist.
    """
    rows = calendar_and_booking_rows(
        listing_filter={"listing_id__in": listing_ids}, start=start, end=end, now=now, with_listing=True
    )
    settings: dict[int, dict[datetime.date, NightSettings]] = defaultdict(dict)
    bookings = []
    for listing_id, first, last, blocked, price, min_nights, ref in rows:
        if ref:
            bookings.append({"listing_id": listing_id, "check_in": first, "check_out": last, "ref": ref})
        else:
            settings[listing_id][first] = NightSettings(
                blocked=blocked, price_override_kes=price, min_nights_override=min_nights
            )
    return settings, taken_nights_by_listing(bookings, start=start, end=end)
