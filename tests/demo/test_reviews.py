"""seed_demo's reviews: ratings on the first page of search, host reviews of guests, one review awaiting the guest."""

import re
from html import unescape

import pytest
from django.core.management import call_command
from django.utils import timezone

from listings.models import Listing
from listings.selectors import SearchQuery, listing_search
from reservations.models import Booking
from reviews.models import Review

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(settings):
    settings.DEBUG = True
    call_command("seed_demo")


def test_every_listing_on_the_first_page_of_search_has_three_published_reviews(seeded, client):
    first_page = listing_search(query=SearchQuery(guests=2), page_number=1, now=timezone.now()).cards
    assert len(first_page) == 12
    for card in first_page:
        published = Review.objects.filter(listing=card.listing, direction="guest", published_at__isnull=False)
        assert published.count() >= 3, card.listing.title
        assert card.listing.review_count == published.count()
    page = unescape(client.get("/listings/?guests=2").content.decode())
    assert len(re.findall(r"★ \d\.\d \(\d+\)", page)) == 12
    assert "★" in unescape(client.get("/").content.decode())
    # Most of the other listings too, some critical reviews among them.
    listings = Listing.objects.filter(is_published=True)
    assert listings.filter(review_count__gte=3).count() >= listings.count() * 2 // 3
    assert Review.objects.filter(direction="guest", rating__lte=3).count() >= 3


def test_the_stays_are_confirmed_paid_and_in_the_past_and_hosts_reviewed_their_guests(seeded):
    reviewed = Booking.objects.filter(reviews__isnull=False).distinct()
    today = timezone.localdate()
    for booking in reviewed:
        assert booking.status == "confirmed" and booking.paid_kes == booking.total_kes
        assert booking.check_out < today
        assert not booking.payments.exists()  # no invented M-Pesa rows
    assert Review.objects.filter(direction="host", published_at__isnull=False).count() >= 30


def test_one_review_awaits_the_demo_guest(seeded, client):
    waiting = Review.objects.get(published_at__isnull=True)
    assert waiting.direction == "host" and waiting.subject.email == "guest@nexus.test"
    client.login(email="guest@nexus.test", password="nexus-demo")
    page = client.get(f"/trips/{waiting.booking.ref}/review/").content.decode()
    assert "data-review-form" in page and waiting.text not in page


def test_seeding_again_creates_no_more_reviews(seeded):
    count = Review.objects.count()
    call_command("seed_demo")
    assert Review.objects.count() == count
