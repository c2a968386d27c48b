"""Reviews in a real browser: the property page loads its reviews section by htmx and pages through it."""

import pytest
from playwright.sync_api import expect

from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_property_page_loads_reviews_and_more_on_demand(live_server, page, make_user, published_reviews):
    host = make_user("host@example.com", full_name="Zawadi Mwangi")
    listing = make_listing(host, title="Baobab Beach Cottage")
    published_reviews(listing, 7, rating=4)
    page.goto(live_server.url + listing.get_absolute_url())
    section = page.locator("#listing-reviews")
    expect(section.locator("[data-review]")).to_have_count(5)
    expect(section.get_by_role("heading", name="★ 4.0 · 7 reviews")).to_be_visible()
    expect(section.locator("[data-rating-bars]")).to_contain_text("Cleanliness")
    section.get_by_role("link", name="More reviews").click()
    expect(section.locator("[data-review]")).to_have_count(7)
    expect(section.get_by_role("link", name="More reviews")).to_have_count(0)
    assert page.url.endswith(listing.get_absolute_url())
    page.get_by_role("link", name="About the host: stays, rating and reviews").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Zawadi")
    expect(page.locator("[data-host-rating]")).to_have_text("★ 4.0 (7)")
