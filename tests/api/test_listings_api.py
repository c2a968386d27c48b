"""Listings over the API: search with the search page's parameters and rules, public details without the private
fields, a month's availability and a stay's quote."""

import pytest
from django.core.files.base import ContentFile

from listings.models import ListingPhoto
from tests.api.conftest import assert_problem
from tests.helpers.stays import d
from tests.listings.builders import make_listing, set_night

pytestmark = pytest.mark.django_db


@pytest.fixture
def diani(host):
    listing = make_listing(
        host,
        title="Diani beach house",
        nightly_price_kes=12_000,
        cleaning_fee_kes=2_000,
        amenities=["wifi", "pool"],
        street_address="Plot 7, Beach Road",
        directions="Past the baobab",
        check_in_instructions="Key with the guard",
        host_phone="254712345678",
        house_rules="No parties.",
    )
    ListingPhoto.objects.create(
        listing=listing,
        image=ContentFile(b"x", name="big.jpg"),
        thumbnail=ContentFile(b"x", name="small.jpg"),
        caption="The beach",
    )
    return listing


def test_search_lists_published_listings_with_the_pages_shape(anonymous, diani, host):
    make_listing(host, title="Hidden", is_published=False)
    answer = anonymous.get("/api/v1/listings/", {"where": "diani"})
    assert answer.status_code == 200 and answer["Content-Type"] == "application/json"
    body = answer.json()
    assert body["count"] == 1 and body["next"] is None and body["previous"] is None
    card = body["results"][0]
    assert card["slug"] == diani.slug and card["title"] == "Diani beach house"
    assert card["area"] == "Diani, Kwale" and card["county"] == "kwale"
    assert card["nightly_price_kes"] == 12_000 and card["total_kes"] is None
    assert card["cover_url"].startswith("http://testserver/") and "small" in card["cover_url"]


def test_a_dated_search_lists_only_bookable_listings_with_the_stays_total(anonymous, diani, host):
    busy = make_listing(host, title="Busy cottage")
    set_night(busy, d(11), blocked=True)
    answer = anonymous.get(
        "/api/v1/listings/", {"check_in": d(10).isoformat(), "check_out": d(13).isoformat(), "guests": 2}
    )
    body = answer.json()
    assert [card["slug"] for card in body["results"]] == [diani.slug]
    assert body["results"][0]["total_kes"] == 3 * 12_000 + 2_000


def test_search_pages_by_twelve_with_links(anonymous, host):
    for n in range(14):
        make_listing(host, title=f"Cottage {n}", nightly_price_kes=1_000 + n)
    first = anonymous.get("/api/v1/listings/", {"sort": "price"}).json()
    assert first["count"] == 14 and len(first["results"]) == 12 and first["previous"] is None
    assert first["next"] == "http://testserver/api/v1/listings/?page=2&sort=price"
    second = anonymous.get("/api/v1/listings/", {"sort": "price", "page": 2}).json()
    assert len(second["results"]) == 2 and second["next"] is None
    assert second["previous"] == "http://testserver/api/v1/listings/?sort=price"


def test_search_filters_by_amenities_type_and_price(anonymous, diani, host):
    make_listing(host, title="No pool", amenities=["wifi"], nightly_price_kes=5_000)
    body = anonymous.get("/api/v1/listings/?amenities=wifi&amenities=pool").json()
    assert [card["slug"] for card in body["results"]] == [diani.slug]
    body = anonymous.get("/api/v1/listings/", {"max_price": 6_000}).json()
    assert [card["title"] for card in body["results"]] == ["No pool"]


def test_search_refuses_bad_parameters_with_field_errors(anonymous):
    body = assert_problem(
        anonymous.get("/api/v1/listings/", {"guests": "many", "check_in": "2020-13-01", "sort": "x"}), 422, "invalid"
    )
    assert {"guests", "check_in", "sort"} <= set(body["errors"])


def test_details_are_public_and_never_private(anonymous, diani):
    body = anonymous.get(f"/api/v1/listings/{diani.slug}/").json()
    assert body["title"] == "Diani beach house" and body["host_first_name"] == "Hassan"
    assert body["house_rules"] == "No parties."
    assert [a["code"] for a in body["amenities"]] == ["wifi", "pool"]
    assert body["cancellation_policy"]["code"] == "moderate" and body["cancellation_policy"]["rules"]
    photo = body["photos"][0]
    assert photo["image_url"].startswith("http://testserver/") and "big" in photo["image_url"]
    assert "small" in photo["thumbnail_url"]
    text = str(body)
    for private in ("street_address", "directions", "check_in_instructions", "host_phone", "Plot 7", "baobab"):
        assert private not in text


def test_an_unpublished_listing_is_a_404_except_for_its_host(anonymous, host, api_as):
    hidden = make_listing(host, is_published=False)
    assert_problem(anonymous.get(f"/api/v1/listings/{hidden.slug}/"), 404, "not_found")
    assert api_as(host.email).get(f"/api/v1/listings/{hidden.slug}/").status_code == 200


def test_availability_gives_each_night_of_the_month(anonymous, diani):
    set_night(diani, d(3), blocked=True)
    set_night(diani, d(4), price_override_kes=20_000, min_nights_override=3)
    month = f"{d(3):%Y-%m}"
    body = anonymous.get(f"/api/v1/listings/{diani.slug}/availability/", {"month": month}).json()
    assert body["month"] == month
    nights = {night["date"]: night for night in body["nights"]}
    assert nights[d(3).isoformat()]["available"] is False
    fourth = nights[d(4).isoformat()]
    assert (fourth["available"], fourth["price_kes"], fourth["min_nights"]) == (True, 20_000, 3)
    assert all(night["date"].startswith(month) for night in body["nights"])
    assert_problem(anonymous.get(f"/api/v1/listings/{diani.slug}/availability/", {"month": "soon"}), 422)


def test_a_quote_prices_the_stay_or_says_why_not(anonymous, diani):
    url = f"/api/v1/listings/{diani.slug}/quote/"
    body = anonymous.get(url, {"check_in": d(10).isoformat(), "check_out": d(17).isoformat(), "guests": 2}).json()
    assert body["bookable"] is True and body["code"] == "" and len(body["nights"]) == 7
    assert body["total_kes"] == body["nights_total_kes"] - body["discount_kes"] + 2_000
    assert body["pays_in_instalments"] is False and body["instalment_limit_kes"] == 250_000
    refused = anonymous.get(url, {"check_in": d(10).isoformat(), "check_out": d(12).isoformat(), "guests": 9}).json()
    assert refused["bookable"] is False and refused["code"] == "max_guests" and "sleeps at most 4" in refused["reason"]
    assert_problem(anonymous.get(url, {"check_in": d(10).isoformat()}), 422)
