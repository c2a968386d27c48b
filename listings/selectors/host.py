"""The host dashboard's reads: the host's listings and the next stays on them."""

import datetime
from dataclasses import dataclass

from django.db.models import Count

from core.clock import local_date
from core.models import User
from listings.models import Listing
from listings.payment_guard import GUARDED_LISTING_FIELDS, off_platform_findings
from listings.selectors.covers import cover_thumbnail_url, with_cover
from listings.taken_nights import taken_nights


@dataclass(frozen=True)
class HostListingRow:
    listing: Listing
    photo_count: int
    cover_url: str
    needs_fix: bool = False  # its public text carries phone numbers or payment details (see its edit page)


def listings_for_host(*, host: User) -> list[HostListingRow]:
    """The host's listings, newest first, each with its photo count and cover thumbnail, in one query."""
    listings = with_cover(
        Listing.objects.filter(host=host).annotate(photo_count=Count("photos", distinct=True))
    ).order_by("-created_at", "-id")
    return [
        HostListingRow(
            listing=listing,
            photo_count=listing.photo_count,
            cover_url=cover_thumbnail_url(listing.cover_sizes),
            needs_fix=any(off_platform_findings(getattr(listing, name)) for name in GUARDED_LISTING_FIELDS),
        )
        for listing in listings
    ]


HOST_DASHBOARD_BOOKINGS = 5


def host_upcoming_bookings(*, host: User, now: datetime.datetime) -> list:
    """The next few stays on the host's listings that still hold their nights, soonest first, in one query."""
    today = local_date(now)
    return list(
        taken_nights()
        .bookings_blocking(now=now)
        .filter(listing__host=host, check_out__gt=today)
        .select_related("listing")
        .order_by("check_in", "created_at")[:HOST_DASHBOARD_BOOKINGS]
    )
