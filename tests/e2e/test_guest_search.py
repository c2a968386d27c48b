"""A guest finds a place in a real browser: search, property page, calendar, day picking, live quote."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.helpers.browser import assert_no_horizontal_scroll
from tests.listings.builders import make_listing, set_night

pytestmark = pytest.mark.django_db(transaction=True)


def _month_after(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


def test_guest_searches_diani_opens_a_place_moves_the_calendar_and_picks_dates(live_server, sized_page, make_user):
    page = sized_page
    host = make_user(email="host@example.com", full_name="Zawadi Mwangi")
    listing = make_listing(
        host,
        title="Baobab Beach Cottage",
        county="kwale",
        town="Diani",
        max_guests=4,
        nightly_price_kes=10_000,
        cleaning_fee_kes=1_500,
        amenities=["wifi", "pool"],
    )
    make_listing(host, title="Nanyuki Farm House", county="laikipia", town="Nanyuki")
    make_listing(host, title="Diani Studio for one", county="kwale", town="Diani", max_guests=1)
    today = timezone.localdate()
    check_in = today + datetime.timedelta(days=20)
    check_out = check_in + datetime.timedelta(days=3)
    next_month = _month_after(check_in)
    set_night(listing, next_month.replace(day=20), blocked=True)

    page.goto(live_server.url + "/")
    search = page.locator("main form[role=search]")
    search.get_by_label("Where").fill("Diani")
    search.get_by_label("Check-in").fill(check_in.isoformat())
    search.get_by_label("Check-out").fill(check_out.isoformat())
    search.get_by_label("Guests").fill("2")
    search.get_by_role("button", name="Search").click()

    results = page.locator("#search-results")
    expect(results).to_contain_text("1 place free")
    expect(results.get_by_role("heading", name="Baobab Beach Cottage")).to_be_visible()
    expect(results).not_to_contain_text("Nanyuki Farm House")
    expect(results).not_to_contain_text("Diani Studio for one")
    expect(results).to_contain_text("KES 31,500 total for 3 nights")
    assert_no_horizontal_scroll(page)

    results.get_by_role("link", name=re.compile("Baobab Beach Cottage")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Baobab Beach Cottage")
    # The stay chosen in the search is already quoted.
    expect(page.locator("[data-quote-total]")).to_have_text("KES 31,500")
    calendar = page.locator("#availability-calendar")
    expect(calendar).to_contain_text(f"{check_in:%B %Y}")
    assert_no_horizontal_scroll(page)

    address = page.url
    page.wait_for_load_state()  # htmx is ready: the next click swaps the calendar instead of following the link
    calendar.get_by_role("link", name="Next month").click()
    expect(calendar).to_contain_text(f"{next_month:%B %Y}")
    assert page.url == address  # only the calendar was swapped
    blocked = calendar.locator(f'[data-day="{next_month.replace(day=20).isoformat()}"]')
    expect(blocked).to_have_attribute("data-available", "no")

    first = next_month.replace(day=10)
    last = next_month.replace(day=13)
    calendar.locator(f'[data-day="{first.isoformat()}"]').click()
    expect(page.get_by_label("Check-in")).to_have_value(first.isoformat())
    expect(page.get_by_label("Check-out")).to_have_value("")
    expect(page.locator("#stay-quote")).to_contain_text("Now pick your check-out day.")
    calendar.locator(f'[data-day="{last.isoformat()}"]').click()
    expect(page.get_by_label("Check-out")).to_have_value(last.isoformat())
    expect(calendar.locator(f'[data-day="{next_month.replace(day=11).isoformat()}"]')).to_have_attribute(
        "data-state", "stay"
    )

    quote = page.locator("#stay-quote")
    expect(quote.locator("[data-quote-total]")).to_have_text("KES 31,500")
    expect(quote).to_contain_text(f"3 nights, {first.day} {first:%b} – {last.day} {last:%b}")
    reserve = quote.get_by_role("link", name="Reserve")
    expect(reserve).to_have_attribute(
        "href",
        f"{listing.get_absolute_url()}book/?check_in={first.isoformat()}&check_out={last.isoformat()}&guests=2",
    )
    assert_no_horizontal_scroll(page)

    # Picking a stay across the blocked night explains why it cannot be booked.
    calendar.locator(f'[data-day="{next_month.replace(day=19).isoformat()}"]').click()
    calendar.locator(f'[data-day="{next_month.replace(day=22).isoformat()}"]').click()
    expect(quote).to_contain_text(f"Not available on the night of {next_month.replace(day=20):%-d %b}.")
    expect(quote.get_by_role("link", name="Reserve")).to_have_count(0)


def test_search_filters_swap_the_results_and_push_the_url(live_server, page, make_user):
    host = make_user(email="host@example.com")
    make_listing(host, title="Pool Villa", nightly_price_kes=30_000, property_type="villa", amenities=["pool"])
    make_listing(host, title="Garden Flat", nightly_price_kes=5_000, property_type="apartment")
    page.goto(live_server.url + "/listings/?where=diani")
    results = page.locator("#search-results")
    expect(results).to_contain_text("2 places")
    page.get_by_text("More filters").click()
    page.get_by_label("Type of place").select_option("villa")
    expect(results).to_contain_text("1 place ")
    expect(results).not_to_contain_text("Garden Flat")
    expect(page).to_have_url(re.compile(r"property_type=villa"))
    page.get_by_label("Sort by").select_option("-price")
    expect(page).to_have_url(re.compile(r"sort=-price"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"property_type=villa(?!.*sort=-price)"))
