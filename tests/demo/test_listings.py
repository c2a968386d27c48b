"""The demo listings that seed_demo adds."""

import hashlib

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from PIL import Image

from listings.models import CalendarDay, Listing, ListingPhoto
from listings.selectors import listing_publish_missing

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(settings):
    settings.DEBUG = True
    call_command("seed_demo")


def test_demo_listings(seeded):
    """One seeding, several checks: each run of the seed takes a few seconds."""
    check_about_two_dozen_listings_across_the_demo_places()
    check_published_demo_listings_meet_the_publishing_rules()
    check_each_listing_has_three_to_five_photos_of_its_own()
    check_calendars_have_blocked_nights_and_special_prices()


def check_about_two_dozen_listings_across_the_demo_places():
    listings = list(Listing.objects.select_related("host"))
    assert len(listings) == 24
    places = {(listing.town, listing.county) for listing in listings}
    for place in [("Diani", "kwale"), ("Naivasha", "nakuru"), ("Nanyuki", "laikipia"), ("Shela", "lamu")]:
        assert place in places
    assert {listing.county for listing in listings} >= {
        "nairobi", "mombasa", "kwale", "nakuru", "laikipia", "kisumu", "lamu", "kilifi"
    }  # fmt: skip
    hosts = {listing.host.email for listing in listings}
    assert "host@nexus.test" in hosts and len(hosts) >= 3
    assert all(2_500 <= listing.nightly_price_kes <= 45_000 for listing in listings)
    assert any(listing.weekly_discount_percent for listing in listings)
    assert any(listing.monthly_discount_percent for listing in listings)
    assert all(listing.amenities.exists() for listing in listings)


def check_published_demo_listings_meet_the_publishing_rules():
    published = Listing.objects.filter(is_published=True)
    assert published.count() >= 20
    assert all(listing_publish_missing(listing=listing) == [] for listing in published)


def check_each_listing_has_three_to_five_photos_of_its_own():
    digests = set()
    for listing in Listing.objects.all():
        photos = list(listing.photos.all())
        assert 3 <= len(photos) <= 5
        for photo in photos:
            with default_storage.open(photo.image.name) as stored:
                data = stored.read()
            digests.add(hashlib.sha256(data).hexdigest())
            with default_storage.open(photo.thumbnail.name) as stored:
                assert Image.open(stored).format == "JPEG"
    assert len(digests) == ListingPhoto.objects.count()  # no picture is used twice


def check_calendars_have_blocked_nights_and_special_prices():
    assert CalendarDay.objects.filter(blocked=True).exclude(note="").exists()
    assert CalendarDay.objects.filter(price_override_kes__isnull=False).exists()
    assert CalendarDay.objects.filter(min_nights_override__isnull=False).exists()


def test_running_it_again_creates_nothing_new_and_keeps_a_hosts_changes(seeded, capsys):
    counts = (Listing.objects.count(), ListingPhoto.objects.count(), CalendarDay.objects.count())
    listing = Listing.objects.filter(host__email="host@nexus.test").first()
    Listing.objects.filter(pk=listing.pk).update(title="Renamed by the host")
    capsys.readouterr()

    call_command("seed_demo")

    assert (Listing.objects.count(), ListingPhoto.objects.count(), CalendarDay.objects.count()) == counts
    assert "Demo listings: 0 created" in capsys.readouterr().out
    listing.refresh_from_db()
    assert listing.title == "Renamed by the host"
