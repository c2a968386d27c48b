"""Host profiles at /hosts/<public id>/."""

import pytest

from tests.helpers.bookings import stay_booking
from tests.helpers.stays import past_stay
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db


def test_a_host_profile_shows_the_track_record_but_no_contact_details(client, host, listing, published_reviews):
    host.mpesa_phone = "254712345678"
    host.save()
    published_reviews(listing, 3, rating=4)
    make_listing(host, title="Second place", is_published=False)
    assert host.public_id and str(host.pk) != host.public_id
    response = client.get(f"/hosts/{host.public_id}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Hassan" in page and "Otieno" not in page
    assert "E-mail verified" in page
    assert host.email not in page and "0712" not in page and "254712345678" not in page
    assert "data-completed-stays>3<" in page
    assert "★ 4.0 (3)" in page
    assert listing.title in page and "Second place" not in page
    assert page.count("data-review=") == 3


def test_completed_stays_count_only_confirmed_stays_that_ended(client, host, listing, guest):
    stay_booking(listing, guest, past_stay(checked_out_days_ago=3))
    stay_booking(listing, guest, past_stay(checked_out_days_ago=-30))  # still to come
    stay_booking(listing, guest, past_stay(checked_out_days_ago=10), status="cancelled")
    assert "data-completed-stays>1<" in client.get(f"/hosts/{host.public_id}/").content.decode()


def test_anyone_who_is_not_a_host_is_a_404(client, guest, host):
    assert client.get(f"/hosts/{guest.public_id}/").status_code == 404
    assert client.get("/hosts/not-an-id/").status_code == 404
    assert client.get(f"/hosts/{host.pk}/").status_code == 404
    make_listing(host, is_published=False)
    assert client.get(f"/hosts/{host.public_id}/").status_code == 404


def test_the_property_page_links_to_the_host_profile(client, host, listing):
    page = client.get(listing.get_absolute_url()).content.decode()
    assert f'href="/hosts/{host.public_id}/"' in page


def test_the_phone_badge_shows_only_once_the_host_has_verified_a_number(client, host, listing):
    host.phone, host.phone_verified = "+254712345678", False
    host.save()
    page = client.get(f"/hosts/{host.public_id}/").content.decode()
    assert "Phone verified" not in page
    host.phone_verified = True
    host.save()
    page = client.get(f"/hosts/{host.public_id}/").content.decode()
    assert "Phone verified" in page and "0712" not in page and "254712345678" not in page
