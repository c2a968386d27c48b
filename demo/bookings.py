"""Demo bookings for `seed_demo`: past and future stays for groups, made through the booking services.

Each demo booking has a fixed submission key, so running the seed again finds it and changes nothing.
The demo guest (guest@nexus.test) has a past stay, an upcoming confirmed stay, a cancelled one, a hold waiting
for payment, and is a linked guest on a trip someone else booked.
"""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from core.clock import local_date
from core.models import User
from listings.models import Listing
from listings.selectors import Stay, stay_quote
from reservations.models import Booking
from reservations.services import (
    BookingError,
    GuestData,
    booking_cancel,
    booking_hold,
    booking_lock,
    booking_payment_started,
    booking_record_payment,
)

DAY = datetime.timedelta(days=1)
DEMO_GUEST = "guest@nexus.test"


@dataclass(frozen=True)
class DemoBooking:
    key: str
    booker: str
    listing_title: str
    days_ahead: int  # check-in, counted from today; negative for a stay in the past
    nights: int
    guests: tuple[GuestData, ...]
    outcome: str  # "held", "confirmed" or "cancelled"
    cancel_reason: str = ""


GRACE = GuestData(full_name="Grace Wanjiku", email=DEMO_GUEST, phone="254708374149")

DEMO_BOOKINGS = [
    DemoBooking(
        "demo-past-westlands",
        DEMO_GUEST,
        "Westlands skyline apartment",
        -30,
        3,
        (GRACE, GuestData("Brian Mutua", "brian@example.com"), GuestData("Zawadi Mutua", age_group="child")),
        "confirmed",
    ),
    DemoBooking(
        "demo-diani-family",
        DEMO_GUEST,
        "Diani beach cottage under the palms",
        40,
        4,
        (
            GRACE,
            GuestData("Brian Mutua", "brian@example.com", "254722555111"),
            GuestData("Zawadi Mutua", age_group="child"),
            GuestData("Imani Mutua", age_group="child"),
        ),
        "confirmed",
    ),
    DemoBooking(
        "demo-naivasha-cancelled",
        DEMO_GUEST,
        "Lake Naivasha cottage with hippos at dusk",
        55,
        2,
        (GRACE, GuestData("Brian Mutua", "brian@example.com")),
        "cancelled",
        "Work trip moved to the same weekend.",
    ),
    DemoBooking(
        "demo-kilifi-held",
        DEMO_GUEST,
        "Kilifi creek cottage",
        70,
        3,
        (GRACE, GuestData("Faith Achieng", "faith@example.com", "254711222333")),
        "held",
    ),
    # Omar books; the demo guest is on the booking with her verified address, so she sees it in her trips.
    DemoBooking(
        "demo-nanyuki-with-friends",
        "omar@nexus.test",
        "Mount Kenya view farmhouse",
        25,
        3,
        (
            GuestData("Omar Said", "omar@nexus.test", "254733000222"),
            GRACE,
            GuestData("Halima Said", "halima@example.com"),
        ),
        "confirmed",
    ),
]


def seed_bookings(*, now: datetime.datetime | None = None) -> int:
    """Create the demo bookings that do not exist yet; returns how many were created."""
    now = now or timezone.now()
    created = 0
    for demo in DEMO_BOOKINGS:
        booker = User.objects.filter(email=demo.booker).first()
        listing = Listing.objects.filter(slug=slugify(demo.listing_title), is_published=True).first()
        if booker is None or listing is None:
            continue
        if Booking.objects.filter(booker=booker, idempotency_key=demo.key).exists():
            continue
        if _make(demo, booker=booker, listing=listing, now=now):
            created += 1
    return created


def _make(demo: DemoBooking, *, booker: User, listing: Listing, now: datetime.datetime) -> Booking | None:
    # A past stay is booked "back then": the services see the clock of that day.
    booked_at = now + min(demo.days_ahead - 10, 0) * DAY
    today = local_date(now)
    # The demo calendars have blocked nights: try a few weeks later if these are taken.
    for shift in range(0, 5):
        check_in = today + (demo.days_ahead + 7 * shift) * DAY
        stay = Stay(check_in=check_in, check_out=check_in + demo.nights * DAY)
        quote = stay_quote(listing=listing, stay=stay, guests=len(demo.guests), now=booked_at)
        if not quote.bookable:
            continue
        try:
            with transaction.atomic():
                return _book(demo, booker=booker, listing=listing, stay=stay, total=quote.total_kes, at=booked_at)
        except BookingError:
            continue
    return None


def _book(
    demo: DemoBooking, *, booker: User, listing: Listing, stay: Stay, total: int, at: datetime.datetime
) -> Booking:
    booking = booking_hold(
        booker=booker,
        listing_id=listing.pk,
        stay=stay,
        guests=list(demo.guests),
        shown_total_kes=total,
        idempotency_key=demo.key,
        now=at,
    )
    if demo.outcome == "held":
        return booking
    # Paid as M-Pesa pays: the prompt is started, then the whole amount is recorded, which confirms the booking.
    paid_at = at + datetime.timedelta(minutes=3)
    with transaction.atomic():
        booking = booking_lock(booking_id=booking.pk)
        booking_payment_started(
            booking=booking, blocks_until=paid_at, details={"demo": True, "amount_kes": booking.total_kes}
        )
        booking = booking_record_payment(
            booking=booking, amount_kes=booking.total_kes, details={"demo": True}, now=paid_at
        )
    if demo.outcome == "cancelled":
        booking = booking_cancel(booking=booking, user=booker, reason=demo.cancel_reason)
    return booking
