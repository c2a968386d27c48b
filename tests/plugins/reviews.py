"""Fixtures for reviews: published_reviews adds published guest reviews of past stays in bulk."""

import datetime
import uuid

import pytest
from django.utils import timezone

from listings.models import Listing
from reservations.models import Booking
from reviews.models import Review, window_ends_on
from reviews.services import listing_rating_refresh


@pytest.fixture
def published_reviews(make_user):
    """make(listing, n, rating=...) adds n published guest reviews of past one-night stays, created in bulk."""

    def make(listing: Listing, n: int, *, rating: int = 5, author=None) -> list[Review]:
        author = author or make_user(f"reviewer-{uuid.uuid4().hex[:8]}@example.com", full_name="Wanjiru Kamau")
        today = timezone.localdate()
        last = Booking.objects.filter(listing=listing).order_by("check_in").first()
        # Well before any stay a test makes from today (the last weeks and the weeks ahead).
        start = (last.check_in if last else today - datetime.timedelta(days=60)) - datetime.timedelta(days=2)
        bookings = []
        for i in range(n):
            check_in = start - datetime.timedelta(days=i + 1)
            bookings.append(
                Booking(
                    listing=listing,
                    booker=author,
                    check_in=check_in,
                    check_out=check_in + datetime.timedelta(days=1),
                    guest_count=1,
                    status=Booking.Status.CONFIRMED,
                    idempotency_key=uuid.uuid4().hex,
                    nights_total_kes=10_000,
                    total_kes=10_000,
                    paid_kes=10_000,
                    cancellation_policy="moderate",
                    check_in_at=timezone.now(),
                )
            )
        bookings = Booking.objects.bulk_create(bookings)
        now = timezone.now()
        reviews = Review.objects.bulk_create(
            Review(
                booking=booking,
                listing=listing,
                direction=Review.Direction.GUEST,
                author=author,
                subject=listing.host,
                rating=rating,
                cleanliness=rating,
                accuracy=rating,
                check_in=rating,
                communication=rating,
                location=rating,
                value=rating,
                text=f"Review number {i} of a lovely stay.",
                window_ends_on=window_ends_on(booking.check_out),
                published_at=now - datetime.timedelta(minutes=i),
            )
            for i, booking in enumerate(bookings)
        )
        listing_rating_refresh(listing_id=listing.pk)
        listing.refresh_from_db()
        return reviews

    return make
