"""Search and the home page's cards: listings that fit a query, each card with its cover and quote."""

import datetime
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Case, Exists, F, FloatField, OuterRef, Q, QuerySet, When
from django.db.models.expressions import OrderBy
from django.urls import reverse
from django.utils import timezone

from listings.models import COUNTY_NAMES, RATED_FROM_REVIEWS, CalendarDay, Listing
from listings.photos import ImageSet
from listings.selectors.covers import cover_image_set, cover_thumbnail_url, with_cover
from listings.selectors.nights import listing_ids_with_nights_taken, nights_taken_by_bookings
from listings.selectors.quote import Quote, Stay, stay_quotes


@dataclass(frozen=True)
class ListingCard:
    listing: Listing
    url: str  # the property page
    cover_url: str  # the cover's thumbnail
    cover: ImageSet | None = None  # every size of the cover, for <img srcset>
    quote: Quote | None = None


def _cards(listings: list[Listing], quotes: dict[int, Quote] | None = None) -> list[ListingCard]:
    """Listings annotated by with_cover as cards, their links from one reverse(): they differ only by slug, which
    needs no quoting (a reverse() per card was about 3% of a search page's Python calls)."""
    head, _, tail = reverse("listings:listing-detail", kwargs={"slug": "slug"}).rpartition("slug")
    quotes = quotes or {}
    return [
        ListingCard(
            listing=listing,
            url=f"{head}{listing.slug}{tail}",
            cover_url=cover_thumbnail_url(listing.cover_sizes),
            cover=cover_image_set(listing.cover_sizes),
            quote=quotes.get(listing.pk),
        )
        for listing in listings
    ]


def listings_featured(*, limit: int = 8) -> list[ListingCard]:
    """Published listings with photos for the home page, newest first. One query."""
    listings = with_cover(
        Listing.objects.filter(is_published=True, nightly_price_kes__isnull=False, max_guests__isnull=False)
    ).filter(cover_sizes__isnull=False)
    return _cards(list(listings.order_by("-created_at", "-id")[:limit]))


SORT_ORDERS = {
    "price": ("nightly_price_kes", "id"),
    "-price": ("-nightly_price_kes", "-id"),
    "newest": ("-created_at", "-id"),
    # Rated listings (RATED_FROM_REVIEWS reviews or more) by their average, then the rest ("New") by price.
    "rating": (
        OrderBy(
            Case(
                When(review_count__gte=RATED_FROM_REVIEWS, then=F("rating_sum") * 1.0 / F("review_count")),
                output_field=FloatField(),
            ),
            descending=True,
            nulls_last=True,
        ),
        "-review_count",
        "nightly_price_kes",
        "id",
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
    lead_days = (stay.check_in - timezone.localdate(now)).days
    if nights < 1 or lead_days < 0:
        return listings.none()
    listings = listings.filter(max_nights__gte=nights, advance_notice_days__lte=lead_days)
    if lead_days == 0:
        listings = listings.filter(same_day_cutoff_hour__gt=timezone.localtime(now).hour)
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
    on_page = with_cover(Listing.objects.filter(pk__in=page_ids)) if page_ids else []
    by_id = {listing.pk: listing for listing in on_page}
    listings = [by_id[pk] for pk in page_ids if pk in by_id]
    page.object_list = listings
    quotes = (
        stay_quotes(listings=listings, stay=query.stay, guests=query.guests, now=now)
        if query.stay is not None and listings
        else {}
    )
    return SearchResults(page=page, cards=_cards(listings, quotes), query=query)
