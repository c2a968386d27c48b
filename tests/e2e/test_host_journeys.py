"""A host runs a listing in a real browser: the calendar editor, photo upload and publishing."""

import datetime
import re
from io import BytesIO

import pytest
from django.utils import timezone
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from listings.models import CalendarDay, Listing
from tests.e2e.conftest import assert_no_horizontal_scroll
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = re.compile(r"^\s*Password\*?\s*$")


def sign_in(page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label(PASSWORD).fill("nexus-demo")
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_label("Account menu")).to_be_visible()


def search_url(live_server, check_in: datetime.date, check_out: datetime.date) -> str:
    return f"{live_server.url}/listings/?where=Diani&check_in={check_in}&check_out={check_out}&guests=2"


def test_host_blocks_two_nights_and_search_no_longer_lists_the_place(live_server, sized_page, browser, make_user):
    page = sized_page
    host = make_user("zawadi@example.com", full_name="Zawadi Mwangi")
    listing = make_listing(host, title="Baobab Beach Cottage", county="kwale", town="Diani", max_guests=4)
    first = timezone.localdate() + datetime.timedelta(days=9)
    second = first + datetime.timedelta(days=1)

    guest = browser.new_context()
    guest_page = guest.new_page()
    guest_page.goto(search_url(live_server, first, second + datetime.timedelta(days=1)))
    expect(guest_page.locator("#search-results")).to_contain_text("Baobab Beach Cottage")

    sign_in(page, live_server, host.email)
    page.goto(f"{live_server.url}/host/listings/{listing.slug}/calendar/")
    calendar = page.locator("#host-calendar")
    if first.month != timezone.localdate().month:
        calendar.get_by_role("link", name=re.compile("→")).click()
        expect(calendar).to_contain_text(f"{first:%B %Y}")
    calendar.locator(f'[data-night="{first}"]').click()
    if second.month != first.month:
        calendar.get_by_role("link", name=re.compile("→")).click()
        expect(calendar).to_contain_text(f"{second:%B %Y}")
        calendar.get_by_label("Last night").fill(second.isoformat())
    else:
        calendar.locator(f'[data-night="{second}"]').click()
        expect(calendar.locator(f'[data-night="{first}"]')).to_have_attribute("aria-pressed", "true")
        expect(calendar.locator(f'[data-night="{second}"]')).to_have_attribute("aria-pressed", "true")
    expect(calendar.get_by_label("Last night")).to_have_value(second.isoformat())
    calendar.get_by_label("Note (only you see it)").fill("Painters in")
    calendar.get_by_role("button", name="Block", exact=True).click()

    expect(calendar.get_by_role("status")).to_have_text("Blocked 2 nights.")
    expect(calendar.locator(f'[data-night="{second}"] [data-blocked]')).to_be_visible()
    assert_no_horizontal_scroll(page)
    assert list(CalendarDay.objects.filter(listing=listing, blocked=True).values_list("date", "note")) == [
        (first, "Painters in"),
        (second, "Painters in"),
    ]

    guest_page.goto(search_url(live_server, first, second + datetime.timedelta(days=1)))
    expect(guest_page.locator("#search-results")).not_to_contain_text("Baobab Beach Cottage")
    # The nights either side are still free.
    guest_page.goto(search_url(live_server, second + datetime.timedelta(days=1), second + datetime.timedelta(days=3)))
    expect(guest_page.locator("#search-results")).to_contain_text("Baobab Beach Cottage")
    guest.close()


def photo_file(tmp_path) -> str:
    image = Image.new("RGB", (1200, 800), (40, 150, 190))
    ImageDraw.Draw(image).rectangle([300, 300, 900, 700], fill=(235, 215, 170))
    path = tmp_path / "IMG_2041.jpg"
    buffer = BytesIO()
    image.save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def test_host_uploads_a_photo_and_publishes(live_server, sized_page, browser, make_user, tmp_path):
    page = sized_page
    host = make_user("zawadi@example.com", full_name="Zawadi Mwangi")
    listing = make_listing(host, title="Tiwi Rock Pool Bungalow", county="kwale", town="Tiwi", is_published=False)

    sign_in(page, live_server, host.email)
    page.goto(f"{live_server.url}/host/")
    page.get_by_role("link", name="Edit").click()
    panel = page.locator("#publish-panel")
    expect(panel.get_by_role("heading")).to_have_text("Draft")
    panel.get_by_role("button", name="Publish").click()
    expect(panel.get_by_role("alert")).to_have_text("To publish, add at least one photo.")

    photos = page.locator("#photo-list")
    photos.get_by_label("Add a photo").set_input_files(photo_file(tmp_path))
    photos.get_by_label("Caption").last.fill("The rock pools at low tide")
    photos.get_by_role("button", name="Upload photo").click()
    expect(photos.locator("[data-photo]")).to_have_count(1)
    expect(photos.get_by_label("Caption of photo 1")).to_have_value("The rock pools at low tide")
    # The publish panel heard about the new photo and no longer asks for one.
    expect(panel.locator("[data-missing]")).to_have_count(0)
    assert_no_horizontal_scroll(page)

    panel.get_by_role("button", name="Publish").click()
    expect(panel.get_by_role("heading")).to_have_text("Published")
    listing.refresh_from_db()
    assert listing.is_published
    assert Listing.objects.get(pk=listing.pk).photos.count() == 1

    guest = browser.new_context()
    guest_page = guest.new_page()
    response = guest_page.goto(f"{live_server.url}/listings/{listing.slug}/")
    assert response.status == 200
    expect(guest_page.get_by_role("heading", level=1)).to_have_text("Tiwi Rock Pool Bungalow")
    guest.close()


def test_host_chooses_a_range_across_two_months_by_tapping(live_server, sized_page, make_user):
    page = sized_page
    host = make_user("zawadi@example.com", full_name="Zawadi Mwangi")
    listing = make_listing(host, title="Baobab Beach Cottage", county="kwale", town="Diani", max_guests=4)
    later = timezone.localdate() + datetime.timedelta(days=40)
    next_month = (later.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    last_day = next_month - datetime.timedelta(days=1)

    sign_in(page, live_server, host.email)
    page.goto(f"{live_server.url}/host/listings/{listing.slug}/calendar/?month={later:%Y-%m}")
    calendar = page.locator("#host-calendar")
    calendar.locator(f'[data-night="{last_day}"]').click()
    calendar.get_by_role("link", name=re.compile("→")).click()
    expect(calendar).to_contain_text(f"{next_month:%B %Y}")
    expect(calendar.get_by_label("First night")).to_have_value(last_day.isoformat())
    calendar.locator(f'[data-night="{next_month}"]').click()
    expect(calendar.get_by_label("Last night")).to_have_value(next_month.isoformat())
    expect(calendar.locator(f'[data-night="{next_month}"]')).to_have_attribute("aria-pressed", "true")
    calendar.get_by_label("Price per night (KES)").fill("12500")
    calendar.get_by_role("button", name="Set price").click()

    expect(calendar.get_by_role("status")).to_have_text("Set the price of 2 nights.")
    assert list(
        CalendarDay.objects.filter(listing=listing).order_by("date").values_list("date", "price_override_kes")
    ) == [(last_day, 12_500), (next_month, 12_500)]
