"""A host runs a listing in a real browser: the calendar editor, photo upload and publishing."""

import datetime
import re
from io import BytesIO

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from listings.models import CalendarDay, Listing, ListingPhoto
from tests.helpers.browser import DESKTOP, PHONE, assert_no_horizontal_scroll
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
    expect(calendar.locator(f'[data-night-cell="{second}"] [data-blocked]')).to_be_visible()
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
    page.wait_for_load_state()  # htmx is ready: Publish swaps the panel instead of posting the whole page
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


def test_the_publish_panel_follows_the_last_photo_change_when_a_refresh_is_slow(live_server, page, make_user, tmp_path):
    """A photo is uploaded, then deleted while the panel's refresh for the upload is still on its way: the panel
    ends on the listing as it is (a photo missing), not on the answer to the upload."""
    host = make_user("zawadi@example.com", full_name="Zawadi Mwangi")
    listing = make_listing(host, title="Tiwi Rock Pool Bungalow", county="kwale", town="Tiwi", is_published=False)
    sign_in(page, live_server, host.email)
    page.goto(f"{live_server.url}/host/listings/{listing.slug}/edit/")
    panel = page.locator("#publish-panel")
    expect(panel.locator("[data-missing]")).to_contain_text("at least one photo")

    slowed = []

    def slow_first_refresh(route):
        if route.request.method != "GET" or slowed:
            route.continue_()
            return
        # The server answers at once (the photo is there); the answer reaches the page late. The delay is real
        # time on purpose: a slow network is what this test is about.
        slowed.append(route.request.url)
        response = route.fetch()
        page.wait_for_timeout(1_500)
        try:
            route.fulfill(response=response)
        except Exception:  # the page gave up on this request while it was held back
            pass

    page.route(f"**/host/listings/{listing.slug}/publish/", slow_first_refresh)
    page.on("dialog", lambda dialog: dialog.accept())
    photos = page.locator("#photo-list")
    photos.get_by_label("Add a photo").set_input_files(photo_file(tmp_path))
    photos.get_by_role("button", name="Upload photo").click()
    expect(photos.locator("[data-photo]")).to_have_count(1)
    photos.get_by_role("button", name="Delete photo 1").click()
    expect(photos.locator("[data-photo]")).to_have_count(0)
    page.wait_for_timeout(2_000)  # the slow answer (held 1.5 s above) has come and gone: only time tells
    assert slowed, "the panel's first refresh was not slowed down"
    expect(panel.locator("[data-missing]")).to_contain_text("at least one photo")


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


def listing_with_photos(host, count: int = 3) -> tuple[Listing, list[ListingPhoto]]:
    listing = make_listing(host, title="Watamu Creek House", county="kilifi", town="Watamu", is_published=False)
    photos = []
    for i in range(count):
        image = Image.new("RGB", (600, 400), (40 + 60 * i, 150, 190))
        buffer = BytesIO()
        image.save(buffer, format="JPEG")
        photo = ListingPhoto(listing=listing, order=i, caption=f"Room {i + 1}")
        photo.image.save(f"room-{i + 1}.jpg", ContentFile(buffer.getvalue()), save=False)
        photo.save()
        photos.append(photo)
    return listing, photos


def stored_captions(listing: Listing) -> list[str]:
    return list(listing.photos.order_by("order", "id").values_list("caption", flat=True))


def shown_captions(page) -> list[str]:
    captions = page.locator("#photo-list [data-photo] input[name=caption]")
    return captions.evaluate_all("(inputs) => inputs.map(input => input.value)")


def watch_console(page) -> list[str]:
    """Script errors and CSP refusals. Photos themselves 404 here: tests keep uploads in memory, unserved."""
    errors = []

    def console(message) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_host_drags_the_third_photo_to_the_first_place(live_server, page, make_user):
    page.set_viewport_size(DESKTOP)
    errors = watch_console(page)
    host = make_user("zawadi@example.com", full_name="Zawadi Mwangi")
    listing, _photos = listing_with_photos(host)

    sign_in(page, live_server, host.email)
    page.goto(f"{live_server.url}/host/listings/{listing.slug}/edit/")
    cards = page.locator("#photo-list [data-photo]")
    expect(cards).to_have_count(3)
    expect(page.get_by_text("Drag a photo, or its handle on a phone, to move it.")).to_be_visible()

    # Press on the third photo's picture, move over the top edge of the first one, and let go.
    cards.nth(2).locator("img").drag_to(cards.nth(0), target_position={"x": 40, "y": 8})

    expect(page.locator("#photo-list").get_by_role("status")).to_have_text("Order saved")
    assert shown_captions(page) == ["Room 3", "Room 1", "Room 2"]
    assert stored_captions(listing) == ["Room 3", "Room 1", "Room 2"]
    expect(cards.nth(0).get_by_text("Cover")).to_be_visible()
    expect(page.locator("[data-drop-indicator]")).to_have_count(0)

    page.reload()
    expect(cards).to_have_count(3)
    assert shown_captions(page) == ["Room 3", "Room 1", "Room 2"]
    assert not errors


def test_host_on_a_phone_drags_a_photo_by_its_handle(live_server, browser, make_user):
    host = make_user("zawadi@example.com", full_name="Zawadi Mwangi")
    listing, _photos = listing_with_photos(host)
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors = watch_console(page)

    sign_in(page, live_server, host.email)
    page.goto(f"{live_server.url}/host/listings/{listing.slug}/edit/")
    cards = page.locator("#photo-list [data-photo]")
    expect(cards).to_have_count(3)
    handle = cards.nth(1).locator("[data-drag-handle]")
    handle.scroll_into_view_if_needed()
    expect(handle).to_be_visible()

    # A finger on the second photo's handle, dragged below the third photo: Chromium's own touch input.
    cdp = context.new_cdp_session(page)
    start = handle.bounding_box()
    x, y = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    scroll_before = page.evaluate("window.scrollY")
    # Small steps, as a finger moves; near the bottom edge the page scrolls by itself until the end of the list.
    for step in range(1, 21):
        cdp.send(
            "Input.dispatchTouchEvent",
            {"type": "touchMove", "touchPoints": [{"x": x, "y": y + (PHONE["height"] - 20 - y) * step / 20}]},
        )
    expect(page.locator("[data-drop-indicator]")).to_have_count(1)
    expect(cards.nth(1)).to_have_class(re.compile(r"\bopacity-40\b"))
    page.wait_for_function(
        "() => document.querySelectorAll('#photo-list [data-photo]')[2].getBoundingClientRect().bottom"
        f" < {PHONE['height'] - 20}"
    )
    assert page.evaluate("window.scrollY") > scroll_before
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})

    expect(page.locator("#photo-list").get_by_role("status")).to_have_text("Order saved")
    assert stored_captions(listing) == ["Room 1", "Room 3", "Room 2"]
    assert shown_captions(page) == ["Room 1", "Room 3", "Room 2"]
    assert_no_horizontal_scroll(page)
    assert not errors
    context.close()


def test_at_phone_width_the_up_and_down_buttons_still_move_photos(live_server, page, make_user):
    page.set_viewport_size(PHONE)
    host = make_user("zawadi@example.com", full_name="Zawadi Mwangi")
    listing, _photos = listing_with_photos(host)

    sign_in(page, live_server, host.email)
    page.goto(f"{live_server.url}/host/listings/{listing.slug}/edit/")
    photos = page.locator("#photo-list")
    photos.get_by_role("button", name="Move photo 3 up").click()
    expect(photos.get_by_role("status")).to_have_text("Order saved")
    assert shown_captions(page) == ["Room 1", "Room 3", "Room 2"]
    photos.get_by_role("button", name="Move photo 1 down").click()
    expect(photos.get_by_label("Caption of photo 1")).to_have_value("Room 3")
    assert shown_captions(page) == ["Room 3", "Room 1", "Room 2"]
    assert stored_captions(listing) == ["Room 3", "Room 1", "Room 2"]
    assert_no_horizontal_scroll(page)


def test_a_drag_that_cannot_be_saved_puts_the_photo_back(live_server, page, make_user):
    page.set_viewport_size(DESKTOP)
    host = make_user("zawadi@example.com", full_name="Zawadi Mwangi")
    listing, _photos = listing_with_photos(host)

    sign_in(page, live_server, host.email)
    page.goto(f"{live_server.url}/host/listings/{listing.slug}/edit/")
    page.route("**/photos/order/", lambda route: route.abort("internetdisconnected"))
    cards = page.locator("#photo-list [data-photo]")
    cards.nth(2).locator("img").drag_to(cards.nth(0), target_position={"x": 40, "y": 8})

    expect(page.locator("#photo-list").get_by_role("alert")).to_have_text(
        "The new order was not saved. Check your connection and try again."
    )
    assert shown_captions(page) == ["Room 1", "Room 2", "Room 3"]
    assert stored_captions(listing) == ["Room 1", "Room 2", "Room 3"]
