"""Bookings made through the one hold service, for tests that then pay for them."""

import datetime
import uuid

from django.utils import timezone

from listings.selectors import Stay, stay_quote
from reservations.models import Booking
from reservations.services import GuestData, booking_hold
from tests.listings.builders import make_listing


def booking_for(user, host, *, nightly=10_000, nights=3, guests=None) -> Booking:
    """A booking held by `user` for `nights` nights twenty days from today, on a new listing of `host`'s."""
    listing = make_listing(host, nightly_price_kes=nightly, max_nights=90)
    check_in = timezone.localdate() + datetime.timedelta(days=20)
    stay = Stay(check_in=check_in, check_out=check_in + datetime.timedelta(days=nights))
    guests = guests or [GuestData(full_name=user.full_name, email=user.email or "")]
    quote = stay_quote(listing=listing, stay=stay, guests=len(guests), now=timezone.now())
    return booking_hold(
        booker=user,
        listing_id=listing.pk,
        stay=stay,
        guests=guests,
        shown_total_kes=quote.total_kes,
        idempotency_key=uuid.uuid4().hex,
    )


def stay_booking(listing, booker, stay: Stay, *, status: str = "confirmed", paid: bool = True, guests: int = 2):
    """A booking of `stay` created directly in the database (as paid when `paid`), without M-Pesa rows: for rules
    that read only the booking's status, dates and amounts, such as who may review a past stay."""
    nights = (stay.check_out - stay.check_in).days
    total = nights * (listing.nightly_price_kes or 10_000)
    booking = Booking.objects.create(
        listing=listing,
        booker=booker,
        check_in=stay.check_in,
        check_out=stay.check_out,
        guest_count=guests,
        status=status,
        blocks_until=None if status == Booking.Status.CONFIRMED else timezone.now() + datetime.timedelta(minutes=15),
        idempotency_key=uuid.uuid4().hex,
        nights=[],
        nights_total_kes=total,
        total_kes=total,
        paid_kes=total if paid else 0,
        cancellation_policy=listing.cancellation_policy,
        check_in_at=timezone.now(),
        confirmed_at=timezone.now() if status == Booking.Status.CONFIRMED else None,
    )
    booking.guests.create(position=0, full_name=booker.full_name, email=booker.email, user=booker)
    return booking
