"""The host's pages: dashboard, listing form, photos and publishing."""

import html
import json
import re
from io import BytesIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from listings.models import Listing, ListingPhoto
from tests.listings.builders import hold_stay, make_listing

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def jpeg(size=(900, 600), color=(30, 140, 170)) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, color).save(buffer, format="JPEG")
    return buffer.getvalue()


def add_photo(listing: Listing, order: int = 0, caption: str = "") -> ListingPhoto:
    photo = ListingPhoto(listing=listing, order=order, caption=caption)
    photo.image.save(f"p{order}.jpg", ContentFile(jpeg()), save=False)
    photo.thumbnail.save(f"p{order}-thumb.jpg", ContentFile(jpeg((300, 200))), save=False)
    photo.save()
    return photo


@pytest.fixture
def host(make_user):
    return make_user("hassan@example.com", full_name="Hassan Otieno")


@pytest.fixture
def other(make_user):
    return make_user("mallory@example.com", full_name="Mallory Kamau")


@pytest.fixture
def draft(host):
    return make_listing(host, title="Garden cottage in Karen", slug="garden-cottage-in-karen", is_published=False)


@pytest.fixture
def host_client(client, host):
    client.force_login(host)
    return client


@pytest.fixture
def other_client(client, other):
    client.force_login(other)
    return client


def valid_listing_data(**overrides) -> dict:
    data = {
        "title": "  Ocean breeze   villa ",
        "description": "Three bedrooms on the beach.",
        "property_type": "villa",
        "county": "kwale",
        "town": "Diani",
        "max_guests": "6",
        "bedrooms": "3",
        "beds": "4",
        "bathrooms": "2",
        "nightly_price_kes": "18000",
        "cleaning_fee_kes": "2500",
        "weekly_discount_percent": "10",
        "monthly_discount_percent": "25",
        "min_nights": "2",
        "max_nights": "60",
        "advance_notice_days": "1",
        "same_day_cutoff_hour": "18",
        "check_in_time": "14:00",
        "check_out_time": "10:00",
        "house_rules": "No parties.",
        "cancellation_policy": "moderate",
        "amenities": ["wifi", "pool"],
        "street_address": "Plot 12, Beach Road",
        "directions": "Past the Tuskys, left at the baobab.",
        "check_in_instructions": "Keys with the askari.",
        "host_phone": "0712 345 678",
    }
    data.update(overrides)
    return data


# --- Dashboard ----------------------------------------------------------------------------------------------------


def test_dashboard_needs_sign_in(client):
    response = client.get("/host/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_any_signed_in_user_gets_a_dashboard(client, make_user):
    client.force_login(make_user("newhost@example.com"))
    response = client.get("/host/")
    assert response.status_code == 200
    assert "You have no listings yet." in response.content.decode()


def test_dashboard_lists_only_the_hosts_own_listings_with_status(host_client, host, other, draft):
    published = make_listing(host, title="Sea view flat", is_published=True)
    add_photo(published)
    make_listing(other, title="Someone else's bungalow")

    page = host_client.get("/host/").content.decode()

    assert "Garden cottage in Karen" in page and "Sea view flat" in page
    assert "Someone else" not in page
    assert page.count("Published</span>") == 1 and page.count("Draft</span>") == 1
    assert f'href="/host/listings/{draft.slug}/calendar/"' in page


@pytest.mark.parametrize("count", [3, 40])
def test_dashboard_queries_do_not_grow_with_listings(host_client, host, count, django_assert_num_queries):
    with CaptureQueriesContext(connection) as baseline:
        host_client.get("/host/")
    for i in range(count):
        listing = make_listing(host, title=f"Flat {i}")
        add_photo(listing)
        if i < 6:
            hold_stay(listing, days_ahead=3 + i)
    with django_assert_num_queries(len(baseline)):
        response = host_client.get("/host/")
    assert response.content.decode().count("data-listing=") == count
    assert response.content.decode().count("data-booking=") == min(count, 5)


def test_dashboard_shows_upcoming_bookings_on_the_hosts_listings_only(host_client, host, other):
    mine = make_listing(host, title="Sea view flat")
    theirs = make_listing(other, title="Someone else's bungalow")
    later = hold_stay(mine, days_ahead=20)
    sooner = hold_stay(mine, days_ahead=5)
    hidden = hold_stay(theirs, days_ahead=6)

    page = host_client.get("/host/").content.decode()

    assert page.index(f'data-booking="{sooner.ref}"') < page.index(f'data-booking="{later.ref}"')
    assert hidden.ref not in page
    assert 'href="/host/bookings/"' in page


# --- New and edit -------------------------------------------------------------------------------------------------


def test_new_listing_is_saved_as_a_draft_with_a_slug_from_its_title(host_client, host):
    response = host_client.post("/host/listings/new/", valid_listing_data())

    listing = Listing.objects.get(host=host)
    assert response.status_code == 302
    assert response["Location"] == f"/host/listings/{listing.slug}/edit/"
    assert listing.slug == "ocean-breeze-villa"
    assert listing.title == "Ocean breeze villa"
    assert not listing.is_published
    assert listing.host_phone == "254712345678"
    assert sorted(listing.amenities.values_list("code", flat=True)) == ["pool", "wifi"]
    assert (listing.nightly_price_kes, listing.max_guests, listing.weekly_discount_percent) == (18_000, 6, 10)


def test_a_second_listing_with_the_same_title_gets_its_own_slug(host_client, host):
    host_client.post("/host/listings/new/", valid_listing_data())
    host_client.post("/host/listings/new/", valid_listing_data())
    slugs = list(Listing.objects.filter(host=host).values_list("slug", flat=True))
    assert len(set(slugs)) == 2
    assert all(slug.startswith("ocean-breeze-villa") for slug in slugs)


def test_a_listing_may_be_saved_before_it_has_a_price_or_capacity(host_client, host):
    response = host_client.post("/host/listings/new/", valid_listing_data(nightly_price_kes="", max_guests=""))
    assert response.status_code == 302
    listing = Listing.objects.get(host=host)
    assert listing.nightly_price_kes is None and listing.max_guests is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": "   "}, "This field is required."),
        ({"county": "atlantis"}, "Select a valid choice."),
        ({"min_nights": "10", "max_nights": "5"}, "The maximum stay must be at least the minimum stay."),
        ({"weekly_discount_percent": "95"}, "less than or equal to 90"),
        ({"host_phone": "12345"}, "phone"),
        ({"nightly_price_kes": "-5"}, "greater than or equal to"),
        ({"advance_notice_days": "30"}, "less than or equal to 7"),
    ],
)
def test_invalid_listing_is_a_422_with_the_error(host_client, host, overrides, message):
    response = host_client.post("/host/listings/new/", valid_listing_data(**overrides))
    assert response.status_code == 422
    assert message.lower() in response.content.decode().lower()
    assert "Constraint" not in response.content.decode()  # messages a host can read, not database names
    assert not Listing.objects.filter(host=host).exists()


def test_edit_saves_and_keeps_the_slug(host_client, draft):
    response = host_client.post(f"/host/listings/{draft.slug}/edit/", valid_listing_data(title="Renamed cottage"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.title == "Renamed cottage"
    assert draft.slug == "garden-cottage-in-karen"


def test_a_published_listing_cannot_lose_its_price(host_client, host):
    listing = make_listing(host, is_published=True)
    add_photo(listing)
    response = host_client.post(f"/host/listings/{listing.slug}/edit/", valid_listing_data(nightly_price_kes=""))
    assert response.status_code == 422
    page = response.content.decode()
    summary, form = page.split("data-error-summary", 1)[1].split("</div>", 1)
    assert summary.count("A published listing needs a nightly price") == 1
    assert form.count("A published listing needs a nightly price") == 1
    listing.refresh_from_db()
    assert listing.nightly_price_kes == 10_000


def test_another_host_cannot_see_or_edit_a_listing(other_client, draft):
    assert other_client.get(f"/host/listings/{draft.slug}/edit/").status_code == 404
    response = other_client.post(f"/host/listings/{draft.slug}/edit/", valid_listing_data(title="Hijacked"))
    assert response.status_code == 404
    draft.refresh_from_db()
    assert draft.title == "Garden cottage in Karen"


HOSTILE = [
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "\x00",
    "9" * 400,
    "-1",
    "1e999",
    "NaN",
    "🏖️" * 200,
    "../../etc/passwd",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_in_every_listing_field_never_500(host_client, draft, value):
    # New and edit share the form; each field is tried on one of them in turn.
    paths = ("/host/listings/new/", f"/host/listings/{draft.slug}/edit/")
    for i, field in enumerate(valid_listing_data()):
        response = host_client.post(paths[i % 2], valid_listing_data(**{field: value}))
        assert response.status_code in (302, 422), (field, response.status_code)


# --- Photos -------------------------------------------------------------------------------------------------------


def upload_photo(client, listing, content: bytes, name="IMG_0001.jpg", caption="Front door"):
    return client.post(
        f"/host/listings/{listing.slug}/photos/",
        {"image": SimpleUploadedFile(name, content, content_type="image/jpeg"), "caption": caption},
        headers=HX,
    )


def test_upload_adds_a_photo_and_returns_the_photo_list(host_client, draft):
    response = upload_photo(host_client, draft, jpeg((2400, 1600)))

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="photo-list"')
    assert "<html" not in body
    assert "photosChanged" in json.loads(response["HX-Trigger"])
    photo = draft.photos.get()
    assert photo.caption == "Front door"
    assert default_storage.exists(photo.image.name) and default_storage.exists(photo.thumbnail.name)
    with default_storage.open(photo.image.name) as stored:
        assert Image.open(stored).size == (1600, 1067)
    assert photo.thumbnail.url in body


def test_upload_of_a_file_that_is_not_a_photo_is_a_422(host_client, draft):
    response = upload_photo(host_client, draft, b"not a picture at all" * 50, name="villa.jpg")
    assert response.status_code == 422
    assert "This file is not a JPEG, PNG or WebP photo." in response.content.decode()
    assert "HX-Trigger" not in response
    assert not draft.photos.exists()


def stored_files() -> list[str]:
    folder = timezone.now().strftime("listings/%Y/%m/")
    return sorted(default_storage.listdir(folder)[1]) if default_storage.exists(folder) else []


def test_upload_beyond_the_photo_limit_is_refused_and_stores_nothing(host_client, draft, monkeypatch):
    from listings import services

    monkeypatch.setattr(services, "MAX_PHOTOS_PER_LISTING", 2)
    assert upload_photo(host_client, draft, jpeg()).status_code == 200
    assert upload_photo(host_client, draft, jpeg()).status_code == 200
    before = stored_files()

    response = upload_photo(host_client, draft, jpeg())

    assert response.status_code == 422
    assert "A listing can have at most 2 photos; delete one first." in response.content.decode()
    assert draft.photos.count() == 2
    assert stored_files() == before


def test_files_are_removed_when_the_photo_row_cannot_be_saved(draft, monkeypatch):
    from django.db import IntegrityError

    from listings.services import listing_photo_add

    before = stored_files()

    def fail(*args, **kwargs):
        raise IntegrityError("simulated")

    monkeypatch.setattr(ListingPhoto, "save", fail)
    with pytest.raises(IntegrityError):
        listing_photo_add(listing=draft, upload=SimpleUploadedFile("a.jpg", jpeg(), content_type="image/jpeg"))
    assert stored_files() == before
    assert not draft.photos.exists()


def test_upload_without_a_file_is_a_422(host_client, draft):
    response = host_client.post(f"/host/listings/{draft.slug}/photos/", {"caption": "x"}, headers=HX)
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()


def test_upload_without_javascript_redirects_to_the_photos(host_client, draft):
    response = host_client.post(
        f"/host/listings/{draft.slug}/photos/",
        {"image": SimpleUploadedFile("a.jpg", jpeg(), content_type="image/jpeg")},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/host/listings/{draft.slug}/edit/#photos"
    assert draft.photos.count() == 1


def test_caption_move_and_delete(host_client, draft):
    first, second, third = (add_photo(draft, order=i) for i in range(3))
    base = f"/host/listings/{draft.slug}/photos"

    response = host_client.post(f"{base}/{second.pk}/", {"caption": "  Pool at   dusk "}, headers=HX)
    assert response.status_code == 200
    second.refresh_from_db()
    assert second.caption == "Pool at dusk"

    response = host_client.post(f"{base}/{third.pk}/move/", {"direction": "up"}, headers=HX)
    assert response.status_code == 200
    assert list(draft.photos.order_by("order").values_list("pk", flat=True)) == [first.pk, third.pk, second.pk]

    host_client.post(f"{base}/{third.pk}/move/", {"direction": "up"}, headers=HX)
    host_client.post(f"{base}/{third.pk}/move/", {"direction": "up"}, headers=HX)  # already first: no change
    assert list(draft.photos.order_by("order").values_list("pk", flat=True)) == [third.pk, first.pk, second.pk]

    response = host_client.post(f"{base}/{first.pk}/delete/", headers=HX)
    assert response.status_code == 200
    assert "photosChanged" in json.loads(response["HX-Trigger"])
    assert list(draft.photos.order_by("order").values_list("pk", "order")) == [(third.pk, 0), (second.pk, 1)]


def test_deleting_a_photo_removes_its_files_once_committed(host_client, draft, django_capture_on_commit_callbacks):
    photo = add_photo(draft)
    names = (photo.image.name, photo.thumbnail.name)
    with django_capture_on_commit_callbacks(execute=True):
        host_client.post(f"/host/listings/{draft.slug}/photos/{photo.pk}/delete/", headers=HX)
    assert not any(default_storage.exists(name) for name in names)


def test_bad_move_direction_is_a_422(host_client, draft):
    photo = add_photo(draft)
    response = host_client.post(
        f"/host/listings/{draft.slug}/photos/{photo.pk}/move/", {"direction": "sideways"}, headers=HX
    )
    assert response.status_code == 422


def test_the_last_photo_of_a_published_listing_cannot_be_deleted(host_client, host):
    listing = make_listing(host, is_published=True)
    photo = add_photo(listing)
    response = host_client.post(f"/host/listings/{listing.slug}/photos/{photo.pk}/delete/", headers=HX)
    assert response.status_code == 422
    assert "A published listing needs at least one photo" in response.content.decode()
    assert listing.photos.count() == 1


def test_another_host_cannot_touch_photos_and_nothing_changes(other_client, draft):
    photo = add_photo(draft, caption="Original")
    base = f"/host/listings/{draft.slug}/photos"
    assert upload_photo(other_client, draft, jpeg()).status_code == 404
    assert other_client.post(f"{base}/{photo.pk}/", {"caption": "Mine now"}, headers=HX).status_code == 404
    assert other_client.post(f"{base}/{photo.pk}/move/", {"direction": "down"}, headers=HX).status_code == 404
    assert other_client.post(f"{base}/{photo.pk}/delete/", headers=HX).status_code == 404
    assert list(draft.photos.values_list("pk", "caption")) == [(photo.pk, "Original")]


def test_a_photo_is_found_only_under_its_own_listing(host_client, host, draft):
    other_listing = make_listing(host, is_published=False)
    photo = add_photo(other_listing)
    response = host_client.post(f"/host/listings/{draft.slug}/photos/{photo.pk}/delete/", headers=HX)
    assert response.status_code == 404
    assert other_listing.photos.count() == 1


@pytest.mark.parametrize("count", [3, 40])
def test_edit_page_queries_do_not_grow_with_photos(host_client, draft, count, django_assert_num_queries):
    add_photo(draft)
    with CaptureQueriesContext(connection) as baseline:
        host_client.get(f"/host/listings/{draft.slug}/edit/")
    for i in range(1, count):
        add_photo(draft, order=i)
    with django_assert_num_queries(len(baseline)):
        response = host_client.get(f"/host/listings/{draft.slug}/edit/")
    assert response.content.decode().count("data-photo=") == count


# --- Reordering photos by dragging ----------------------------------------------------------------------------------


def reorder_url(listing: Listing) -> str:
    return f"/host/listings/{listing.slug}/photos/order/"


def stored_order(listing: Listing) -> list[int]:
    return list(listing.photos.order_by("order", "id").values_list("pk", flat=True))


def shown_order(body: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-photo="(\d+)"', body)]


@pytest.fixture
def three_photos(draft) -> list[ListingPhoto]:
    return [add_photo(draft, order=i, caption=f"Photo {i}") for i in range(3)]


def test_host_reorders_photos_and_gets_the_list_in_the_saved_order(host_client, draft, three_photos):
    first, second, third = three_photos

    response = host_client.post(reorder_url(draft), {"photo": [third.pk, first.pk, second.pk]}, headers=HX)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="photo-list"')
    assert "<html" not in body
    assert shown_order(body) == [third.pk, first.pk, second.pk]
    assert "Order saved" in body
    assert "photosChanged" in json.loads(response["HX-Trigger"])
    assert list(draft.photos.order_by("order").values_list("pk", "order")) == [
        (third.pk, 0),
        (first.pk, 1),
        (second.pk, 2),
    ]
    # The edit page (and so the cover in search) follows the new order.
    assert shown_order(host_client.get(f"/host/listings/{draft.slug}/edit/").content.decode()) == stored_order(draft)


def test_the_photo_list_carries_the_reorder_form_and_each_photos_id(host_client, draft, three_photos):
    body = host_client.get(f"/host/listings/{draft.slug}/edit/").content.decode()
    assert f'hx-post="{reorder_url(draft)}" hx-trigger="photosReordered"' in body
    for photo in three_photos:
        assert f'<input type="hidden" name="photo" value="{photo.pk}" form="photo-order">' in body
    assert "js/photo-order.js" in body
    assert "Order saved" not in body


def test_reorder_without_javascript_redirects_to_the_photos(host_client, draft, three_photos):
    first, second, third = three_photos
    response = host_client.post(reorder_url(draft), {"photo": [second.pk, third.pk, first.pk]})
    assert response.status_code == 302
    assert response["Location"] == f"/host/listings/{draft.slug}/edit/#photos"
    assert stored_order(draft) == [second.pk, third.pk, first.pk]


def test_the_same_order_again_changes_nothing_and_still_answers_the_list(host_client, draft, three_photos):
    ids = [photo.pk for photo in three_photos]
    response = host_client.post(reorder_url(draft), {"photo": ids}, headers=HX)
    assert response.status_code == 200
    assert shown_order(response.content.decode()) == ids == stored_order(draft)


def test_up_and_down_buttons_also_confirm_the_order_is_saved(host_client, draft, three_photos):
    response = host_client.post(
        f"/host/listings/{draft.slug}/photos/{three_photos[1].pk}/move/", {"direction": "up"}, headers=HX
    )
    assert response.status_code == 200
    assert "Order saved" in response.content.decode()


def test_another_host_cannot_reorder_and_nothing_changes(other_client, other, draft, three_photos):
    before = stored_order(draft)
    reversed_ids = list(reversed(before))
    assert other_client.post(reorder_url(draft), {"photo": reversed_ids}, headers=HX).status_code == 404
    assert other_client.post(reorder_url(draft), {"photo": reversed_ids}).status_code == 404
    # Nor through a listing of their own: the ids are not theirs.
    own = make_listing(other, is_published=False)
    add_photo(own)
    response = other_client.post(reorder_url(own), {"photo": reversed_ids}, headers=HX)
    assert response.status_code == 422
    assert stored_order(draft) == before


def test_anonymous_reorder_goes_to_sign_in_and_nothing_changes(client, draft, three_photos):
    before = stored_order(draft)
    reversed_ids = list(reversed(before))

    response = client.post(reorder_url(draft), {"photo": reversed_ids})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")

    # An htmx request is sent to sign-in as a whole page, never swapped into the list.
    response = client.post(
        reorder_url(draft),
        {"photo": reversed_ids},
        headers={**HX, "HX-Current-URL": f"http://testserver/host/listings/{draft.slug}/edit/"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/accounts/login/?next=")
    assert stored_order(draft) == before


@pytest.mark.parametrize(
    ("order", "message"),
    [
        (lambda photos, stranger: [photos[2], photos[0], stranger], "names a photo that is not on this listing"),
        (lambda photos, stranger: [photos[2], photos[0], photos[1], stranger], "not on this listing"),
        (lambda photos, stranger: [photos[2], photos[0]], "leaves out some of this listing's photos"),
        (lambda photos, stranger: [photos[2], photos[0], photos[0]], "names a photo twice"),
        (lambda photos, stranger: [photos[2], photos[0], photos[1], photos[1]], "names a photo twice"),
        (lambda photos, stranger: [999_999, photos[0], photos[1]], "not on this listing"),
        (lambda photos, stranger: [], "The new photo order was empty."),
        (lambda photos, stranger: ["abc", photos[0], photos[1]], "The new photo order could not be read."),
        (lambda photos, stranger: [f" {photos[2]}", photos[0], photos[1]], "could not be read"),
        (lambda photos, stranger: ["-1", photos[0], photos[1]], "could not be read"),
        (lambda photos, stranger: ["1e3", photos[0], photos[1]], "could not be read"),
        (lambda photos, stranger: ["٣", photos[0], photos[1]], "could not be read"),
        (lambda photos, stranger: ["9" * 400, photos[0], photos[1]], "could not be read"),
        (lambda photos, stranger: ["\x00", photos[0], photos[1]], "could not be read"),
    ],
    ids=[
        "another-listings-photo",
        "one-extra",
        "one-missing",
        "duplicate",
        "duplicate-extra",
        "unknown-id",
        "empty",
        "letters",
        "space",
        "negative",
        "exponent",
        "arabic-digit",
        "huge",
        "nul",
    ],
)
def test_a_wrong_order_is_a_422_with_a_clear_message_and_nothing_changes(
    host_client, host, draft, three_photos, order, message
):
    other_listing = make_listing(host, is_published=False)
    stranger = add_photo(other_listing)
    before = stored_order(draft)
    ids = [photo.pk if isinstance(photo, ListingPhoto) else photo for photo in order(three_photos, stranger.pk)]

    response = host_client.post(reorder_url(draft), {"photo": ids}, headers=HX)

    assert response.status_code == 422
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="photo-list"')
    assert 'role="alert"' in body and message in html.unescape(body)
    assert "Order saved" not in body
    assert "HX-Trigger" not in response
    # The list shows what is stored, so the page drops the order it tried to send.
    assert shown_order(body) == before == stored_order(draft)
    assert other_listing.photos.get().order == 0


def test_a_wrong_order_without_javascript_redirects_with_the_message(host_client, draft, three_photos):
    before = stored_order(draft)
    response = host_client.post(reorder_url(draft), {"photo": before[:2]}, follow=True)
    assert response.redirect_chain == [(f"/host/listings/{draft.slug}/edit/#photos", 302)]
    assert "leaves out some of this listing's photos" in html.unescape(response.content.decode())
    assert stored_order(draft) == before


def test_reorder_accepts_only_post(host_client, draft, three_photos):
    assert host_client.get(reorder_url(draft)).status_code == 405


def test_reorder_service_saves_in_one_go_or_not_at_all(draft, three_photos, monkeypatch):
    from listings.services import ListingError, listing_photo_reorder

    first, second, third = three_photos
    photos = listing_photo_reorder(listing=draft, photo_ids=[second.pk, third.pk, first.pk])
    assert [photo.pk for photo in photos] == [second.pk, third.pk, first.pk]
    assert [photo.order for photo in photos] == [0, 1, 2]
    assert stored_order(draft) == [second.pk, third.pk, first.pk]

    with pytest.raises(ListingError):
        listing_photo_reorder(listing=draft, photo_ids=[first.pk, second.pk])
    assert stored_order(draft) == [second.pk, third.pk, first.pk]


@pytest.mark.parametrize("count", [3, 10])
def test_reorder_queries_do_not_grow_with_photos(host_client, draft, count, django_assert_num_queries):
    photos = [add_photo(draft, order=i) for i in range(3)]
    with CaptureQueriesContext(connection) as baseline:
        host_client.post(reorder_url(draft), {"photo": [p.pk for p in reversed(photos)]}, headers=HX)
    photos += [add_photo(draft, order=i) for i in range(3, count)]
    new_order = [p.pk for p in photos[1:]] + [photos[0].pk]
    with django_assert_num_queries(len(baseline)):
        response = host_client.post(reorder_url(draft), {"photo": new_order}, headers=HX)
    assert response.status_code == 200
    assert stored_order(draft) == new_order


# --- Publishing ---------------------------------------------------------------------------------------------------


def test_publish_is_refused_naming_everything_missing(host_client, host):
    listing = make_listing(host, is_published=False, nightly_price_kes=None, max_guests=None)
    response = host_client.post(f"/host/listings/{listing.slug}/publish/", {"action": "publish"}, headers=HX)
    assert response.status_code == 422
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="publish-panel"')
    assert "To publish, add at least one photo, a nightly price and the number of guests it sleeps." in body
    listing.refresh_from_db()
    assert not listing.is_published


def test_publish_is_refused_without_a_photo_alone(host_client, draft):
    response = host_client.post(f"/host/listings/{draft.slug}/publish/", {"action": "publish"}, headers=HX)
    assert response.status_code == 422
    assert "To publish, add at least one photo." in response.content.decode()


def test_publish_and_unpublish(host_client, draft):
    add_photo(draft)
    response = host_client.post(f"/host/listings/{draft.slug}/publish/", {"action": "publish"}, headers=HX)
    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.is_published
    assert 'value="unpublish"' in response.content.decode()
    assert f'href="/listings/{draft.slug}/"' in response.content.decode()

    response = host_client.post(f"/host/listings/{draft.slug}/publish/", {"action": "unpublish"}, headers=HX)
    assert response.status_code == 200
    draft.refresh_from_db()
    assert not draft.is_published


def test_publish_without_javascript_redirects_with_a_message(host_client, draft):
    response = host_client.post(f"/host/listings/{draft.slug}/publish/", {"action": "publish"}, follow=True)
    assert response.redirect_chain == [(f"/host/listings/{draft.slug}/edit/", 302)]
    assert "To publish, add at least one photo." in response.content.decode()


def test_publish_panel_fragment_lists_what_is_missing(host_client, draft):
    response = host_client.get(f"/host/listings/{draft.slug}/publish/", headers=HX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="publish-panel"')
    assert "at least one photo" in body
    assert 'hx-trigger="photosChanged from:body"' in body


@pytest.mark.parametrize("action", ["", "delete", "publish\x00", "<b>"])
def test_unknown_publish_action_is_a_422(host_client, draft, action):
    response = host_client.post(f"/host/listings/{draft.slug}/publish/", {"action": action}, headers=HX)
    assert response.status_code == 422


def test_another_host_cannot_publish_or_unpublish(other_client, host):
    listing = make_listing(host, is_published=True)
    add_photo(listing)
    assert other_client.post(f"/host/listings/{listing.slug}/publish/", {"action": "unpublish"}).status_code == 404
    assert other_client.get(f"/host/listings/{listing.slug}/publish/", headers=HX).status_code == 404
    listing.refresh_from_db()
    assert listing.is_published


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_on_photo_and_publish_endpoints_never_500(host_client, draft, value):
    photo = add_photo(draft)
    base = f"/host/listings/{draft.slug}"
    requests = [
        (f"{base}/photos/{photo.pk}/", {"caption": value}),
        (f"{base}/photos/{photo.pk}/move/", {"direction": value}),
        (f"{base}/photos/order/", {"photo": [value, photo.pk]}),
        (f"{base}/photos/", {"caption": value, "image": value}),
        (f"{base}/publish/", {"action": value}),
    ]
    for path, data in requests:
        for headers in (HX, {}):
            response = host_client.post(path, data, headers=headers)
            assert response.status_code in (200, 302, 422), (path, headers, response.status_code)
    # A NUL in a query string is refused before any view (tests/core/test_unstorable_characters.py).
    expected = 400 if "\x00" in value else 200
    assert host_client.get(f"{base}/calendar/", {"month": value}).status_code == expected


def test_an_empty_post_shows_the_required_fields(host_client, draft):
    for path in ("/host/listings/new/", f"/host/listings/{draft.slug}/edit/"):
        response = host_client.post(path, {})
        assert response.status_code == 422
        assert "This field is required." in response.content.decode()


# --- The off-platform payment guard --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "quoted"),
    [
        ("description", "Lovely flat. Paybill 123456 to reserve.", "Paybill 123456"),
        ("title", "Villa call 0712 345 678", "0712 345 678"),
        ("house_rules", "Lipa na M-Pesa 400200 on arrival", "Lipa na M-Pesa 400200"),
    ],
)
def test_listing_form_refuses_payment_details_and_says_what_to_remove(host_client, host, field, value, quoted):
    response = host_client.post("/host/listings/new/", valid_listing_data(**{field: value}))
    assert response.status_code == 422
    body = response.content.decode()
    assert "Guests pay only through Nexus" in body
    assert "Remove the" in body and quoted in body
    assert not Listing.objects.filter(host=host).exists()


def test_private_fields_and_ordinary_numbers_are_not_checked(host_client, host):
    response = host_client.post(
        "/host/listings/new/",
        valid_listing_data(
            description="Plot 12345, 2 bedrooms, KES 12,000 a night, built in 2019.",
            check_in_instructions="Call me on 0712 345 678 when you arrive; gate code 4455.",
            directions="Till 123456 is the shop at the corner.",
        ),
    )
    assert response.status_code == 302
    assert Listing.objects.get(host=host).check_in_instructions.startswith("Call me on 0712")


def test_a_caption_with_a_phone_number_is_refused(host_client, host):
    listing = make_listing(host)

    response = upload_photo(host_client, listing, jpeg(), caption="Call 0722-000-111")
    assert response.status_code == 422
    assert "0722-000-111" in response.content.decode()
    assert not listing.photos.exists()


def test_an_existing_listing_that_fails_stays_published_and_its_host_sees_what_to_fix(host_client, host, client):
    listing = make_listing(host, description="Send to 0712345678 to book directly.", house_rules="No smoking.")
    page = host_client.get(f"/host/listings/{listing.slug}/edit/").content.decode()
    assert "data-guard-problems" in page
    assert "Description:" in page and "0712345678" in page
    listing.refresh_from_db()
    assert listing.is_published
    clean = make_listing(host)
    assert "data-guard-problems" not in host_client.get(f"/host/listings/{clean.slug}/edit/").content.decode()
    dashboard = host_client.get("/host/").content.decode()
    assert dashboard.count("data-needs-fix") == 1
