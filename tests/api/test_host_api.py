"""The host's side over the API: listings created, changed and published with the page's refusals, photos checked
and stripped as on the page, the calendar, and the bookings on the host's places."""

from io import BytesIO

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from listings.models import Listing
from tests.api.conftest import assert_problem
from tests.helpers.stays import d
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db

NEW_LISTING = {
    "title": "  Lamu   roof house ",
    "property_type": "house",
    "county": "lamu",
    "town": "Shela",
    "description": "White walls, sea breeze.",
    "bedrooms": 2,
    "beds": 3,
    "bathrooms": 1,
    "cleaning_fee_kes": 1_000,
    "weekly_discount_percent": 10,
    "monthly_discount_percent": 20,
    "min_nights": 2,
    "max_nights": 30,
    "advance_notice_days": 1,
    "same_day_cutoff_hour": 18,
    "check_in_time": "14:00",
    "check_out_time": "10:00",
    "house_rules": "Shoes off.",
    "cancellation_policy": "strict",
    "amenities": ["wifi", "sea_view"],
    "street_address": "Behind the mosque",
    "host_phone": "0712 345 678",
}


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "S", ExifTags.GPS.GPSLatitude: (4.0, 17.0, 30.0)}
    buffer = BytesIO()
    Image.new("RGB", (1200, 900), (200, 120, 40)).save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def test_a_host_creates_changes_and_publishes_a_listing(api_as, host):
    client = api_as(host.email)
    made = client.post("/api/v1/host/listings/", NEW_LISTING)
    assert made.status_code == 201, made.content
    body = made.json()
    slug = body["slug"]
    assert body["title"] == "Lamu roof house" and body["is_published"] is False
    assert body["host_phone"] == "254712345678" and body["street_address"] == "Behind the mosque"
    assert set(body["publish_missing"]) == {"at least one photo", "a nightly price", "the number of guests it sleeps"}
    refused = assert_problem(client.patch(f"/api/v1/host/listings/{slug}/", {"publish": True}), 422, "refused")
    assert "at least one photo" in refused["detail"]
    changed = client.patch(f"/api/v1/host/listings/{slug}/", {"nightly_price_kes": 9_000, "max_guests": 5}).json()
    assert (
        changed["nightly_price_kes"] == 9_000 and changed["max_guests"] == 5 and changed["title"] == "Lamu roof house"
    )
    photo = SimpleUploadedFile("IMG_1.JPG", jpeg_with_gps(), content_type="image/jpeg")
    added = client.client.post(
        f"/api/v1/host/listings/{slug}/photos/",
        {"image": photo, "caption": "Roof"},
        headers={"X-Session-Token": client.token},
    )
    assert added.status_code == 201, added.content
    stored = default_storage.open(Listing.objects.get(slug=slug).photos.get().image.name).read()
    assert b"PhoneMaker" not in stored and b"Exif" not in stored
    published = client.patch(f"/api/v1/host/listings/{slug}/", {"publish": True}).json()
    assert published["is_published"] is True and published["publish_missing"] == []
    listed = client.get("/api/v1/host/listings/").json()["results"]
    assert [(row["slug"], row["photo_count"]) for row in listed] == [(slug, 1)]
    photo_url = f"/api/v1/host/listings/{slug}/photos/{added.json()['id']}/"
    assert_problem(client.delete(photo_url), 422, "refused")  # a published listing keeps a photo, as on the page
    client.patch(f"/api/v1/host/listings/{slug}/", {"publish": False})
    assert client.delete(photo_url).status_code == 204


def test_listing_fields_are_checked_by_the_listing_form(api_as, host):
    client = api_as(host.email)
    errors = assert_problem(
        client.post("/api/v1/host/listings/", {**NEW_LISTING, "county": "atlantis", "min_nights": 9, "max_nights": 3}),
        422,
        "invalid",
    )["errors"]
    assert {"county", "max_nights"} <= set(errors)
    listing = make_listing(host)
    assert_problem(client.patch(f"/api/v1/host/listings/{listing.slug}/", {"publish": "yes"}), 422)
    assert_problem(client.patch(f"/api/v1/host/listings/{listing.slug}/", {"host_phone": "12"}), 422)


def test_a_fake_image_is_refused_like_on_the_page(api_as, host):
    client = api_as(host.email)
    listing = make_listing(host)
    fake = SimpleUploadedFile("photo.jpg", b"not really a picture", content_type="image/jpeg")
    answer = client.client.post(
        f"/api/v1/host/listings/{listing.slug}/photos/", {"image": fake}, headers={"X-Session-Token": client.token}
    )
    assert_problem(answer, 422)
    assert not listing.photos.exists()


def test_the_calendar_is_read_and_changed_by_ranges(api_as, host, anonymous):
    client = api_as(host.email)
    listing = make_listing(host)
    url = f"/api/v1/host/listings/{listing.slug}/calendar/"
    answer = client.post(
        url, {"first_night": d(3).isoformat(), "last_night": d(5).isoformat(), "action": "block", "note": "Repairs"}
    )
    assert answer.status_code == 200, answer.content
    nights = {night["date"]: night for night in answer.json()["nights"]}
    assert nights[d(4).isoformat()]["blocked"] is True and nights[d(4).isoformat()]["note"] == "Repairs"
    client.post(url, {"first_night": d(6).isoformat(), "action": "price", "price_kes": 15_000})
    month = client.get(url, {"month": f"{d(6):%Y-%m}"}).json()
    sixth = next(night for night in month["nights"] if night["date"] == d(6).isoformat())
    assert (sixth["price_kes"], sixth["price_overridden"]) == (15_000, True)
    assert_problem(client.post(url, {"first_night": d(6).isoformat(), "action": "price"}), 422)
    assert_problem(client.post(url, {"first_night": d(6).isoformat(), "action": "paint"}), 422)
    assert_problem(anonymous.get(url), 401)


def test_host_bookings_show_contacts_only_once_confirmed(api_as, host, guest, hold, paid_payment, listing):
    from django.db import transaction

    from reservations.services import GuestData

    held = hold(guest, 10, 12, guests=[GuestData(full_name="Grace Guest", email=guest.email, phone="254708374149")])
    client = api_as(host.email)
    row = client.get("/api/v1/host/bookings/").json()["results"][0]
    assert row["reference"] == held.ref and row["guests"][0]["email"] == ""
    assert row["guests"][0]["phone"] != "254708374149"
    with transaction.atomic():
        paid_payment(booking=held)
    row = client.get("/api/v1/host/bookings/", {"status": "confirmed"}).json()["results"][0]
    assert row["guests"][0]["email"] == guest.email and row["guests"][0]["phone"] == "254708374149"
    assert_problem(client.get("/api/v1/host/bookings/", {"status": "lost"}), 422)
