"""The property page's photo viewer in a real browser: keyboard, Escape, arrows, swipe, captions, no-JS links."""

from io import BytesIO

import pytest
from django.core.files.base import ContentFile
from PIL import Image
from playwright.sync_api import expect

from listings.models import ListingPhoto
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db(transaction=True)

CAPTIONS = ["The veranda at sunset", "", "Main bedroom with sea view"]


def _photo(listing, order: int, caption: str) -> ListingPhoto:
    buffer = BytesIO()
    Image.new("RGB", (640, 480), (40 * order, 120, 160)).save(buffer, format="JPEG")
    photo = ListingPhoto(listing=listing, order=order, caption=caption)
    photo.image.save(f"viewer-{order}.jpg", ContentFile(buffer.getvalue()), save=False)
    photo.save()
    return photo


@pytest.fixture
def gallery(make_user):
    listing = make_listing(make_user("host@example.com", full_name="Zawadi Mwangi"), title="Baobab Beach Cottage")
    photos = [_photo(listing, i, caption) for i, caption in enumerate(CAPTIONS)]
    return listing, photos


def test_the_viewer_opens_moves_by_keyboard_and_closes_with_escape(live_server, sized_page, gallery):
    page = sized_page
    listing, photos = gallery
    page.goto(live_server.url + listing.get_absolute_url())
    links = page.locator("[data-viewer-photo]")
    expect(links).to_have_count(3)
    # Without JavaScript these are plain links to the images.
    assert links.nth(1).get_attribute("href") == photos[1].image.url
    viewer = page.locator("#photo-viewer")
    image = viewer.locator("[data-viewer-image]")
    assert image.get_attribute("src") is None  # nothing large is loaded before the viewer shows it

    links.nth(0).focus()
    page.keyboard.press("Enter")
    expect(viewer).to_be_visible()
    expect(viewer.locator("[data-viewer-counter]")).to_have_text("1 / 3")
    expect(viewer.locator("[data-viewer-caption]")).to_have_text("The veranda at sunset")
    expect(image).to_have_attribute("src", photos[0].image.url)
    expect(viewer.get_by_role("button", name="Close the photos")).to_be_focused()

    page.keyboard.press("ArrowRight")
    expect(viewer.locator("[data-viewer-counter]")).to_have_text("2 / 3")
    expect(image).to_have_attribute("src", photos[1].image.url)
    expect(image).to_have_attribute("alt", "Photo 2 of 3")
    page.keyboard.press("ArrowRight")
    expect(viewer.locator("[data-viewer-caption]")).to_have_text("Main bedroom with sea view")
    page.keyboard.press("ArrowRight")
    expect(viewer.locator("[data-viewer-counter]")).to_have_text("1 / 3")
    page.keyboard.press("ArrowLeft")
    expect(viewer.locator("[data-viewer-counter]")).to_have_text("3 / 3")
    viewer.get_by_role("button", name="Previous photo").click()
    expect(viewer.locator("[data-viewer-counter]")).to_have_text("2 / 3")

    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    expect(links.nth(0)).to_be_focused()
    assert page.url.endswith(listing.get_absolute_url())  # the link was not followed


def test_a_swipe_moves_between_photos(live_server, page, gallery):
    listing, _photos = gallery
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server.url + listing.get_absolute_url())
    page.locator("[data-viewer-photo]").nth(2).click()
    counter = page.locator("#photo-viewer [data-viewer-counter]")
    expect(counter).to_have_text("3 / 3")

    def swipe(from_x: int, to_x: int) -> None:
        page.evaluate(
            """([fromX, toX]) => {
                const stage = document.querySelector("[data-viewer-stage]");
                const touch = (x) => new Touch({identifier: 1, target: stage, clientX: x, clientY: 300});
                stage.dispatchEvent(new TouchEvent("touchstart", {changedTouches: [touch(fromX)], bubbles: true}));
                stage.dispatchEvent(new TouchEvent("touchend", {changedTouches: [touch(toX)], bubbles: true}));
            }""",
            [from_x, to_x],
        )

    swipe(300, 60)  # to the left: the next photo
    expect(counter).to_have_text("1 / 3")
    swipe(60, 300)
    expect(counter).to_have_text("3 / 3")
    swipe(200, 190)  # too short to count
    expect(counter).to_have_text("3 / 3")
    page.locator("#photo-viewer").get_by_role("button", name="Close the photos").click()
    expect(page.locator("#photo-viewer")).to_be_hidden()
