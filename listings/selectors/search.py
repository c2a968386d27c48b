"""Search and the home page's cards: listings that fit a query, each card with its cover and quote.

Search is written in SQL with plain rows, a departure from the ORM (STYLE.md §13) for bench/search.py's figures: on
10,000 listings and 200,000 bookings, building and compiling its three ORM queries cost about half the page's Python
time, more than PostgreSQL spent running them (39,400 Python calls a page, 0.04 of /healthz's requests/s). The SQL
mirrors the quote's rules; tests compare the two over grids of stays, clocks and bookings
(tests/listings/test_search_sql.py, test_selectors.py, test_taken_nights.py).
"""

import datetime
import functools
from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from django.core.paginator import Page, Paginator
from django.db import connection

from core.clock import local_date, local_time
from core.prepared import execute, instance_from_db
from core.reverse import reverse
from listings.models import COUNTY_NAMES, RATED_FROM_REVIEWS, Amenity, CalendarDay, Listing, ListingPhoto
from listings.photos import ImageSet, image_set
from listings.selectors.covers import cover_image_set, cover_thumbnail_url, cover_url, with_cover
from listings.selectors.nights import NightSettings
from listings.selectors.quote import Quote, Stay, stay_quotes_from_nights
from listings.taken_nights import taken_nights


class ListingCard(NamedTuple):
    """A listing as a card shows it (a named tuple, as the quote is: twelve a search page)."""

    listing: Listing
    url: str  # the property page
    cover_url: str  # the cover's thumbnail
    # The listing's card columns and its cover's as read: what the card's cover and details are remembered by
    # (listings/_card_body.html), so every card has its own.
    content: tuple
    # The page's first card, whose photo loads at once; a field rather than the template's loop.first, whose loop
    # object cost the twelve cards 0.06 M instructions (bench/instructions.py, dated search: 7.88 -> 7.82 M).
    first: bool
    cover: ImageSet | None = None  # every size of the cover, for <img srcset>
    quote: Quote | None = None


def _detail_url_parts() -> tuple[str, str]:
    """The property page's URL around its slug: cards differ only by slug, which needs no quoting (a reverse() per
    card was about 3% of a search page's Python calls)."""
    head, _, tail = reverse("listings:listing-detail", kwargs={"slug": "slug"}).rpartition("slug")
    return head, tail


def _cards(listings: list[Listing], quotes: dict[int, Quote] | None = None) -> list[ListingCard]:
    """Listings annotated by with_cover as cards."""
    head, tail = _detail_url_parts()
    quotes = quotes or {}
    cards = []
    for listing in listings:
        cover = cover_image_set(listing.cover_sizes)
        cards.append(
            ListingCard(
                listing=listing,
                url=f"{head}{listing.slug}{tail}",
                cover_url=cover_thumbnail_url(listing.cover_sizes),
                cover=cover,
                quote=quotes.get(listing.pk),
                content=(*(getattr(listing, name) for name in _CARD_FIELDS), cover),
                first=not cards,
            )
        )
    return cards


def listings_featured(*, limit: int = 8) -> list[ListingCard]:
    """Published listings with photos for the home page, newest first. One query."""
    listings = with_cover(
        Listing.objects.filter(is_published=True, nightly_price_kes__isnull=False, max_guests__isnull=False)
    ).filter(cover_sizes__isnull=False)
    return _cards(list(listings.order_by("-created_at", "-id")[:limit]))


# The result orders, as SQL over the listing `l`. Rated listings (RATED_FROM_REVIEWS reviews or more) by their
# average, then the rest ("New") by price.
SORT_ORDERS = {
    "price": "l.nightly_price_kes, l.id",
    "-price": "l.nightly_price_kes DESC, l.id DESC",
    "newest": "l.created_at DESC, l.id DESC",
    "rating": (
        f"CASE WHEN l.review_count >= {RATED_FROM_REVIEWS} THEN l.rating_sum * 1.0 / l.review_count END"
        " DESC NULLS LAST, l.review_count DESC, l.nightly_price_kes, l.id"
    ),
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


@functools.cache
def _contains_sql(vendor: str) -> str:
    """A case-insensitive `contains` of a column `{}` and a pattern parameter, written as the ORM's icontains
    writes it on this database (on PostgreSQL the form the trigram indexes serve)."""
    return f"{connection.ops.lookup_cast('icontains', 'CharField')} {connection.operators['icontains']}" % (
        "{}",
        "%s",
    )


def _in(values) -> str:
    return ", ".join(["%s"] * len(values))


LISTING = Listing._meta.db_table
CALENDAR = CalendarDay._meta.db_table
PHOTO = ListingPhoto._meta.db_table
AMENITY = Amenity._meta.db_table
LISTING_AMENITY = Listing.amenities.through._meta.db_table


def listing_ids_matching(*, query: SearchQuery, now: datetime.datetime) -> list[int]:
    """The ids of the published listings that fit the query, in its order; with a stay, only those the quote would
    accept. One SQL statement.

    Mirrors the quote's rules (tests compare the two): blocked nights, nights that bookings hold (the provider's
    SQL: bookings_blocking), minimum stay on the check-in night, maximum stay, guests and advance notice in Nairobi.
    """
    where = ["l.is_published = %s", "l.nightly_price_kes IS NOT NULL", "l.max_guests >= %s"]
    params: list = [True, max(query.guests, 1)]
    place = " ".join(query.where.split())
    if place:
        pattern = f"%{connection.ops.prep_for_like_query(place)}%"
        contains = _contains_sql(connection.vendor)
        either = [contains.format("l.town"), contains.format("l.title")]
        params += [pattern, pattern]
        counties = counties_matching(place)
        if counties:
            either.insert(0, f"l.county IN ({_in(counties)})")
            params[-2:-2] = counties
        where.append(f"({' OR '.join(either)})")
    if query.property_type:
        where.append("l.property_type = %s")
        params.append(query.property_type)
    if query.min_price_kes is not None:
        where.append("l.nightly_price_kes >= %s")
        params.append(query.min_price_kes)
    if query.max_price_kes is not None:
        where.append("l.nightly_price_kes <= %s")
        params.append(query.max_price_kes)
    for code in query.amenities:
        where.append(
            f"EXISTS (SELECT 1 FROM {LISTING_AMENITY} la JOIN {AMENITY} a ON a.id = la.amenity_id"
            " WHERE la.listing_id = l.id AND a.code = %s)"
        )
        params.append(code)
    if query.stay is not None:
        stay = query.stay
        nights = stay.nights
        lead_days = (stay.check_in - local_date(now)).days
        if nights < 1 or lead_days < 0:
            return []
        where += ["l.max_nights >= %s", "l.advance_notice_days <= %s"]
        params += [nights, lead_days]
        if lead_days == 0:
            where.append("l.same_day_cutoff_hour > %s")
            params.append(local_time(now).hour)
        # The minimum stay: the check-in night's override when there is one, else the listing's own minimum.
        overrides = f"SELECT c.listing_id FROM {CALENDAR} c WHERE c.date = %s AND c.min_nights_override"
        where.append(f"((l.min_nights <= %s AND l.id NOT IN ({overrides} > %s)) OR l.id IN ({overrides} <= %s))")
        params += [nights, stay.check_in, nights, stay.check_in, nights]
        # The host's blocked nights: on PostgreSQL the listing row's own blocked_nights (kept equal to the blocked
        # CalendarDay rows by a trigger: listings migration 0008 says why), elsewhere the rows of the stay's dates.
        if connection.vendor == "postgresql":
            where.append("NOT (l.blocked_nights && daterange(%s, %s))")
        else:
            where.append(
                f"l.id NOT IN (SELECT c.listing_id FROM {CALENDAR} c WHERE c.blocked AND c.date >= %s AND c.date < %s)"
            )
        params += [stay.check_in, stay.check_out]
        free, free_params = taken_nights().nights_free_sql(
            listing="l", start=stay.check_in, end=stay.check_out, now=now
        )
        where.append(free)
        params += free_params
    order = SORT_ORDERS.get(query.sort, SORT_ORDERS["price"])
    sql = f"SELECT l.id FROM {LISTING} l WHERE {' AND '.join(where)} ORDER BY {order}"
    with connection.cursor() as cursor:
        execute(cursor, sql, params)
        return [row[0] for row in cursor.fetchall()]


# What a card and its quote read of a listing, in the model's field order (as Model.from_db takes them).
_CARD_FIELD_SET = frozenset(
    {
        "id",
        "slug",
        "title",
        "county",
        "town",
        "property_type",
        "max_guests",
        "nightly_price_kes",
        "review_count",
        "rating_sum",
        "is_published",
        "min_nights",
        "max_nights",
        "advance_notice_days",
        "same_day_cutoff_hour",
        "cleaning_fee_kes",
        "weekly_discount_percent",
        "monthly_discount_percent",
        "cancellation_policy",
    }
)
_CARD_FIELDS = tuple(field.attname for field in Listing._meta.concrete_fields if field.attname in _CARD_FIELD_SET)
_CARD_ID = _CARD_FIELDS.index("id")
_COVER_FIELDS = ("image", "medium", "thumbnail", "width", "height")


# What the host set for a night, as the quote reads it: only rows that change a night are read.
_NIGHT_SET = "(c.blocked OR c.price_override_kes IS NOT NULL OR c.min_nights_override IS NOT NULL)"


@functools.cache
def _cover_join(vendor: str) -> str:
    """Each listing's cover `p`, its first photo (none without photos). On PostgreSQL a LATERAL subquery, which
    reads the photos' index once for each listing of the page. The portable join on the cover's id, under the plan
    PostgreSQL keeps for the page's statement, hashed every photo of the catalogue on every page: 0.127 ms of
    PostgreSQL's CPU against 0.097 for a page of twelve on the demo data, and more with every photo added
    (bench/demo_pages.py prints the dated search's ratio to /healthz)."""
    if vendor == "postgresql":
        return (
            f"LEFT JOIN LATERAL (SELECT first.* FROM {PHOTO} first WHERE first.listing_id = l.id"
            ' ORDER BY first."order", first.id LIMIT 1) p ON true'
        )
    return (
        f"LEFT JOIN {PHOTO} p ON p.id = (SELECT first.id FROM {PHOTO} first WHERE first.listing_id = l.id"
        ' ORDER BY first."order", first.id LIMIT 1)'
    )


def _page_listings(
    ids: list[int], stay: Stay | None
) -> tuple[list[Listing], dict[int, tuple], dict[int, tuple], dict[int, dict[datetime.date, NightSettings]]]:
    """The listings of a page in the order of `ids`, with the fields cards and quotes read (the others deferred),
    each one's cover sizes (a photo's file names, width, height; absent without photos), each one's card and cover
    columns as read (ListingCard.content) and, with a stay, what the
    host set for each of its nights ({listing_id: {night: NightSettings}}). One statement: a listing comes once per
    night set in the stay, or once with none (the nights were a statement of their own, a round trip a dated
    search page)."""
    columns = ", ".join(f"l.{name}" for name in _CARD_FIELDS)
    cover = ", ".join(f"p.{name}" for name in _COVER_FIELDS)
    nights, join, params = "", "", list(ids)
    if stay is not None:
        nights = ", c.date, c.blocked, c.price_override_kes, c.min_nights_override"
        join = f" LEFT JOIN {CALENDAR} c ON c.listing_id = l.id AND c.date >= %s AND c.date < %s AND {_NIGHT_SET}"
        params = [stay.check_in, stay.check_out, *ids]
    cover_join = _cover_join(connection.vendor)
    sql = f"SELECT {columns}, {cover}{nights} FROM {LISTING} l {cover_join}{join} WHERE l.id IN ({_in(ids)})"
    with connection.cursor() as cursor:
        execute(cursor, sql, params)
        rows = cursor.fetchall()
    count, covered = len(_CARD_FIELDS), len(_CARD_FIELDS) + len(_COVER_FIELDS)
    alias = connection.alias  # once: each read of the connection looks it up for this thread
    by_id, covers, contents = {}, {}, {}
    days: dict[int, dict[datetime.date, NightSettings]] = defaultdict(dict)
    for row in rows:
        pk = row[_CARD_ID]
        if pk not in by_id:
            by_id[pk] = instance_from_db(Listing, alias, _CARD_FIELDS, row[:count])
            contents[pk] = row[:covered]
            if row[count] is not None:
                covers[pk] = row[count:covered]
        if nights and row[covered] is not None:
            date, blocked, price, min_nights = row[covered:]
            days[pk][date] = NightSettings(
                blocked=bool(blocked), price_override_kes=price, min_nights_override=min_nights
            )
    return [by_id[pk] for pk in ids if pk in by_id], covers, contents, days


@dataclass(frozen=True)
class SearchResults:
    page: Page
    cards: list[ListingCard]
    query: SearchQuery


SEARCH_PAGE_SIZE = 12


def listing_search(
    *, query: SearchQuery, page_number: str | int | None, now: datetime.datetime, per_page: int = SEARCH_PAGE_SIZE
) -> SearchResults:
    """One page of search results as cards; with a stay, each card carries its quote. Two statements at most,
    whatever the number of results: the matching ids, and the page's listings with their covers and, with a stay,
    their calendar rows for it.

    The rules are evaluated once, for the ids in result order; the count and the page are cut from that list. The
    page's listings were just found free for the stay, so their quotes are priced from the calendar rows alone.
    """
    ids = listing_ids_matching(query=query, now=now)
    page = Paginator(ids, per_page).get_page(page_number)
    page_ids = list(page.object_list)
    listings, covers, contents, days = _page_listings(page_ids, query.stay) if page_ids else ([], {}, {}, {})
    page.object_list = listings
    quotes = {}
    if query.stay is not None and listings:
        quotes = stay_quotes_from_nights(
            listings=listings, stay=query.stay, guests=query.guests, now=now, days=days, taken={}
        )
    head, tail = _detail_url_parts()
    cards = []
    for listing in listings:
        cover = covers.get(listing.pk)
        cover_set = None
        if cover is not None:
            image, medium, thumbnail, width, height = cover
            cover_set = image_set(
                url=cover_url,
                image=image or "",
                medium=medium or "",
                thumbnail=thumbnail or "",
                width=width,
                height=height,
            )
        cards.append(
            ListingCard(
                listing=listing,
                url=f"{head}{listing.slug}{tail}",
                cover_url=cover_url(cover[2] or cover[0]) if cover is not None else "",
                cover=cover_set,
                quote=quotes.get(listing.pk),
                content=contents[listing.pk],
                first=not cards,
            )
        )
    return SearchResults(page=page, cards=cards, query=query)
