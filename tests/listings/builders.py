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


def hold_stay(listing: Listing, days_ahead: int, nights: int = 2):
    """A guest of their own holds the stay: one person may hold only a couple of unpaid stays at once."""
    from django.utils import timezone

    from core.models import User
    from listings.selectors import Stay, stay_quote
    from reservations.services import GuestData, booking_hold

    guest = User.objects.create_user(email=f"guest-{listing.pk}-{days_ahead}@example.com", full_name="Grace Wanjiku")
    now = timezone.now()
    check_in = timezone.localdate() + datetime.timedelta(days=days_ahead)
    stay = Stay(check_in=check_in, check_out=check_in + datetime.timedelta(days=nights))
    quote = stay_quote(listing=listing, stay=stay, guests=1, now=now)
    assert quote.bookable, quote.reason
    return booking_hold(
        booker=guest,
        listing_id=listing.pk,
        stay=stay,
        guests=[GuestData(full_name=guest.full_name, email=guest.email)],
        shown_total_kes=quote.total_kes,
        idempotency_key=f"{listing.pk}-{days_ahead}",
        now=now,
    )
