"""Demo reviews for `seed_demo`: past stays, created in the database as confirmed and paid (no M-Pesa ledger rows are
invented), with published guest reviews (varied, some critical) and host reviews of the guests, so that cards show
ratings and host profiles have a history; and one recent stay of the demo guest whose host has written a review that
waits for the guest's (the double-blind state).

Every listing on the first page of /listings/?guests=2 gets at least three published reviews, and most others do
too; a few stay "New". Each stay has a fixed submission key, so running the seed again creates nothing more.
"""

import datetime
import itertools

from django.db import transaction
from django.utils import timezone

from core.clock import NAIROBI, local_date
from core.models import User
from listings.models import Listing
from listings.selectors import SearchQuery, listing_search
from reservations.models import Booking
from reservations.services.nights import booked_nights_sync
from reviews.models import Review, window_ends_on
from reviews.services import listing_rating_refresh

DAY = datetime.timedelta(days=1)
DEMO_GUEST = "guest@nexus.test"

# Guests who stayed: (e-mail, full name). They have no password: nobody signs in as them.
REVIEWERS = [
    ("amina.hassan@example.com", "Amina Hassan"),
    ("kevin.otieno@example.com", "Kevin Otieno"),
    ("wairimu.njoroge@example.com", "Wairimu Njoroge"),
    ("david.kiprop@example.com", "David Kiprop"),
    ("fatuma.ali@example.com", "Fatuma Ali"),
    ("peter.mwangi@example.com", "Peter Mwangi"),
    ("njeri.kariuki@example.com", "Njeri Kariuki"),
    ("juma.baraka@example.com", "Juma Baraka"),
]

# (overall, the six sub-ratings, text): varied, realistic, some critical. No numbers, so no payment guard trouble.
GUEST_REVIEWS = [
    (
        5,
        (5, 5, 5, 5, 5, 5),
        "Everything was as in the photos and the host answered every message within minutes. "
        "We would happily come back.",
    ),
    (
        5,
        (5, 5, 4, 5, 5, 4),
        "Spotless, quiet and close to everything we needed. Check-in took a little while "
        "because the caretaker was out, but the host sorted it quickly.",
    ),
    (
        4,
        (4, 4, 5, 5, 4, 4),
        "A comfortable stay. The beds were great and the water was hot; the Wi-Fi dropped now "
        "and then in the evenings.",
    ),
    (
        5,
        (5, 5, 5, 5, 4, 5),
        "Lovely place for a family weekend. The children loved the garden and the kitchen had "
        "everything for cooking our own meals.",
    ),
    (
        3,
        (3, 3, 4, 4, 4, 3),
        "Good location but the place needs some care: a dripping tap, a broken blind and "
        "towels that had seen better days. The host promised to fix them.",
    ),
    (4, (4, 5, 4, 4, 5, 4), "Great views and a friendly askari at the gate. Bring a torch for the path at night."),
    (
        5,
        (5, 5, 5, 5, 5, 4),
        "Exactly what we hoped for after a long drive. Calm, clean and the host left fresh fruit for our arrival.",
    ),
    (
        2,
        (2, 3, 2, 3, 4, 2),
        "Disappointing. The power went off for most of the evening and the backup did not "
        "start; nobody answered until the next morning. The location is the best thing about it.",
    ),
    (4, (4, 4, 4, 4, 5, 4), "Well placed for the beach and the shops. A bit of road noise early in the morning."),
    (5, (5, 4, 5, 5, 5, 5), "The host's directions were perfect and the place was ready early. Highly recommended."),
    (4, (5, 4, 4, 4, 4, 3), "Clean and comfortable, though a little pricey for what it is in the low season."),
    (
        3,
        (4, 2, 3, 4, 3, 3),
        "Smaller than the photos suggest and the second bedroom is really a box room. Fine for a night or two.",
    ),
]

HOST_REVIEWS = [
    (5, True, "Friendly, tidy guests who left the place as they found it. Welcome back any time."),
    (5, True, "Easy to host: clear about their arrival time and very respectful of the neighbours."),
    (4, True, "Good guests. They left a little late on the last morning but told us in advance."),
    (3, False, "Left the kitchen in quite a state and played music late despite the house rules."),
]

# How many reviewed stays each listing gets, by its place in the seed; listings outside the first page of search
# sometimes get none or two, so the demo also shows "New".
STAYS_PER_LISTING = [3, 4, 5, 3, 6, 4, 3, 5]


def seed_reviews(*, now: datetime.datetime | None = None) -> int:
    """Create the demo stays and reviews that do not exist yet; returns how many reviews were created."""
    now = now or timezone.now()
    today = local_date(now)
    reviewers = [_reviewer(email, name) for email, name in REVIEWERS]
    first_page = {card.listing.pk for card in listing_search(query=SearchQuery(guests=2), page_number=1, now=now).cards}
    listings = list(Listing.objects.filter(is_published=True).select_related("host").order_by("id"))
    texts = itertools.cycle(range(len(GUEST_REVIEWS)))
    created = 0
    for position, listing in enumerate(listings):
        count = STAYS_PER_LISTING[position % len(STAYS_PER_LISTING)]
        if listing.pk not in first_page and position % 5 == 4:
            count = (0, 2)[position % 2]
        with transaction.atomic():
            for number in range(count):
                guest = reviewers[(position + number) % len(reviewers)]
                check_out = today - (40 + 9 * number + position % 5) * DAY
                created += _reviewed_stay(
                    listing,
                    guest,
                    key=f"demo-review-{listing.slug}-{number}",
                    check_out=check_out,
                    nights=2 + number % 2,
                    guest_review=GUEST_REVIEWS[next(texts)],
                    host_review=HOST_REVIEWS[(position + number) % len(HOST_REVIEWS)],
                    now=now,
                )
            listing_rating_refresh(listing_id=listing.pk)
    created += _awaiting_the_guest(today=today, now=now)
    return created


def _reviewer(email: str, name: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=None, full_name=name)
    return user


def _stay(listing: Listing, guest: User, *, key: str, check_out: datetime.date, nights: int, now) -> Booking | None:
    """A confirmed stay paid in full, created in the database (no M-Pesa rows); None when it exists already."""
    if Booking.objects.filter(booker=guest, idempotency_key=key).exists():
        return None
    check_in = check_out - nights * DAY
    if Booking.objects.filter(
        listing=listing, status__in=Booking.BLOCKING, check_in__lt=check_out, check_out__gt=check_in
    ).exists():
        return None
    price = listing.nightly_price_kes or 5_000
    total = price * nights + listing.cleaning_fee_kes
    booking = Booking.objects.create(
        listing=listing,
        booker=guest,
        check_in=check_in,
        check_out=check_out,
        guest_count=2,
        status=Booking.Status.CONFIRMED,
        blocks_until=None,
        idempotency_key=key,
        nights=[{"date": (check_in + i * DAY).isoformat(), "price_kes": price} for i in range(nights)],
        nights_total_kes=price * nights,
        cleaning_fee_kes=listing.cleaning_fee_kes,
        total_kes=total,
        paid_kes=total,
        cancellation_policy=listing.cancellation_policy,
        check_in_at=datetime.datetime.combine(check_in, listing.check_in_time, tzinfo=NAIROBI),
        confirmed_at=now - (check_out - check_in).days * DAY - 20 * DAY,
    )
    booked_nights_sync(booking, kept_before=False)  # written around the booking services: its nights too
    booking.guests.create(position=0, full_name=guest.full_name, email=guest.email, user=guest)
    return booking


def _review(booking: Booking, *, direction: str, author: User, subject: User, published_at, **fields) -> Review:
    return Review.objects.create(
        booking=booking,
        listing=booking.listing,
        direction=direction,
        author=author,
        subject=subject,
        window_ends_on=window_ends_on(booking.check_out),
        published_at=published_at,
        **fields,
    )


def _reviewed_stay(listing, guest, *, key, check_out, nights, guest_review, host_review, now) -> int:
    booking = _stay(listing, guest, key=key, check_out=check_out, nights=nights, now=now)
    if booking is None:
        return 0
    published_at = datetime.datetime.combine(check_out + 3 * DAY, datetime.time(18, 0), tzinfo=NAIROBI)
    rating, subs, text = guest_review
    names = ("cleanliness", "accuracy", "check_in", "communication", "location", "value")
    _review(
        booking,
        direction=Review.Direction.GUEST,
        author=guest,
        subject=listing.host,
        published_at=published_at,
        rating=rating,
        text=text,
        **dict(zip(names, subs, strict=True)),
    )
    host_rating, again, host_text = host_review
    _review(
        booking,
        direction=Review.Direction.HOST,
        author=listing.host,
        subject=guest,
        published_at=published_at,
        rating=host_rating,
        text=host_text,
        would_host_again=again,
    )
    return 2


def _awaiting_the_guest(*, today: datetime.date, now) -> int:
    """The demo guest's stay that ended three days ago on one of the demo host's places: the host has written a
    review that stays hidden until she writes hers (sign in as guest@nexus.test and open the trip's review)."""
    guest = User.objects.filter(email=DEMO_GUEST).first()
    listing = Listing.objects.filter(host__email="host@nexus.test", is_published=True).order_by("id").first()
    if guest is None or listing is None:
        return 0
    booking = _stay(listing, guest, key="demo-review-awaiting-guest", check_out=today - 3 * DAY, nights=2, now=now)
    if booking is None:
        return 0
    _review(
        booking,
        direction=Review.Direction.HOST,
        author=listing.host,
        subject=guest,
        published_at=None,
        rating=5,
        text="Grace and her friends were a pleasure to host: punctual, tidy and kind to the caretaker.",
        would_host_again=True,
    )
    return 1
