"""Listings for guest-side tests, built directly (the host forms have their own tests)."""

import datetime
import itertools

from listings.models import Amenity, CalendarDay, Listing

_numbers = itertools.count(1)


def make_listing(host, **fields) -> Listing:
    """A published listing in Diani (Kwale) that sleeps 4 at KES 10,000 a night, unless told otherwise."""
    amenities = fields.pop("amenities", [])
    n = next(_numbers)
    fields.setdefault("title", f"Beach cottage {n}")
    fields.setdefault("slug", f"beach-cottage-{n}")
    values = {
        "county": "kwale",
        "town": "Diani",
        "description": "A quiet cottage a short walk from the beach.",
        "max_guests": 4,
        "nightly_price_kes": 10_000,
        "is_published": True,
        "min_nights": 1,
        "max_nights": 60,
        "same_day_cutoff_hour": 18,
        **fields,
    }
    listing = Listing.objects.create(host=host, **values)
    if amenities:
        listing.amenities.set(Amenity.objects.filter(code__in=amenities))
    return listing


def set_night(listing: Listing, day: datetime.date, **fields) -> CalendarDay:
    row, _ = CalendarDay.objects.update_or_create(listing=listing, date=day, defaults=fields)
    return row
