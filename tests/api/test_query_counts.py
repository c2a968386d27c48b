"""The API's query counts stay the same as the data grows: more listings, photos, bookings, guests and nights."""

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from listings.models import ListingPhoto
from reservations.services import GuestData
from tests.helpers.stays import d
from tests.listings.builders import make_listing, set_night

pytestmark = pytest.mark.django_db


def queries(client, path: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as captured:
        answer = client.get(path, params)
    assert answer.status_code == 200, answer.content[:300]
    return len(captured)


def _grow(host, guest, hold, start: int, count: int) -> None:
    for n in range(start, start + count):
        listing = make_listing(host, title=f"Place {n}", amenities=["wifi", "pool", "kitchen"])
        for i in range(2):
            ListingPhoto.objects.create(listing=listing, image=ContentFile(b"x", name=f"p{n}-{i}.jpg"), order=i)
        set_night(listing, d(3 + n % 20), blocked=True)
        guests = [GuestData(full_name=guest.full_name, email=guest.email)]
        guests += [GuestData(full_name=f"Friend {n}-{i}", email=f"f{n}-{i}@example.com") for i in range(2)]
        hold(guest, 10 + n % 10, 12 + n % 10, guests=guests, listing_obj=listing)


def test_query_counts_do_not_grow_with_the_data(api_as, host, guest, hold, settings, anonymous):
    settings.BOOKING_MAX_UNPAID_HOLDS = 1000
    settings.BOOKING_HOLDS_PER_HOUR = 1000
    settings.API_CALLS_PER_MINUTE_USER = settings.API_CALLS_PER_MINUTE_ANON = 10_000
    _grow(host, guest, hold, 0, 2)
    as_guest, as_host = api_as(guest.email), api_as(host.email)
    first_listing = host.listings.order_by("id").first()
    first_booking = guest.bookings_made.order_by("id").first()
    dated = {"check_in": d(10).isoformat(), "check_out": d(13).isoformat(), "guests": 2}
    calls = [
        (anonymous, "/api/v1/listings/", None),
        (anonymous, "/api/v1/listings/", dated),
        (anonymous, f"/api/v1/listings/{first_listing.slug}/", None),
        (anonymous, f"/api/v1/listings/{first_listing.slug}/availability/", {"month": f"{d(10):%Y-%m}"}),
        (anonymous, f"/api/v1/listings/{first_listing.slug}/quote/", dated),
        (as_guest, "/api/v1/bookings/", None),
        (as_guest, f"/api/v1/bookings/{first_booking.ref}/", None),
        (as_host, "/api/v1/host/listings/", None),
        (as_host, f"/api/v1/host/listings/{first_listing.slug}/", None),
        (as_host, f"/api/v1/host/listings/{first_listing.slug}/calendar/", {"month": f"{d(10):%Y-%m}"}),
        (as_host, "/api/v1/host/bookings/", None),
    ]
    # One minute of the call limit's counter for the whole test: a new window's first call also tidies old ones.
    with time_machine.travel(timezone.now(), tick=False):
        for client, path, params in calls:
            queries(client, path, params)
        small = [queries(client, path, params) for client, path, params in calls]
        _grow(host, guest, hold, 2, 16)
        for n in range(6):  # more photos and nights on the first listing
            ListingPhoto.objects.create(
                listing=first_listing, image=ContentFile(b"x", name=f"more{n}.jpg"), order=10 + n
            )
            set_night(first_listing, d(20 + n), price_override_kes=12_000 + n)
        large = [queries(client, path, params) for client, path, params in calls]
    assert large == small, list(zip([path for _, path, _ in calls], small, large, strict=True))
    assert max(small) <= 12, small
