"""The two month calendars: the host's (prices, blocks, notes, bookings) and the guest's (available nights)."""

import calendar
import datetime
import functools
from dataclasses import dataclass
from typing import NamedTuple

from django.db import connection
from django.db.models import BooleanField, CharField, DateField, DateTimeField, IntegerField, QuerySet, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.http import Http404
from django.utils.translation import get_language

from core.clock import local_date
from core.dates import date_names
from core.money import format_kes
from core.prepared import PreparedQuery, Slot, execute, slot_values
from listings.models import CalendarDay, Listing
from listings.selectors.listing import (
    GALLERY_COLUMNS,
    LISTING_ROW_COLUMNS,
    GalleryPhoto,
    gallery_from_rows,
    gallery_rows,
    listing_from_row,
    visible_listings,
)
from listings.selectors.nights import (
    DAY,
    NightSettings,
    calendar_and_booking_parts,
    calendar_and_booking_rows,
    listing_booked_nights,
    nights_settings_and_bookings,
)
from listings.selectors.quote import Quote, Stay, earliest_check_in, stay_quote, stay_quote_from_nights

# How far ahead a host may set the calendar: the last month the host's calendar shows.
CALENDAR_HORIZON_DAYS = 730


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def _add_months(month: datetime.date, months: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_from_query(value: str | None) -> datetime.date | None:
    """The month a ?month= value names, as its first day: '2027-01' -> 1 Jan 2027 (anything after the month is
    ignored); None for anything else. Both calendars read their month this way."""
    try:
        return datetime.datetime.strptime((value or "")[:7], "%Y-%m").date()
    except ValueError:
        return None


@functools.lru_cache(maxsize=64)
def month_weeks(month: datetime.date) -> tuple[tuple[datetime.date, ...], ...]:
    """The month as both calendars lay it out: whole weeks from Monday, the first and last filled with the days of
    the months around it. The same every time: worked out once a month (8 us each time, on every property page)."""
    weeks = calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(month.year, month.month)
    return tuple(tuple(week) for week in weeks)


class _DayLabels(NamedTuple):
    iso: str
    name: str
    weekday_short: str


@functools.lru_cache(maxsize=64)
def _day_labels(month: datetime.date, language: str | None) -> dict[datetime.date, _DayLabels]:
    """How the guest's calendar prints each of the month's own days in `language`, worked out once per month and
    language, where 31 dates were written out on every property page (bench/instructions.py, property page, with
    month_weeks remembered: 9.37 -> 9.11 M instructions)."""
    names = date_names()
    month_name, weekdays, weekdays_short = names.months[month.month], names.weekdays, names.weekdays_short
    return {
        day: _DayLabels(
            iso=day.isoformat(),
            name=f"{day.day} {month_name}, {weekdays[day.weekday()]}",
            weekday_short=weekdays_short[day.weekday()],
        )
        for week in month_weeks(month)
        for day in week
        if day.month == month.month
    }


def _months_around(
    month: datetime.date, *, first: datetime.date, last: datetime.date
) -> tuple[datetime.date | None, datetime.date | None]:
    """The months before and after this one, each None where the calendar stops (before first, after last)."""
    return (_add_months(month, -1) if month > first else None, _add_months(month, 1) if month < last else None)


def short_price(price_kes: int | None) -> str:
    """A night's price in a calendar cell's width: 950, 10k, 12.5k."""
    if price_kes is None:
        return ""
    if price_kes < 1000:
        return str(price_kes)
    thousands, hundreds = divmod(price_kes, 1000)
    return f"{thousands}k" if hundreds < 100 else f"{thousands}.{hundreds // 100}k"


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
    def price_short(self) -> str:
        return short_price(self.price_kes)


@dataclass(frozen=True)
class HostCalendarMonth:
    month: datetime.date  # the first day of the month
    weeks: list[list[HostNight]]
    previous_month: datetime.date | None
    next_month: datetime.date | None


def host_month_bounds(*, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last month the host's calendar shows: this month, and the month of the calendar's horizon."""
    return month_start(today), month_start(today + datetime.timedelta(days=CALENDAR_HORIZON_DAYS))


def host_calendar_month(*, listing: Listing, month: datetime.date) -> HostCalendarMonth:
    """The host's view of one month: for each night its price, block and note, minimum-stay override and booking.

    One query for the calendar rows, whatever the number of nights set, and one for the nights bookings hold.
    """
    today = local_date()
    month = month_start(month)
    weeks = month_weeks(month)
    first, last = weeks[0][0], weeks[-1][-1]
    rows = {
        row.date: row
        for row in CalendarDay.objects.filter(listing=listing, date__range=(first, last)).only(
            "date", "blocked", "note", "price_override_kes", "min_nights_override"
        )
    }
    booked = listing_booked_nights(listing=listing, first_night=first, last_night=last)

    def night(day: datetime.date) -> HostNight:
        row = rows.get(day)
        override = row.price_override_kes if row else None
        return HostNight(
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

    this_month, horizon = host_month_bounds(today=today)
    previous_month, next_month = _months_around(month, first=this_month, last=horizon)
    return HostCalendarMonth(
        month=month,
        weeks=[[night(day) for day in week] for week in weeks],
        previous_month=previous_month,
        next_month=next_month,
    )


class GuestNight(NamedTuple):
    """One day of the guest's calendar: whether a stay can include its night, and that night's price.

    A day of the month also carries what its cell prints, worked out here rather than in the template: each value
    the cell's template computes costs it several Python calls (a method call through Jinja's context, a lookup, an
    escape). The month's 42 cells are a fifth of the property page's instructions; this took 0.2 M of its 15.8 M
    (bench/instructions.py). A named tuple rather than a frozen dataclass, equally immutable: a frozen dataclass
    sets each of its eleven fields through object.__setattr__, and building the month's 42 days cost as much CPU as
    rendering them (5 of a day's 7 us).

    A day is also what its cell's text is remembered by (listings/_calendar_day.html, core.jinja2 remembered_each):
    whatever a cell prints must be a field here, and the cell prints nothing else."""

    date: datetime.date
    in_month: bool
    available: bool
    too_soon: bool
    price_kes: int | None
    min_nights: int | None
    state: str  # "check-in", "stay", "check-out" or ""
    iso: str = ""  # '2026-12-02'
    name: str = ""  # '2 December, Wednesday', as Django's 'j F, l': how the cell's button is named
    weekday_short: str = ""  # 'Wed', as Django's 'D'
    price_short: str = ""  # short_price(price_kes)
    price_text: str = ""  # 'KES 4,500', as the kes filter writes price_kes


@dataclass(frozen=True)
class AvailabilityMonth:
    month: datetime.date
    weeks: list[list[GuestNight]]
    previous_month: datetime.date | None
    next_month: datetime.date | None

    @property
    def month_title(self) -> str:
        """'December 2026', as Django's 'F Y'."""
        return f"{date_names().months[self.month.month]} {self.month.year}"


GUEST_CALENDAR_MONTHS_AHEAD = 12


def guest_month_bounds(*, now: datetime.datetime) -> tuple[datetime.date, datetime.date]:
    first = month_start(local_date(now))
    return first, _add_months(first, GUEST_CALENDAR_MONTHS_AHEAD)


def _guest_month(month: datetime.date, *, now: datetime.datetime) -> tuple[datetime.date, datetime.date]:
    """The month the guest's calendar shows for `month` (kept within its bounds), and the first day after it."""
    earliest, latest = guest_month_bounds(now=now)
    month = min(max(month_start(month), earliest), latest)
    return month, _add_months(month, 1)


def _availability_month(
    *,
    listing: Listing,
    month: datetime.date,
    now: datetime.datetime,
    stay: Stay | None,
    rows: dict[datetime.date, NightSettings],
    booked: dict[datetime.date, str],
) -> AvailabilityMonth:
    earliest, latest = guest_month_bounds(now=now)
    first_bookable = earliest_check_in(listing=listing, now=now)
    open_for_bookings = listing.is_published and listing.nightly_price_kes is not None
    nightly_price = listing.nightly_price_kes
    marks_stay = stay is not None and stay.check_out > stay.check_in
    labels = _day_labels(month, get_language())
    # Most of a month's nights cost the same: each price's two printed forms are worked out once a month shown.
    price_labels: dict[int | None, tuple[str, str]] = {}

    def night(day: datetime.date, in_month: bool) -> GuestNight:
        # Only the month's own nights are read as the host set them, and only they are printed: the days around it
        # are not shown.
        row = rows.get(day) if in_month else None
        too_soon = day < first_bookable
        state = ""
        if marks_stay:
            if day == stay.check_in:
                state = "check-in"
            elif day == stay.check_out:
                state = "check-out"
            elif stay.check_in < day < stay.check_out:
                state = "stay"
        price = row.price_override_kes if row and row.price_override_kes else nightly_price
        taken = row and row.blocked or in_month and day in booked
        available = open_for_bookings and not too_soon and not taken
        min_nights = row.min_nights_override if row else None
        # Positional, in GuestNight's order (date, in_month, available, too_soon, price_kes, min_nights, state, then
        # iso, name and weekday_short as _day_labels gives them, price_short and price_text), without a dict of
        # keywords for each of a page's 42 cells (bench/instructions.py, property page: 9.11 -> 8.86 M instructions).
        if in_month:
            prices = price_labels.get(price)
            if prices is None:
                prices = price_labels[price] = (short_price(price), format_kes(price) if price is not None else "")
            return GuestNight(day, True, available, too_soon, price, min_nights, state, *labels[day], *prices)
        return GuestNight(day, False, available, too_soon, price, min_nights, state)

    previous_month, next_month = _months_around(month, first=earliest, last=latest)
    return AvailabilityMonth(
        month=month,
        weeks=[[night(day, day.month == month.month) for day in week] for week in month_weeks(month)],
        previous_month=previous_month,
        next_month=next_month,
    )


def availability_month(
    *, listing: Listing, month: datetime.date, now: datetime.datetime, stay: Stay | None = None
) -> AvailabilityMonth:
    """The guest's view of one month: each night available or not, with its price. One calendar query."""
    month, end = _guest_month(month, now=now)
    settings, taken = nights_settings_and_bookings(listing_ids=[listing.pk], start=month, end=end, now=now)
    return _availability_month(
        listing=listing,
        month=month,
        now=now,
        stay=stay,
        rows=settings.get(listing.pk, {}),
        booked=taken.get(listing.pk, {}),
    )


def _listing_nights_query(*, listing_id: int, start: datetime.date, end: datetime.date, now: datetime.datetime):
    """nights_settings_and_bookings's query for one listing, as PreparedQuery compiles it."""
    return calendar_and_booking_rows(
        listing_filter={"listing_id": listing_id}, start=start, end=end, now=now, with_listing=False
    )


# Compiled once per thread: building this query cost 1.8 ms of CPU a property page and sending it 0.03 ms
# (bench/demo_pages.py, "property page"; core/prepared.py).
_LISTING_NIGHTS = PreparedQuery(_listing_nights_query)

# The nights' columns and the gallery's side by side, for the property page's one statement: each row fills its own
# and leaves the others empty.
_NIGHT_COLUMNS_EMPTY = {
    "u_start": Value(None, output_field=DateField()),
    "u_end": Value(None, output_field=DateField()),
    "u_blocked": Value(None, output_field=BooleanField()),
    "u_price": Value(None, output_field=IntegerField()),
    "u_min": Value(None, output_field=IntegerField()),
    "u_ref": Value("", output_field=CharField()),
}
_NIGHT_ROW = -1  # a night's row in the gallery's kind column
# Typed: PostgreSQL settles the type of a column that is NULL in both nights' rows before it meets the photos'.
_NO_NUMBER = Cast(Value(None), output_field=IntegerField())
_GALLERY_COLUMNS_EMPTY = {
    "u_kind": Value(_NIGHT_ROW),
    "u_position": _NO_NUMBER,
    "u_id": _NO_NUMBER,
    "u_image": Value(""),
    "u_medium": Value(""),
    "u_thumbnail": Value(""),
    "u_width": _NO_NUMBER,
    "u_height": _NO_NUMBER,
    "u_caption": Value(""),
}


_LISTING_ROW = -2  # the listing's own row in the gallery's kind column
# The listing's columns in the nights' and the gallery's rows: empty. The listing's row comes first in the union, so
# PostgreSQL takes each column's type from it.
_LISTING_COLUMNS_EMPTY = {f"u_l{n}": Value(None, output_field=IntegerField()) for n in range(len(LISTING_ROW_COLUMNS))}


def _property_page_query(
    *, slug: str, user_id: int | None, start: datetime.date, end: datetime.date, now: datetime.datetime
):
    """The listing at `slug` with its host if the viewer (user_id; None for a visitor, whom only published listings
    are shown) may see its page, its nights in [start, end) (as _listing_nights_query reads them) and its gallery
    rows, one UNION ALL. A row: the listing's columns (LISTING_ROW_COLUMNS), the nights' six, then the gallery's;
    each row fills its own and leaves the others empty, the kind column telling them apart (_LISTING_ROW,
    _NIGHT_ROW, or a gallery row's kind)."""
    visible = visible_listings(slug=slug, user_id=user_id)
    listing_id = Subquery(visible.order_by().values("id")[:1])
    listing_row = (
        visible.order_by()
        .annotate(**_NIGHT_COLUMNS_EMPTY, **_GALLERY_COLUMNS_EMPTY | {"u_kind": Value(_LISTING_ROW)})
        .values_list(*LISTING_ROW_COLUMNS, *_NIGHT_COLUMNS_EMPTY, *_GALLERY_COLUMNS_EMPTY)
    )
    nights = calendar_and_booking_parts(
        listing_filter={"listing_id": listing_id},
        start=start,
        end=end,
        now=now,
        with_listing=False,
        leading=_LISTING_COLUMNS_EMPTY,
        trailing=_GALLERY_COLUMNS_EMPTY,
    )
    gallery = gallery_rows(listing_id=listing_id, leading=_LISTING_COLUMNS_EMPTY | _NIGHT_COLUMNS_EMPTY)
    return listing_row.union(*nights, *gallery, all=True).order_by()


def _property_page_for_visitor(*, slug: str, start: datetime.date, end: datetime.date, now: datetime.datetime):
    return _property_page_query(slug=slug, user_id=None, start=start, end=end, now=now)


# Compiled once per thread, one statement for the listing, its month, the stay's nights and its gallery. Read apart,
# the nights and the gallery cost 0.24 ms of the process's CPU and 0.18 ms of PostgreSQL's, together 0.17-0.20 and
# 0.12-0.15 (5,000 reads of the demo listing's); the listing read on its own was a round trip more (see
# docs/benchmarks.md, seventh round: system and PostgreSQL time, which bench/instructions.py does not count).
# bench/demo_pages.py prints the property page's ratio to /healthz. A visitor's and a signed-in viewer's are two
# statements: a visitor sees published listings only. On PostgreSQL the page reads the same as one row instead
# (_property_page_row_sql).
_PROPERTY_PAGE_FOR_VISITOR = PreparedQuery(_property_page_for_visitor)
_PROPERTY_PAGE = PreparedQuery(_property_page_query)


def _nights_from_rows(
    rows, *, start: datetime.date, end: datetime.date
) -> tuple[dict[datetime.date, NightSettings], dict[datetime.date, str]]:
    """What nights_settings_and_bookings answers for one listing, from its rows (first, last, blocked, price,
    minimum nights, booking ref): the host's settings and the booked nights in [start, end)."""
    settings: dict[datetime.date, NightSettings] = {}
    taken: dict[datetime.date, str] = {}
    for first, last, blocked, price, min_nights, ref in rows:
        if ref:
            night, last = max(first, start), min(last, end)
            while night < last:
                taken[night] = ref
                night += DAY
        else:
            settings[first] = NightSettings(blocked=blocked, price_override_kes=price, min_nights_override=min_nights)
    return settings, taken


def _listing_nights(
    *, listing_id: int, start: datetime.date, end: datetime.date, now: datetime.datetime
) -> tuple[dict[datetime.date, NightSettings], dict[datetime.date, str]]:
    """What nights_settings_and_bookings answers for one listing. One query."""
    rows = _LISTING_NIGHTS.rows(listing_id=listing_id, start=start, end=end, now=now)
    return _nights_from_rows(rows, start=start, end=end)


# The widest range the property page reads in one query for its month and its stay (a stay in or next to the month
# shown); a stay further away is read on its own. Bounded, so that a far ?month= never reads a year of rows.
ONE_READ_MAX_DAYS = 93


def _nights_to_read(
    *, month: datetime.date, now: datetime.datetime, stay: Stay | None, quote: bool
) -> tuple[datetime.date, datetime.date, datetime.date]:
    """The month shown (its first day) and the nights [start, end) to read for it and, if `quote`, for the stay."""
    month, end = _guest_month(month, now=now)
    start = month
    if quote and stay is not None and stay.check_out > stay.check_in:
        joined_start, joined_end = min(start, stay.check_in), max(end, stay.check_out)
        if (joined_end - joined_start).days <= ONE_READ_MAX_DAYS:
            start, end = joined_start, joined_end
    return month, start, end


def _month_and_quote(
    *,
    listing: Listing,
    month: datetime.date,
    start: datetime.date,
    end: datetime.date,
    now: datetime.datetime,
    stay: Stay | None,
    guests: int,
    quote: bool,
    rows: dict[datetime.date, NightSettings],
    booked: dict[datetime.date, str],
) -> tuple[AvailabilityMonth, Quote | None]:
    """The month, and (if `quote`) the stay's quote, from the nights read in [start, end)."""
    month_view = _availability_month(listing=listing, month=month, now=now, stay=stay, rows=rows, booked=booked)
    if not quote or stay is None:
        return month_view, None
    if start <= stay.check_in and stay.check_out <= end:
        return month_view, stay_quote_from_nights(
            listing=listing, stay=stay, guests=guests, now=now, days=rows, taken=booked
        )
    return month_view, stay_quote(listing=listing, stay=stay, guests=guests, now=now)


def availability_month_and_quote(
    *, listing: Listing, month: datetime.date, now: datetime.datetime, stay: Stay | None, guests: int, quote: bool
) -> tuple[AvailabilityMonth, Quote | None]:
    """The property page's calendar month, with the stay marked, and (if `quote`) the stay's quote: as
    availability_month and stay_quote answer, in one calendar query when the stay lies in or near the month."""
    month, start, end = _nights_to_read(month=month, now=now, stay=stay, quote=quote)
    rows, booked = _listing_nights(listing_id=listing.pk, start=start, end=end, now=now)
    return _month_and_quote(
        listing=listing, month=month, start=start, end=end, now=now, stay=stay, guests=guests, quote=quote,
        rows=rows, booked=booked,
    )  # fmt: skip


PageRows = tuple[tuple | None, list[tuple], list[tuple]]


def _property_page_rows(
    *, slug: str, user_id: int | None, start: datetime.date, end: datetime.date, now: datetime.datetime
) -> PageRows:
    """What the property page reads, as _property_page_query's UNION ALL gives it on any database: the listing's
    row (LISTING_ROW_COLUMNS; None where the viewer may not see it), its nights' rows (as _listing_nights_query's)
    and its gallery's rows (GALLERY_COLUMNS)."""
    if user_id is not None:
        read = _PROPERTY_PAGE.rows(slug=slug, user_id=user_id, start=start, end=end, now=now)
    else:
        read = _PROPERTY_PAGE_FOR_VISITOR.rows(slug=slug, start=start, end=end, now=now)
    first_night, first_gallery = len(LISTING_ROW_COLUMNS), len(LISTING_ROW_COLUMNS) + len(_NIGHT_COLUMNS_EMPTY)
    listing_row, nights, gallery = None, [], []
    for row in read:
        kind = row[first_gallery]
        if kind == _NIGHT_ROW:
            nights.append(tuple(row[first_night:first_gallery]))
        elif kind == _LISTING_ROW:
            listing_row = tuple(row[:first_night])
        else:
            gallery.append(tuple(row[first_gallery:]))
    return listing_row, nights, gallery


_NIGHT_COLUMNS = tuple(_NIGHT_COLUMNS_EMPTY)


@functools.cache
def _property_page_row_sql(*, for_visitor: bool) -> tuple[str, tuple]:
    """_property_page_rows's read on PostgreSQL as one row: the listing's columns, then an array a column of its
    nights' rows, then an array a column of its gallery's rows, each part the same queryset as in the UNION ALL (the
    nights' through bookings_blocking), compiled once per process with Slots for the values.

    Why one row: the UNION ALL's 23 rows of 45 columns (the demo listing's month) cost PostgreSQL 147 us of CPU and
    the driver 44 us, against 97-103 and 35-38 for the same read as one row (3,000 runs each, in turn); the property
    page 5.54 -> 5.31 M instructions (bench/instructions.py). bench/demo_pages.py prints its ratio to /healthz.
    Elsewhere (SQLite) the UNION ALL: the two are compared over a grid of viewers, ranges and clocks
    (tests/listings/test_selectors.py)."""
    slug, user_id = Slot("slug", CharField()), None if for_visitor else Slot("user_id", IntegerField())
    start, end, now = Slot("start", DateField()), Slot("end", DateField()), Slot("now", DateTimeField())
    listing_id = RawSQL('page_listing."id"', (), output_field=IntegerField())
    listing = visible_listings(slug=slug, user_id=user_id).order_by().values_list(*LISTING_ROW_COLUMNS)
    calendar, bookings = calendar_and_booking_parts(
        listing_filter={"listing_id": listing_id}, start=start, end=end, now=now, with_listing=False
    )
    photos, amenities = gallery_rows(listing_id=listing_id)
    listing_sql, listing_params = listing.query.sql_with_params()

    def arrays(columns: tuple[str, ...], parts: tuple[QuerySet, ...], alias: str) -> tuple[str, tuple]:
        """A LATERAL join of one array a column over the parts' UNION ALL, each array of its column's type in the
        first part (a column given as a value in every part, such as the gallery's kind, would otherwise be text)."""
        annotations = parts[0].query.annotations
        aggregated = ", ".join(
            f'array_agg(part."{column}")::{annotations[column].output_field.cast_db_type(connection)}[]'
            for column in columns
        )
        compiled = [part.query.sql_with_params() for part in parts]
        union = " UNION ALL ".join(f"({sql})" for sql, _ in compiled)
        joined = f" LEFT JOIN LATERAL (SELECT {aggregated} FROM ({union}) part) {alias} ON true"
        return joined, tuple(param for _, params in compiled for param in params)

    nights_join, nights_params = arrays(_NIGHT_COLUMNS, (calendar, bookings), "page_nights")
    gallery_join, gallery_params = arrays(GALLERY_COLUMNS, (photos, amenities), "page_gallery")
    sql = (
        f"SELECT page_listing.*, page_nights.*, page_gallery.* FROM ({listing_sql}) page_listing"
        f"{nights_join}{gallery_join}"
    )
    return sql, (*listing_params, *nights_params, *gallery_params)


def _property_page_row(
    *, slug: str, user_id: int | None, start: datetime.date, end: datetime.date, now: datetime.datetime
) -> PageRows:
    """_property_page_rows's answer from _property_page_row_sql's one row (PostgreSQL)."""
    sql, params = _property_page_row_sql(for_visitor=user_id is None)
    values = {"slug": slug, "user_id": user_id, "start": start, "end": end, "now": now}
    with connection.cursor() as cursor:
        execute(cursor, sql, slot_values(params, values))
        row = cursor.fetchone()
    if row is None:
        return None, [], []
    first_night = len(LISTING_ROW_COLUMNS)
    first_gallery = first_night + len(_NIGHT_COLUMNS)
    return tuple(row[:first_night]), _rows(row[first_night:first_gallery]), _rows(row[first_gallery:])


def _rows(arrays: tuple) -> list[tuple]:
    """Rows from one array a column (each NULL where there were no rows)."""
    return [] if arrays[0] is None else list(zip(*arrays, strict=True))


class PropertyPage(NamedTuple):
    """What the property page reads: the listing with its host, its month, the stay's quote, its photos and
    amenities, and `listing_content`: the listing's and its host's columns and the gallery's rows exactly as read,
    which the page's parts that show only those (core.jinja2.remembered_blocks) are remembered by."""

    listing: Listing
    month: AvailabilityMonth
    quote: Quote | None
    photos: list[GalleryPhoto]
    amenities: list[str]
    listing_content: tuple


def property_page(
    *, slug: str, user, month: datetime.date, now: datetime.datetime, stay: Stay | None, guests: int
) -> PropertyPage:
    """The listing at `slug` as listing_get_for_viewer gives it to `user` (404 where it would), with
    availability_month_and_quote's month and quote and its photos and amenities (as gallery_from_rows gives them):
    one statement when the stay lies in or near the month."""
    month, start, end = _nights_to_read(month=month, now=now, stay=stay, quote=True)
    user_id = user.pk if user is not None and user.is_authenticated else None
    read = _property_page_row if connection.vendor == "postgresql" else _property_page_rows
    listing_row, nights, gallery = read(slug=slug, user_id=user_id, start=start, end=end, now=now)
    listing = None if listing_row is None else listing_from_row(listing_row, db=connection.alias)
    if listing is None:
        raise Http404("No listing matches the given query.")
    rows, booked = _nights_from_rows(nights, start=start, end=end)
    month_view, quote = _month_and_quote(
        listing=listing, month=month, start=start, end=end, now=now, stay=stay, guests=guests, quote=True,
        rows=rows, booked=booked,
    )  # fmt: skip
    photos, amenities = gallery_from_rows(gallery)
    # The gallery's rows come in no order: sorted, the same photos and amenities are the same content.
    listing_content = (tuple(listing_row), tuple(sorted(gallery)))
    return PropertyPage(
        listing=listing, month=month_view, quote=quote, photos=photos, amenities=amenities,
        listing_content=listing_content,
    )  # fmt: skip
