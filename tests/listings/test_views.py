import datetime
import html as html_module
import re
from html import unescape
from urllib.parse import urlencode

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.urls import reverse

from listings.models import ListingPhoto
from tests.listings.builders import hold_stay, make_listing, set_night

pytestmark = pytest.mark.django_db

# 10:00 on 1 Dec 2026 in Nairobi.
NOW = datetime.datetime(2026, 12, 1, 7, 0, tzinfo=datetime.UTC)
SEARCH = reverse("listings:search")
HX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def host(make_user):
    return make_user(email="wanjiru@example.com", full_name="Wanjiru Kamau")


def titles(response) -> list[str]:
    return re.findall(r'<h3 class="[^"]*">([^<]+)</h3>', response.content.decode())


def add_photo(listing, n: int = 0) -> ListingPhoto:
    photo = ListingPhoto(listing=listing, caption=f"View {n}", order=n)
    photo.image.save(f"p{listing.pk}-{n}.jpg", ContentFile(b"jpeg bytes"), save=False)
    photo.thumbnail.save(f"t{listing.pk}-{n}.jpg", ContentFile(b"jpeg bytes"), save=False)
    photo.save()
    return photo


# --- home -------------------------------------------------------------------------------------------------------


def test_home_has_the_search_form_and_featured_listings(client, host):
    shown = make_listing(host, title="Tiwi Beach House")
    add_photo(shown)
    make_listing(host, title="Draft cottage", is_published=False)
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'action="{SEARCH}"' in html
    for name in ("where", "check_in", "check_out", "guests"):
        assert f'name="{name}"' in html
    assert "Tiwi Beach House" in html
    assert "Draft cottage" not in html


def test_cards_show_the_first_photo_as_cover_its_thumbnail_else_the_image(client, host):
    ordered = make_listing(host, title="Two photos", nightly_price_kes=3_000)
    second, first = add_photo(ordered, 1), add_photo(ordered, 0)
    no_thumbnail = make_listing(host, title="Image only", nightly_price_kes=4_000)
    image_only = add_photo(no_thumbnail)
    image_only.thumbnail = ""
    image_only.save()
    make_listing(host, title="No photos", nightly_price_kes=5_000)
    html = client.get(SEARCH).content.decode()
    covers = re.findall(r'<img src="([^"]+)" srcset=', html)
    assert covers == [first.thumbnail.url, image_only.image.url]
    assert second.thumbnail.url not in html
    assert html.count("No photo yet") == 1
    client.force_login(host)
    dashboard = client.get("/host/").content.decode()
    assert first.thumbnail.url in dashboard and image_only.image.url in dashboard


def test_header_search_goes_to_the_search_page(client):
    html = client.get("/").content.decode()
    assert re.search(rf'<form action="{SEARCH}" method="get" role="search"[^>]*>\s*<label for="site-search"', html)
    assert 'id="site-search" type="search" name="where"' in html


# --- search -----------------------------------------------------------------------------------------------------


def test_where_matches_town_county_or_title_case_insensitively(client, host):
    make_listing(host, title="Palm cottage", county="kwale", town="Diani")
    make_listing(host, title="Nyali flat", county="mombasa", town="Nyali")
    make_listing(host, title="Lake view", county="nakuru", town="Naivasha")
    make_listing(host, title="Diani-style loft", county="nairobi", town="Kilimani")
    assert sorted(titles(client.get(SEARCH, {"where": "dIAni"}))) == ["Diani-style loft", "Palm cottage"]
    assert titles(client.get(SEARCH, {"where": "KWALE"})) == ["Palm cottage"]
    assert titles(client.get(SEARCH, {"where": "mombasa"})) == ["Nyali flat"]
    assert len(titles(client.get(SEARCH))) == 4


def test_search_lists_only_published_listings_that_fit_the_guests(client, host):
    make_listing(host, title="Small", max_guests=2)
    make_listing(host, title="Large", max_guests=8)
    make_listing(host, title="Hidden", max_guests=8, is_published=False)
    assert sorted(titles(client.get(SEARCH, {"guests": 2}))) == ["Large", "Small"]
    assert titles(client.get(SEARCH, {"guests": 3})) == ["Large"]


def test_search_with_dates_lists_only_bookable_listings_with_the_stay_total(client, host):
    free = make_listing(host, title="Free", nightly_price_kes=8_000, cleaning_fee_kes=1_000)
    blocked = make_listing(host, title="Blocked")
    set_night(blocked, datetime.date(2026, 12, 6), blocked=True)
    long_minimum = make_listing(host, title="Long minimum")
    set_night(long_minimum, datetime.date(2026, 12, 5), min_nights_override=5)
    make_listing(host, title="Short maximum", max_nights=2)
    make_listing(host, title="Too much notice", advance_notice_days=7)
    make_listing(host, title="Too small", max_guests=1)
    checkout_blocked = make_listing(host, title="Check-out day blocked")
    set_night(checkout_blocked, datetime.date(2026, 12, 8), blocked=True)

    response = client.get(SEARCH, {"where": "diani", "check_in": "2026-12-05", "check_out": "2026-12-08", "guests": 2})
    assert response.status_code == 200
    assert sorted(titles(response)) == ["Check-out day blocked", "Free"]
    html = response.content.decode()
    assert "KES 25,000</span> total for 3 nights" in html  # 3 x 8,000 + 1,000
    # The card opens the property page with the same stay.
    assert f"{free.get_absolute_url()}?check_in=2026-12-05&amp;check_out=2026-12-08&amp;guests=2" in html


def test_filters_type_price_and_amenities(client, host):
    make_listing(host, title="Pool villa", property_type="villa", nightly_price_kes=30_000, amenities=["pool", "wifi"])
    make_listing(host, title="Wifi flat", property_type="apartment", nightly_price_kes=6_000, amenities=["wifi"])
    make_listing(host, title="Plain room", property_type="room", nightly_price_kes=2_500)
    assert titles(client.get(SEARCH, {"property_type": "villa"})) == ["Pool villa"]
    assert titles(client.get(SEARCH, {"min_price": 5_000, "max_price": 10_000})) == ["Wifi flat"]
    assert sorted(titles(client.get(SEARCH, {"amenities": ["wifi"]}))) == ["Pool villa", "Wifi flat"]
    assert titles(client.get(SEARCH, {"amenities": ["wifi", "pool"]})) == ["Pool villa"]


def test_the_form_keeps_the_chosen_sort_type_and_amenities_also_when_the_search_is_refused(client, host):
    make_listing(host, title="Pool villa", property_type="villa", amenities=["pool", "wifi"])
    chosen = {"sort": "-price", "property_type": "villa", "amenities": ["pool", "wifi"]}
    for params, status in ((chosen, 200), ({**chosen, "guests": "0"}, 422)):
        response = client.get(SEARCH, params)
        assert response.status_code == status
        html = response.content.decode()
        assert re.findall(r'<option value="([^"]*)" selected>', html) == ["-price", "villa"]
        assert sorted(re.findall(r'name="amenities" value="([^"]+)"[^>]* checked', html)) == ["pool", "wifi"]
        assert html.count('name="amenities"') == 18  # every amenity is offered


def search_form(html: str) -> str:
    return re.search(r'<form id="search-form".*?</form>', html, re.S).group(0)


def test_the_search_forms_filters_show_what_each_search_sent_and_its_errors(client, host):
    """The filters' markup is remembered by what a search sent for them (SearchForm.filters_data): from one search to
    the next, each shows its own choices, values and errors, as if rendered afresh."""
    from core.jinja2 import forget_remembered

    make_listing(host, title="Pool villa", property_type="villa", amenities=["pool"])
    searches = [
        {},
        {"property_type": "villa"},
        {"property_type": "villa", "amenities": ["pool"]},
        {"amenities": ["pool", "wifi"]},
        {"min_price": "9000", "max_price": "1000"},  # refused: the highest below the lowest
        {"min_price": "9000", "max_price": "20000"},
        {"min_price": "lots"},  # refused: not a number
        {"property_type": "castle"},  # refused: no such type
        {"sort": "-price", "check_in": "2026-12-20", "check_out": "2026-12-23"},
        {},
    ]
    for params in searches:
        shown = search_form(client.get(SEARCH, params).content.decode())
        forget_remembered()
        assert search_form(client.get(SEARCH, params).content.decode()) == shown, params
    refused = search_form(client.get(SEARCH, {"min_price": "9000", "max_price": "1000"}).content.decode())
    assert re.search(r'name="max_price"[^>]*value="1000"\s+class="[^"]*border-red-500', refused)
    assert re.search(r'<details class="mt-3" open>', refused)
    assert not re.search(r'<details class="mt-3" open>', search_form(client.get(SEARCH).content.decode()))


def test_search_cards_show_each_change_to_a_listing_and_its_cover_at_once(client, host):
    """A card's cover and details are remembered by the listing's and its cover's columns as the search read them
    (ListingCard.content): each change is on the next search, and the page is the one rendered afresh."""
    from core.jinja2 import forget_remembered
    from listings.models import Listing

    listing = make_listing(host, title="Baobab House", nightly_price_kes=8_000)
    other = make_listing(host, title="Acacia Lodge", nightly_price_kes=9_000)
    add_photo(listing, 0)
    stay = {"check_in": "2026-12-20", "check_out": "2026-12-23", "guests": 2}
    update = Listing.objects.filter(pk=listing.pk).update
    changes = [
        (lambda: update(title="Mango House"), "Mango House"),
        (lambda: update(nightly_price_kes=8_500), "KES 8,500</span> a night"),
        (lambda: update(town="Tiwi"), "Tiwi, Kwale"),
        (lambda: update(property_type="villa"), "Villa"),
        (lambda: update(max_guests=6), "sleeps 6"),
        (lambda: update(review_count=3, rating_sum=14), "★ 4.7 (3)"),
        (lambda: ListingPhoto.objects.filter(listing=listing).delete(), "No photo yet"),
        (lambda: add_photo(listing, 1), f"t{listing.pk}-1"),
        (lambda: Listing.objects.filter(pk=other.pk).update(nightly_price_kes=1_000), "Acacia Lodge"),  # now first
    ]
    assert "Baobab House" in client.get(SEARCH, stay).content.decode()
    for change, shown in changes:
        change()
        page = client.get(SEARCH, stay).content.decode()
        assert shown in unescape(page)
        forget_remembered()
        again = client.get(SEARCH, stay).content.decode()
        assert re.sub(r'nonce="[^"]*"', "", again) == re.sub(r'nonce="[^"]*"', "", page)
    assert titles(client.get(SEARCH, stay)) == ["Acacia Lodge", "Mango House"]


def test_sort_by_price_and_newest(client, host):
    make_listing(host, title="Middle", nightly_price_kes=5_000)
    make_listing(host, title="Cheap", nightly_price_kes=2_000)
    make_listing(host, title="Dear", nightly_price_kes=9_000)
    assert titles(client.get(SEARCH, {"sort": "price"})) == ["Cheap", "Middle", "Dear"]
    assert titles(client.get(SEARCH, {"sort": "-price"})) == ["Dear", "Middle", "Cheap"]
    assert titles(client.get(SEARCH, {"sort": "newest"})) == ["Dear", "Cheap", "Middle"]


def test_search_is_paginated(client, host):
    for i in range(14):
        make_listing(host, title=f"Place {i:02d}", nightly_price_kes=1_000 + i)
    first = client.get(SEARCH, {"where": "diani"})
    assert len(titles(first)) == 12
    html = first.content.decode()
    assert "Page 1 of 2" in html
    assert 'href="?where=diani&amp;page=2"' in html
    second = client.get(SEARCH, {"where": "diani", "page": 2})
    assert titles(second) == ["Place 12", "Place 13"]
    assert client.get(SEARCH, {"page": "last"}).status_code == 200
    assert client.get(SEARCH, {"page": "999"}).status_code == 200


def test_htmx_search_returns_only_the_results_fragment(client, host):
    make_listing(host, title="Palm cottage")
    response = client.get(SEARCH, {"where": "diani"}, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="search-results"')
    assert "Palm cottage" in html
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_htmx_search_brings_its_heading_and_title_along(client, host):
    make_listing(host, title="Palm cottage")
    html = client.get(SEARCH, {"where": "nanyuki"}, headers=HX).content.decode()
    assert re.search(r'<h1 id="search-heading"[^>]*hx-swap-oob="true"[^>]*>Places to stay in nanyuki</h1>', html)
    assert "<title>Places to stay in nanyuki · Nexus</title>" in unescape(html)
    page = client.get(SEARCH, {"where": "nanyuki"}).content.decode()
    assert "hx-swap-oob" not in page and page.count('id="search-heading"') == 1


def test_after_a_search_the_form_folds_under_a_summary_of_place_dates_and_guests(client, host):
    make_listing(host, title="Palm cottage")
    bare = client.get(SEARCH).content.decode()
    assert re.search(r'<details id="search-edit"[^>]*\sopen>', bare)  # nothing searched yet: the form is open
    html = client.get(SEARCH, {"where": "Diani", "check_in": "2026-12-20", "check_out": "2026-12-23", "guests": "2"})
    html = html.content.decode()
    details = re.search(r'<details id="search-edit"[^>]*>', html).group(0)
    assert " open" not in details
    summary = re.search(r'<span id="search-summary"[^>]*>(.*?)</span>\s*<span', html, re.S).group(1)
    assert unescape(re.sub(r"<[^>]+>", "", summary)) == "Diani · 20–23 Dec · 2 guests"
    assert '<span class="group-open:hidden">Edit search</span>' in html
    # A refused search keeps the form open on its errors.
    refused = client.get(SEARCH, {"check_in": "2026-12-23", "check_out": "2026-12-20"}).content.decode()
    assert re.search(r'<details id="search-edit"[^>]*\sopen>', refused)
    # An htmx search brings the new summary along.
    fragment = client.get(SEARCH, {"check_in": "2026-12-30", "check_out": "2027-01-02"}, headers=HX).content.decode()
    summary = re.search(r'<span id="search-summary"[^>]*hx-swap-oob="true"[^>]*>(.*?)</span>\s*$', fragment, re.S)
    assert unescape(re.sub(r"<[^>]+>", "", summary.group(1))) == "Anywhere · 30 Dec – 2 Jan · 1 guest"


def test_search_form_swaps_results_and_pushes_the_url(client):
    html = client.get(SEARCH).content.decode()
    form = re.search(r'<form id="search-form"[^>]*>', html).group(0)
    assert f'action="{SEARCH}"' in form  # works without JavaScript
    assert f'hx-get="{SEARCH}"' in form
    assert 'hx-target="#search-results"' in form
    assert 'hx-swap="outerHTML"' in form
    assert 'hx-push-url="true"' in form


def test_empty_state_suggests_what_to_change(client, host):
    make_listing(host, county="kwale", town="Diani")
    response = client.get(SEARCH, {"where": "Lodwar"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "No places match your search." in html
    assert "search a whole county" in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"check_in": "2026-12-12", "check_out": "2026-12-10"}, "Check-out must be after check-in."),
        ({"check_in": "2026-12-12", "check_out": "2026-12-12"}, "Check-out must be after check-in."),
        ({"check_in": "2026-11-20", "check_out": "2026-11-22"}, "Check-in can't be in the past."),
        ({"guests": "0"}, "Choose at least 1 guest."),
        ({"guests": "99"}, "Search for at most 30 guests."),
        ({"guests": "two"}, "Enter a whole number."),
        ({"check_in": "tomorrow", "check_out": "2026-12-20"}, "Enter a date as YYYY-MM-DD."),
        ({"check_in": "2026-12-12"}, "Choose a check-out date too."),
        ({"check_out": "2026-12-12"}, "Choose a check-in date too."),
        ({"check_in": "2030-01-01", "check_out": "2030-01-05"}, "Choose dates within the next two years."),
        ({"min_price": "9000", "max_price": "100"}, "The highest price must be at least the lowest."),
        ({"sort": "random()"}, "Select a valid choice."),
        ({"amenities": "jacuzzi"}, "Select a valid choice."),
    ],
)
def test_invalid_search_parameters_get_a_clear_message(client, host, params, message):
    make_listing(host)
    response = client.get(SEARCH, params)
    assert response.status_code == 422
    page = response.content.decode()
    assert message in unescape(page)
    assert 'role="alert"' in page
    fragment = client.get(SEARCH, params, headers=HX)
    assert fragment.status_code == 422
    assert message in unescape(fragment.content.decode())


HOSTILE = [
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "\x00",
    "%00",
    "9" * 400,
    "-1",
    "1e9",
    "9999-12-31",
    "0000-00-00",
    "2026-02-30",
    "../../etc/passwd",
    "😀" * 50,
]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize(
    "field", ["where", "check_in", "check_out", "guests", "min_price", "max_price", "property_type", "sort", "page"]
)
def test_hostile_search_parameters_never_cause_a_server_error(client, host, field, value):
    make_listing(host)
    params = {"check_in": "2026-12-12", "check_out": "2026-12-14", field: value}
    response = client.get(SEARCH, params)
    # A NUL in a query string is refused before any view (tests/core/test_unstorable_characters.py).
    assert response.status_code in ((400,) if "\x00" in value else (200, 422))
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_repeated_and_odd_parameters_are_handled(client, host):
    make_listing(host)
    assert client.get(SEARCH + "?guests=1&guests=2&amenities=wifi&amenities=wifi").status_code == 200
    assert client.get(SEARCH + "?where=%ZZ&check_in=").status_code in (200, 422)


# --- property page ----------------------------------------------------------------------------------------------


def test_property_page_shows_details_but_not_the_private_ones(client, host):
    listing = make_listing(
        host,
        title="Baobab House",
        description="Sea breeze all day.",
        house_rules="No parties after 22:00.",
        cancellation_policy="moderate",
        amenities=["wifi", "sea_view"],
        street_address="Plot 42, Beach Road",
        directions="Turn left at the baobab",
        check_in_instructions="Key box code 1234",
        host_phone="254712345678",
    )
    add_photo(listing, 0)
    add_photo(listing, 1)
    html = client.get(listing.get_absolute_url()).content.decode()
    for text in ("Baobab House", "Diani, Kwale", "Sea breeze all day.", "No parties after 22:00.", "Wi-Fi", "Sea view"):
        assert text in html
    assert "hosted by Wanjiru" in html
    assert "Kamau" not in html
    assert "wanjiru@example.com" not in html
    assert "Half the nights refunded if you cancel at least 24 hours before check-in." in html
    assert html.count("<figure>") == 2
    for secret in ("Plot 42", "baobab", "1234", "254712345678"):
        assert secret not in html


def test_the_property_page_shows_each_change_to_the_listing_its_host_photos_and_amenities_at_once(client, host):
    """The parts of the page that show only the listing are remembered by the rows they are printed from
    (core.jinja2.remembered_blocks): a change to any of them is on the very next view."""
    from core.jinja2 import forget_remembered
    from core.models import User
    from listings.models import Amenity, Listing

    listing = make_listing(host, title="Baobab House", amenities=["wifi"], cancellation_policy="flexible")
    photo = add_photo(listing, 0)
    url = listing.get_absolute_url()
    changes = [
        (lambda: Listing.objects.filter(pk=listing.pk).update(title="Mango House"), "Mango House"),
        (lambda: Listing.objects.filter(pk=listing.pk).update(description="Calm mornings."), "Calm mornings."),
        (lambda: Listing.objects.filter(pk=listing.pk).update(house_rules="Shoes off indoors."), "Shoes off indoors."),
        (lambda: Listing.objects.filter(pk=listing.pk).update(bedrooms=3), "3 bedrooms"),
        (
            lambda: Listing.objects.filter(pk=listing.pk).update(cancellation_policy="strict"),
            "Otherwise half the nights refunded if you cancel at least 7 days before check-in.",
        ),
        (lambda: ListingPhoto.objects.filter(pk=photo.pk).update(caption="Sunset deck"), "Sunset deck"),
        (lambda: add_photo(listing, 1), 'aria-label="Photo 2 of 2: View 1'),
        (lambda: listing.amenities.add(Amenity.objects.get(code="pool")), "✓ Pool"),
        (lambda: User.objects.filter(pk=host.pk).update(full_name="Achieng Otieno"), "hosted by Achieng"),
        (lambda: Listing.objects.filter(pk=listing.pk).update(review_count=3, rating_sum=14), "★ 4.7 (3)"),
    ]
    assert "Baobab House" in client.get(url).content.decode()
    for change, shown in changes:
        change()
        page = unescape(client.get(url).content.decode())
        assert shown in page
        forget_remembered()
        assert page == re.sub(r'nonce="[^"]*"', f'nonce="{nonce(page)}"', unescape(client.get(url).content.decode()))


def nonce(page: str) -> str:
    return re.search(r'nonce="([^"]*)"', page).group(1)


def test_unpublished_listing_is_a_404_except_for_its_host(client, host, make_user):
    listing = make_listing(host, is_published=False)
    assert client.get(listing.get_absolute_url()).status_code == 404
    client.force_login(make_user(email="other@example.com"))
    assert client.get(listing.get_absolute_url()).status_code == 404
    assert client.get(reverse("listings:listing-quote", args=[listing.slug]), headers=HX).status_code == 404
    client.force_login(host)
    response = client.get(listing.get_absolute_url())
    assert response.status_code == 200
    assert "only you can see this page" in response.content.decode()


def test_unknown_listing_is_a_404(client):
    assert client.get(reverse("listings:listing-detail", args=["no-such-place"])).status_code == 404


def test_property_page_with_dates_shows_the_quote_and_the_reserve_link(client, host):
    listing = make_listing(host, nightly_price_kes=10_000, cleaning_fee_kes=1_500)
    response = client.get(
        listing.get_absolute_url(), {"check_in": "2026-12-12", "check_out": "2026-12-15", "guests": 2}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert '<dd class="shrink-0" data-quote-total>KES 31,500</dd>' in html
    assert f'href="{listing.get_absolute_url()}book/?check_in=2026-12-12&amp;check_out=2026-12-15&amp;guests=2"' in html


def test_quote_fragment_shows_the_total_or_the_reason(client, host):
    listing = make_listing(host, nightly_price_kes=10_000, min_nights=2)
    set_night(listing, datetime.date(2026, 12, 12), min_nights_override=3)
    url = reverse("listings:listing-quote", args=[listing.slug])
    ok = client.get(url, {"check_in": "2026-12-20", "check_out": "2026-12-22", "guests": 2}, headers=HX)
    html = ok.content.decode()
    assert ok.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="stay-quote"')
    assert "KES 20,000" in html
    assert "Reserve" in html
    refused = client.get(url, {"check_in": "2026-12-12", "check_out": "2026-12-14", "guests": 2}, headers=HX)
    assert "Minimum stay is 3 nights from 12 Dec." in refused.content.decode()
    assert "Reserve" not in refused.content.decode()
    too_many = client.get(url, {"check_in": "2026-12-20", "check_out": "2026-12-22", "guests": 9}, headers=HX)
    assert "This place sleeps at most 4 guests." in too_many.content.decode()


def test_quote_fragment_while_picking_and_with_bad_input(client, host):
    listing = make_listing(host)
    url = reverse("listings:listing-quote", args=[listing.slug])
    picking = client.get(url, {"check_in": "2026-12-20", "check_out": "", "guests": 2}, headers=HX)
    assert picking.status_code == 200
    assert "Now pick your check-out day." in picking.content.decode()
    bad = client.get(url, {"check_in": "20/12/2026", "check_out": "2026-12-22", "guests": "lots"}, headers=HX)
    assert bad.status_code == 422
    assert "Enter a date as YYYY-MM-DD." in bad.content.decode()
    assert "Enter a whole number." in bad.content.decode()


def test_quote_url_without_htmx_sends_the_guest_to_the_property_page(client, host):
    listing = make_listing(host)
    response = client.get(reverse("listings:listing-quote", args=[listing.slug]), {"check_in": "2026-12-20"})
    assert response.status_code == 302
    assert response["Location"] == f"{listing.get_absolute_url()}?check_in=2026-12-20"


def test_a_big_total_says_it_is_paid_in_instalments(client, host):
    listing = make_listing(host, nightly_price_kes=90_000)
    html = client.get(listing.get_absolute_url(), {"check_in": "2026-12-12", "check_out": "2026-12-15"}).content
    assert b"data-instalments" in html
    assert b"KES 250,000" in html


# --- the availability calendar ----------------------------------------------------------------------------------


def calendar_days(html: str) -> dict[str, str]:
    """{date: 'yes'|'no'} for each day button of the calendar."""
    return dict(re.findall(r'data-day="([\d-]+)" data-state="[^"]*" data-available="(yes|no)"', html))


def test_calendar_shows_this_month_with_unavailable_nights_and_prices(client, host):
    listing = make_listing(host, nightly_price_kes=12_500)
    set_night(listing, datetime.date(2026, 12, 24), blocked=True)
    set_night(listing, datetime.date(2026, 12, 31), price_override_kes=20_000)
    html = client.get(listing.get_absolute_url()).content.decode()
    days = calendar_days(html)
    assert len(days) == 31
    assert days["2026-12-24"] == "no"
    assert days["2026-12-23"] == "yes"
    assert days["2026-12-01"] == "yes"  # same-day booking is open until 18:00
    assert "December 2026" in html
    assert "12.5k" in html
    assert "20k" in html
    assert 'aria-label="23 December, Wednesday: available, KES 12,500 a night"' in html
    assert 'aria-label="31 December, Thursday: available, KES 20,000 a night"' in html
    assert 'aria-label="24 December, Thursday: not available"' in html


def calendar_table(html: str) -> str:
    return re.search(r"<table .*?</table>", html, re.S).group(0)


def test_calendar_days_show_each_change_to_a_night_at_once(client, host):
    """Each day's cell is remembered by the night it shows (core.jinja2 remembered_each): a change to the night, the
    listing's price or notice, a booking or the chosen stay is on the very next view, and each calendar is the one
    rendered afresh."""
    from core.jinja2 import forget_remembered
    from listings.models import Listing

    listing = make_listing(host, nightly_price_kes=12_500)
    other = make_listing(host, nightly_price_kes=9_000)
    url = listing.get_absolute_url()

    def day(html: str, iso: str) -> str:
        return re.search(rf'data-day="{iso}".*?</button>', html, re.S).group(0)

    update = Listing.objects.filter(pk=listing.pk).update
    december = datetime.date(2026, 12, 1)
    views = [
        (lambda: None, {}, "2026-12-10", 'data-available="yes"'),
        (lambda: set_night(listing, december.replace(day=10), blocked=True), {}, "2026-12-10", "not available"),
        (
            lambda: set_night(listing, december.replace(day=11), price_override_kes=20_000),
            {},
            "2026-12-11",
            "KES 20,000 a night",
        ),
        (lambda: update(nightly_price_kes=11_000), {}, "2026-12-12", "KES 11,000 a night"),
        (lambda: hold_stay(Listing.objects.get(pk=listing.pk), days_ahead=13), {}, "2026-12-15", "not available"),
        (lambda: update(advance_notice_days=3), {}, "2026-12-03", "disabled"),
        (lambda: None, {"check_in": "2026-12-20", "check_out": "2026-12-23"}, "2026-12-20", 'data-state="check-in"'),
        (lambda: None, {"check_in": "2026-12-21", "check_out": "2026-12-23"}, "2026-12-20", 'data-state=""'),
        (lambda: None, {"check_in": "2026-12-18", "check_out": "2026-12-21"}, "2026-12-20", 'data-state="stay"'),
    ]
    for change, query, iso, shown in views:
        change()
        table = calendar_table(client.get(url, query).content.decode())
        assert shown in day(table, iso), (iso, shown)
        forget_remembered()
        assert calendar_table(client.get(url, query).content.decode()) == table
    theirs = calendar_table(client.get(other.get_absolute_url()).content.decode())
    assert "KES 9,000 a night" in day(theirs, "2026-12-12")
    assert "not available" not in day(theirs, "2026-12-10")


def test_calendar_fragment_moves_a_month_at_a_time(client, host):
    listing = make_listing(host)
    set_night(listing, datetime.date(2027, 1, 5), blocked=True)
    response = client.get(listing.get_absolute_url(), {"month": "2027-01"}, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="availability-calendar"')
    assert "January 2027" in html
    assert calendar_days(html)["2027-01-05"] == "no"
    assert f'hx-get="{listing.get_absolute_url()}?month=2027-02"' in html
    assert f'href="{listing.get_absolute_url()}?month=2027-02"' in html
    assert f'hx-get="{listing.get_absolute_url()}?month=2026-12"' in html
    assert 'hx-target="#availability-calendar"' in html


def test_calendar_does_not_go_into_the_past_or_too_far_ahead(client, host):
    listing = make_listing(host)
    past = client.get(listing.get_absolute_url(), {"month": "2020-05"}, headers=HX).content.decode()
    assert "December 2026" in past
    assert 'aria-label="Previous month"' not in past
    far = client.get(listing.get_absolute_url(), {"month": "2031-05"}, headers=HX).content.decode()
    assert "December 2027" in far
    assert 'aria-label="Next month"' not in far
    for garbage in ("2027-13", "soon", "9999999-01", ""):
        assert client.get(listing.get_absolute_url(), {"month": garbage}, headers=HX).status_code == 200


def test_calendar_keeps_the_chosen_stay_in_its_links_and_marks_it(client, host):
    listing = make_listing(host)
    html = client.get(
        listing.get_absolute_url(), {"check_in": "2027-01-10", "check_out": "2027-01-13", "guests": "3"}
    ).content.decode()
    assert "January 2027" in html
    assert "?check_in=2027-01-10&amp;check_out=2027-01-13&amp;guests=3&amp;month=2027-02" in html
    assert 'data-day="2027-01-10" data-state="check-in"' in html
    assert 'data-day="2027-01-11" data-state="stay"' in html
    assert 'data-day="2027-01-13" data-state="check-out"' in html


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"guests": "2"},
        {"check_in": "2027-01-10", "check_out": "2027-01-13"},
        {"check_in": "10 Jan 2027 & more", "check_out": "", "guests": "ü/?#"},
    ],
)
def test_calendar_month_links_keep_the_query_as_urlencode_writes_it(client, host, query):
    listing = make_listing(host)
    page = html_module.unescape(client.get(listing.get_absolute_url(), {**query, "month": "2026-12"}).content.decode())
    kept = {key: value for key, value in query.items() if value}
    assert f'href="{listing.get_absolute_url()}?{urlencode({**kept, "month": "2027-01"})}"' in page


def test_days_before_the_advance_notice_are_not_available(client, host):
    listing = make_listing(host, advance_notice_days=3)
    days = calendar_days(client.get(listing.get_absolute_url()).content.decode())
    assert [days[f"2026-12-0{i}"] for i in range(1, 6)] == ["no", "no", "no", "yes", "yes"]


def test_property_page_loads_the_day_picker_script_without_inline_scripts(client, host):
    listing = make_listing(host)
    response = client.get(listing.get_absolute_url())
    html = response.content.decode()
    assert re.search(r'<script src="/static/js/stay-picker\.js" defer></script>', html)
    assert "hx-on" not in html
    assert "onclick" not in html


@pytest.mark.parametrize(
    "typed",
    [
        "2026-12-20", " 2026-12-20 ", "2026-1-5", "2026-02-29", "2028-02-29", "2026-13-01", "2026-12-32", "0000-01-01",
        "9999-12-31", "20261220", "2026-W51-1", "2026-12-20T10:00", "٢٠٢٦-١٢-٢٠", "2026-12-2O", "", "   ", "tomorrow",
    ],
)  # fmt: skip
def test_a_typed_date_is_read_or_refused_as_djangos_date_field_reads_it(typed):
    """The search and stay forms read YYYY-MM-DD quickly (listings/guest_forms.py's IsoDateField) and every text
    the same way as Django's DateField with that one input format."""
    from django import forms

    from listings.guest_forms import IsoDateField

    djangos = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    ours = IsoDateField(required=False, input_formats=["%Y-%m-%d"])

    def read(field):
        try:
            return field.clean(typed)
        except forms.ValidationError as error:
            return error.code

    assert read(ours) == read(djangos)
