"""Every read of listings that is not trivial: the stay quote, search, the availability calendar."""

import calendar
import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.core.paginator import Page, Paginator
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, NullIf
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.models import User
from core.money import MPESA_MAX_PAYMENT_KES, percent_of
from listings.models import COUNTY_NAMES, Amenity, CalendarDay, Listing, ListingPhoto
from listings.policies import NAIROBI

DAY = datetime.timedelta(days=1)


# ---------------------------------------------------------------------------------------------------------------
# Bookings: the one place listings learns which nights bookings take.


def listing_ids_with_nights_taken(*, start: datetime.date, end: datetime.date, now: datetime.datetime) -> QuerySet:
    """The ids of listings where a booking holds a night in [start, end), as a subquery."""
    from reservations.selectors import listing_ids_with_nights_taken as booked_listing_ids

    return booked_listing_ids(start=start, end=end, now=now)


def nights_taken_by_bookings(*, start: datetime.date, end: datetime.date, now: datetime.datetime) -> QuerySet:
    """Stays of the bookings that hold nights in [start, end), as rows (listing_id, check_in, check_out, ref).

    The quote, search and both calendars ask here, so they never disagree with reservations' one rule.
    """
    from reservations.selectors import bookings_overlapping

    return bookings_overlapping(start=start, end=end, now=now).values("listing_id", "check_in", "check_out", "ref")


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
    columns = ("u_listing", "u_start", "u_end", "u_blocked", "u_price", "u_min", "u_ref")
    calendar_rows = (
        CalendarDay.objects.filter(listing_id__in=listing_ids, date__gte=start, date__lt=end)
        .exclude(blocked=False, price_override_kes__isnull=True, min_nights_override__isnull=True)
        .order_by()
        .annotate(
            u_listing=F("listing_id"),
            u_start=F("date"),
            u_end=F("date"),
            u_blocked=F("blocked"),
            u_price=F("price_override_kes"),
            u_min=F("min_nights_override"),
            u_ref=Value("", output_field=CharField()),
        )
        .values_list(*columns)
    )
    booking_rows = (
        nights_taken_by_bookings(start=start, end=end, now=now)
        .filter(listing_id__in=listing_ids)
        .order_by()
        .annotate(
            u_listing=F("listing_id"),
            u_start=F("check_in"),
            u_end=F("check_out"),
            u_blocked=Value(True, output_field=BooleanField()),
            u_price=Value(None, output_field=IntegerField()),
            u_min=Value(None, output_field=IntegerField()),
            u_ref=F("ref"),
        )
        .values_list(*columns)
    )
    settings: dict[int, dict[datetime.date, NightSettings]] = defaultdict(dict)
    bookings = []
    for listing_id, first, last, blocked, price, min_nights, ref in calendar_rows.union(
        booking_rows, all=True
    ).order_by():
        if ref:
            bookings.append({"listing_id": listing_id, "check_in": first, "check_out": last, "ref": ref})
        else:
            settings[listing_id][first] = NightSettings(
                blocked=blocked, price_override_kes=price, min_nights_override=min_nights
            )
    return settings, taken_nights_by_listing(bookings, start=start, end=end)


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


def listing_photos(*, listing: Listing) -> list[ListingPhoto]:
    """The listing's photos in the host's order: its gallery, and the host's photo list."""
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
    listings = _with_cover(
        Listing.objects.filter(host=host).annotate(photo_count=Count("photos", distinct=True))
    ).order_by("-created_at", "-id")
    return [
        HostListingRow(listing=listing, photo_count=listing.photo_count, cover_url=cover_url(listing.cover_name))
        for listing in listings
    ]


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


# ---------------------------------------------------------------------------------------------------------------
# The stay quote: the one place the stay rules and the price are computed.


@dataclass(frozen=True)
class Stay:
    """Nights from check_in up to, not including, check_out: the check-out day is free for the next guest."""

    check_in: datetime.date
    check_out: datetime.date

    @property
    def nights(self) -> int:
        return (self.check_out - self.check_in).days

    def night_dates(self) -> list[datetime.date]:
        return [self.check_in + i * DAY for i in range(self.nights)]


@dataclass(frozen=True)
class Night:
    date: datetime.date
    price_kes: int
    special_price: bool = False


@dataclass(frozen=True)
class Quote:
    """Either a bookable stay with its price line by line, or the reason it cannot be booked."""

    stay: Stay
    guests: int
    reason: str = ""
    nights: tuple[Night, ...] = ()
    nights_total_kes: int = 0
    discount_name: str = ""
    discount_percent: int = 0
    discount_kes: int = 0
    cleaning_fee_kes: int = 0
    total_kes: int = 0
    cancellation_policy: str = ""

    @property
    def bookable(self) -> bool:
        return not self.reason

    @property
    def pays_in_instalments(self) -> bool:
        return self.total_kes > MPESA_MAX_PAYMENT_KES

    @property
    def instalment_limit_kes(self) -> int:
        """The most M-Pesa takes in one payment: each instalment's ceiling."""
        return MPESA_MAX_PAYMENT_KES

    def frozen_fields(self) -> dict:
        """What a booking keeps of its quote, so later price changes do not touch it."""
        return {
            "guest_count": self.guests,
            "nights_total_kes": self.nights_total_kes,
            "discount_kes": self.discount_kes,
            "cleaning_fee_kes": self.cleaning_fee_kes,
            "total_kes": self.total_kes,
            "cancellation_policy": self.cancellation_policy,
        }


def day_label(day: datetime.date) -> str:
    return date_format(day, "j M")


def nairobi_today(now: datetime.datetime) -> datetime.date:
    return timezone.localdate(now, timezone=NAIROBI)


def earliest_check_in(*, listing: Listing, now: datetime.datetime) -> datetime.date:
    """The first night a stay may start, given the listing's advance notice and same-day cut-off."""
    today = nairobi_today(now)
    if listing.advance_notice_days:
        return today + listing.advance_notice_days * DAY
    if timezone.localtime(now, timezone=NAIROBI).hour >= listing.same_day_cutoff_hour:
        return today + DAY
    return today


def _stay_refusal(*, listing: Listing, stay: Stay, guests: int, now: datetime.datetime) -> str:
    """The rules that need no calendar row. Empty when the stay passes them."""
    if stay.check_out <= stay.check_in:
        return _("Check-out must be after check-in.")
    if not listing.is_published or listing.nightly_price_kes is None or listing.max_guests is None:
        return _("This place is not taking bookings.")
    if guests < 1:
        return _("Choose at least 1 guest.")
    if guests > listing.max_guests:
        return ngettext(
            "This place sleeps at most %(count)d guest.",
            "This place sleeps at most %(count)d guests.",
            listing.max_guests,
        ) % {"count": listing.max_guests}
    if stay.check_in < nairobi_today(now):
        return _("Check-in can't be in the past.")
    earliest = earliest_check_in(listing=listing, now=now)
    if stay.check_in < earliest:
        if listing.advance_notice_days:
            return ngettext(
                "The host needs %(count)d day's notice: the earliest check-in is %(day)s.",
                "The host needs %(count)d days' notice: the earliest check-in is %(day)s.",
                listing.advance_notice_days,
            ) % {"count": listing.advance_notice_days, "day": day_label(earliest)}
        return _("Same-day bookings close at %(hour)02d:00: the earliest check-in is %(day)s.") % {
            "hour": listing.same_day_cutoff_hour,
            "day": day_label(earliest),
        }
    if stay.nights > listing.max_nights:
        return _("Maximum stay is %(count)d nights.") % {"count": listing.max_nights}
    return ""


def _priced_quote(
    *,
    listing: Listing,
    stay: Stay,
    guests: int,
    days: dict[datetime.date, NightSettings],
    taken: dict[datetime.date, str],
) -> Quote:
    """The calendar rules and the price, from the stay's calendar rows and the nights bookings hold."""
    unavailable = [d for d in stay.night_dates() if d in taken or (d in days and days[d].blocked)]
    if unavailable:
        labels = [day_label(d) for d in unavailable[:3]]
        if len(unavailable) > 3:
            labels.append(_("%(count)d more") % {"count": len(unavailable) - 3})
        text = (
            labels[0]
            if len(labels) == 1
            else _("%(list)s and %(last)s")
            % {
                "list": ", ".join(labels[:-1]),
                "last": labels[-1],
            }
        )
        reason = ngettext(
            "Not available on the night of %(days)s.", "Not available on the nights of %(days)s.", len(unavailable)
        ) % {"days": text}
        return Quote(stay=stay, guests=guests, reason=reason)

    first = days.get(stay.check_in)
    min_nights = first.min_nights_override if first and first.min_nights_override else listing.min_nights
    if stay.nights < min_nights:
        reason = _("Minimum stay is %(count)d nights from %(day)s.") % {
            "count": min_nights,
            "day": day_label(stay.check_in),
        }
        return Quote(stay=stay, guests=guests, reason=reason)

    nights = []
    for d in stay.night_dates():
        override = days[d].price_override_kes if d in days else None
        nights.append(Night(date=d, price_kes=override or listing.nightly_price_kes, special_price=bool(override)))
    nights_total = sum(n.price_kes for n in nights)

    discount_name, discount_percent = "", 0
    if stay.nights >= 28 and listing.monthly_discount_percent >= listing.weekly_discount_percent:
        discount_name, discount_percent = _("Monthly discount"), listing.monthly_discount_percent
    elif stay.nights >= 7:
        discount_name, discount_percent = _("Weekly discount"), listing.weekly_discount_percent
    if not discount_percent:
        discount_name = ""
    discount = percent_of(nights_total, discount_percent)

    return Quote(
        stay=stay,
        guests=guests,
        nights=tuple(nights),
        nights_total_kes=nights_total,
        discount_name=discount_name,
        discount_percent=discount_percent,
        discount_kes=discount,
        cleaning_fee_kes=listing.cleaning_fee_kes,
        total_kes=nights_total - discount + listing.cleaning_fee_kes,
        cancellation_policy=listing.cancellation_policy,
    )


def stay_quote(*, listing: Listing, stay: Stay, guests: int, now: datetime.datetime) -> Quote:
    """Quote a stay: every night's price and the total, or the reason it is not bookable. One calendar query."""
    return stay_quotes(listings=[listing], stay=stay, guests=guests, now=now)[listing.pk]


def stay_quotes(*, listings: list[Listing], stay: Stay, guests: int, now: datetime.datetime) -> dict[int, Quote]:
    """stay_quote for several listings at once (a page of search results): one calendar query for all of them."""
    quotes: dict[int, Quote] = {}
    to_price = []
    for listing in listings:
        reason = _stay_refusal(listing=listing, stay=stay, guests=guests, now=now)
        if reason:
            quotes[listing.pk] = Quote(stay=stay, guests=guests, reason=reason)
        else:
            to_price.append(listing)
    if not to_price:
        return quotes
    ids = [listing.pk for listing in to_price]
    days, taken = nights_settings_and_bookings(listing_ids=ids, start=stay.check_in, end=stay.check_out, now=now)
    for listing in to_price:
        quotes[listing.pk] = _priced_quote(
            listing=listing, stay=stay, guests=guests, days=days.get(listing.pk, {}), taken=taken.get(listing.pk, {})
        )
    return quotes


# ---------------------------------------------------------------------------------------------------------------
# Guest side: property pages, search, the availability calendar.


def listing_get_for_viewer(*, slug: str, user) -> Listing:
    """A listing's public page: published listings for everyone, an unpublished one for its host only (else 404)."""
    visible = Q(is_published=True)
    if user is not None and user.is_authenticated:
        visible |= Q(host=user)
    return get_object_or_404(Listing.objects.select_related("host").filter(visible), slug=slug)


def listing_amenities(*, listing: Listing) -> list[Amenity]:
    return list(listing.amenities.order_by("position", "id"))


def listing_cover_name(listing_id: OuterRef) -> Subquery:
    """The file name of a listing's cover, its first photo (the thumbnail, else the image; None without photos),
    as a subquery for a query of listings or of rows that point at one (`listing_id` names that column)."""
    cover = ListingPhoto.objects.filter(listing_id=listing_id).order_by("order", "id")
    name = Coalesce(NullIf("thumbnail", Value("")), "image", output_field=CharField())
    return Subquery(cover.annotate(name=name).values("name")[:1])


def cover_url(name: str | None) -> str:
    """A cover file name from listing_cover_name as a URL ("" without photos)."""
    return default_storage.url(name) if name else ""


def _with_cover(queryset: QuerySet[Listing]) -> QuerySet[Listing]:
    """Each listing with its cover's file name, so a page of cards costs no extra query."""
    return queryset.annotate(cover_name=listing_cover_name(OuterRef("pk")))


@dataclass(frozen=True)
class ListingCard:
    listing: Listing
    url: str  # the property page
    cover_url: str
    quote: Quote | None = None


def _cards(listings: list[Listing], quotes: dict[int, Quote] | None = None) -> list[ListingCard]:
    """Listings annotated by _with_cover as cards, their links from one reverse(): they differ only by slug, which
    needs no quoting (a reverse() per card was about 3% of a search page's Python calls)."""
    head, _, tail = reverse("listings:listing-detail", kwargs={"slug": "slug"}).rpartition("slug")
    quotes = quotes or {}
    return [
        ListingCard(
            listing=listing,
            url=f"{head}{listing.slug}{tail}",
            cover_url=cover_url(listing.cover_name),
            quote=quotes.get(listing.pk),
        )
        for listing in listings
    ]


def listings_featured(*, limit: int = 8) -> list[ListingCard]:
    """Published listings with photos for the home page, newest first. One query."""
    listings = _with_cover(
        Listing.objects.filter(is_published=True, nightly_price_kes__isnull=False, max_guests__isnull=False)
    ).filter(cover_name__isnull=False)
    return _cards(list(listings.order_by("-created_at", "-id")[:limit]))


SORT_ORDERS = {
    "price": ("nightly_price_kes", "id"),
    "-price": ("-nightly_price_kes", "-id"),
    "newest": ("-created_at", "-id"),
}


@dataclass(frozen=True)
class SearchQuery:
    where: str = ""
    stay: Stay | None = None
    guests: int = 1
    property_type: str = ""
    min_price_kes: int | None = None
    max_price_kes: int | None = None
    amenities: tuple[str, ...] = ()
    sort: str = "price"


def counties_matching(text: str) -> list[str]:
    needle = text.casefold()
    return [code for code, name in COUNTY_NAMES.items() if needle in name.casefold() or needle in code]


def listings_matching(*, query: SearchQuery, now: datetime.datetime) -> QuerySet[Listing]:
    """Published listings that fit the query; with a stay, only those the quote would accept. One SQL query.

    Mirrors the quote's rules in SQL (tests compare the two): blocked nights, nights that bookings hold,
    minimum stay on the check-in night, maximum stay, guests and advance notice in Nairobi.
    """
    listings = Listing.objects.filter(
        is_published=True, nightly_price_kes__isnull=False, max_guests__gte=max(query.guests, 1)
    )
    where = " ".join(query.where.split())
    if where:
        listings = listings.filter(
            Q(county__in=counties_matching(where)) | Q(town__icontains=where) | Q(title__icontains=where)
        )
    if query.property_type:
        listings = listings.filter(property_type=query.property_type)
    if query.min_price_kes is not None:
        listings = listings.filter(nightly_price_kes__gte=query.min_price_kes)
    if query.max_price_kes is not None:
        listings = listings.filter(nightly_price_kes__lte=query.max_price_kes)
    for code in query.amenities:
        listings = listings.filter(
            Exists(Listing.amenities.through.objects.filter(listing_id=OuterRef("pk"), amenity__code=code))
        )
    if query.stay is not None:
        listings = _bookable_for(listings, stay=query.stay, now=now)
    return listings.order_by(*SORT_ORDERS.get(query.sort, SORT_ORDERS["price"]))


# Up to this many nights, search tests availability set-wise: it reads the blocked nights and the bookings of the
# stay's dates across the whole catalogue once and excludes those listings by hash. Longer stays read more nights
# for every listing than probing each candidate listing costs, so they probe instead (bench/search.py measures).
SET_WISE_MAX_NIGHTS = 7


def _bookable_for(listings: QuerySet[Listing], *, stay: Stay, now: datetime.datetime) -> QuerySet[Listing]:
    nights = stay.nights
    lead_days = (stay.check_in - nairobi_today(now)).days
    if nights < 1 or lead_days < 0:
        return listings.none()
    listings = listings.filter(max_nights__gte=nights, advance_notice_days__lte=lead_days)
    if lead_days == 0:
        listings = listings.filter(same_day_cutoff_hour__gt=timezone.localtime(now, timezone=NAIROBI).hour)
    # The minimum stay: the check-in night's override when there is one, else the listing's own minimum.
    overrides = CalendarDay.objects.filter(date=stay.check_in, min_nights_override__isnull=False)
    listings = listings.filter(
        Q(min_nights__lte=nights) & ~Q(pk__in=overrides.filter(min_nights_override__gt=nights).values("listing_id"))
        | Q(pk__in=overrides.filter(min_nights_override__lte=nights).values("listing_id"))
    )
    if nights <= SET_WISE_MAX_NIGHTS:
        blocked = CalendarDay.objects.filter(blocked=True, date__gte=stay.check_in, date__lt=stay.check_out)
        booked = listing_ids_with_nights_taken(start=stay.check_in, end=stay.check_out, now=now)
        return listings.exclude(pk__in=blocked.values("listing_id")).exclude(pk__in=booked)
    blocked = CalendarDay.objects.filter(
        listing=OuterRef("pk"), blocked=True, date__gte=stay.check_in, date__lt=stay.check_out
    )
    booked = nights_taken_by_bookings(start=stay.check_in, end=stay.check_out, now=now).filter(
        listing_id=OuterRef("pk")
    )
    return listings.exclude(Exists(blocked)).exclude(Exists(booked))


@dataclass(frozen=True)
class SearchResults:
    page: Page
    cards: list[ListingCard]
    query: SearchQuery


SEARCH_PAGE_SIZE = 12


def listing_search(
    *, query: SearchQuery, page_number: str | int | None, now: datetime.datetime, per_page: int = SEARCH_PAGE_SIZE
) -> SearchResults:
    """One page of search results as cards; with a stay, each card carries its quote. Three queries at most,
    whatever the number of results: the matching ids, the page's listings with their cover photos, their quotes.

    The rules are evaluated once, for the ids in result order; the count and the page are cut from that list.
    """
    ids = list(listings_matching(query=query, now=now).values_list("pk", flat=True))
    page = Paginator(ids, per_page).get_page(page_number)
    page_ids = list(page.object_list)
    on_page = _with_cover(Listing.objects.filter(pk__in=page_ids)) if page_ids else []
    by_id = {listing.pk: listing for listing in on_page}
    listings = [by_id[pk] for pk in page_ids if pk in by_id]
    page.object_list = listings
    quotes = (
        stay_quotes(listings=listings, stay=query.stay, guests=query.guests, now=now)
        if query.stay is not None and listings
        else {}
    )
    return SearchResults(page=page, cards=_cards(listings, quotes), query=query)


@dataclass(frozen=True)
class GuestNight:
    """One day of the guest's calendar: whether a stay can include its night, and that night's price."""

    date: datetime.date
    in_month: bool
    available: bool
    too_soon: bool
    price_kes: int | None
    min_nights: int | None
    state: str  # "check-in", "stay", "check-out" or ""

    @property
    def price_short(self) -> str:
        """The night's price in a calendar cell's width: 950, 10k, 12.5k."""
        if self.price_kes is None:
            return ""
        if self.price_kes < 1000:
            return str(self.price_kes)
        thousands, hundreds = divmod(self.price_kes, 1000)
        return f"{thousands}k" if hundreds < 100 else f"{thousands}.{hundreds // 100}k"


@dataclass(frozen=True)
class AvailabilityMonth:
    month: datetime.date
    weeks: list[list[GuestNight]]
    previous_month: datetime.date | None
    next_month: datetime.date | None


GUEST_CALENDAR_MONTHS_AHEAD = 12


def guest_month_bounds(*, now: datetime.datetime) -> tuple[datetime.date, datetime.date]:
    first = month_start(nairobi_today(now))
    return first, _add_months(first, GUEST_CALENDAR_MONTHS_AHEAD)


def availability_month(
    *, listing: Listing, month: datetime.date, now: datetime.datetime, stay: Stay | None = None
) -> AvailabilityMonth:
    """The guest's view of one month: each night available or not, with its price. One calendar query."""
    earliest, latest = guest_month_bounds(now=now)
    month = min(max(month_start(month), earliest), latest)
    weeks_of_dates = calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(month.year, month.month)
    start = month
    end = _add_months(month, 1)
    settings, taken = nights_settings_and_bookings(listing_ids=[listing.pk], start=start, end=end, now=now)
    rows, booked = settings.get(listing.pk, {}), taken.get(listing.pk, {})
    first_bookable = earliest_check_in(listing=listing, now=now)
    open_for_bookings = listing.is_published and listing.nightly_price_kes is not None
    weeks = []
    for week in weeks_of_dates:
        cells = []
        for day in week:
            row = rows.get(day)
            too_soon = day < first_bookable
            state = ""
            if stay is not None and stay.check_out > stay.check_in:
                if day == stay.check_in:
                    state = "check-in"
                elif day == stay.check_out:
                    state = "check-out"
                elif stay.check_in < day < stay.check_out:
                    state = "stay"
            cells.append(
                GuestNight(
                    date=day,
                    in_month=day.month == month.month,
                    available=open_for_bookings and not too_soon and not (row and row.blocked) and day not in booked,
                    too_soon=too_soon,
                    price_kes=(row.price_override_kes if row and row.price_override_kes else listing.nightly_price_kes),
                    min_nights=row.min_nights_override if row else None,
                    state=state,
                )
            )
        weeks.append(cells)
    return AvailabilityMonth(
        month=month,
        weeks=weeks,
        previous_month=_add_months(month, -1) if month > earliest else None,
        next_month=_add_months(month, 1) if month < latest else None,
    )


HOST_DASHBOARD_BOOKINGS = 5


def host_upcoming_bookings(*, host: User, now: datetime.datetime) -> list:
    """The next few stays on the host's listings that still hold their nights, soonest first, in one query."""
    from reservations.selectors import bookings_blocking

    today = timezone.localdate(now)
    return list(
        bookings_blocking(now=now)
        .filter(listing__host=host, check_out__gt=today)
        .select_related("listing")
        .order_by("check_in", "created_at")[:HOST_DASHBOARD_BOOKINGS]
    )
