"""The booking form, trips and the host's bookings, through HTTP."""

import datetime
import re
import uuid

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.clock import NAIROBI
from core.models import User
from listings.models import ListingPhoto
from reservations.models import Booking, BookingGuest
from reservations.services import GuestData, _move, booking_confirm
from tests.helpers.stays import NOW, d
from tests.listings.builders import make_listing, set_night

pytestmark = pytest.mark.django_db

STAY = {"check_in": d(10).isoformat(), "check_out": d(13).isoformat()}
TOTAL = 3 * 10_000 + 1_500
HX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def confirm(booking, *, paid=True):
    """Pay (as the payment issue will) and confirm through the one service."""
    _move(booking, Booking.Status.AWAITING_PAYMENT, action="payment_started", message="Paying", actor_kind="mpesa")
    if paid:
        Booking.objects.filter(pk=booking.pk).update(paid_kes=booking.total_kes)
    return booking_confirm(booking_id=booking.pk, now=NOW)


def book_url(listing, **params) -> str:
    query = "&".join(f"{key}={value}" for key, value in {**STAY, **params}.items())
    return f"/listings/{listing.slug}/book/?{query}"


def guest_rows(*rows: dict, shown_total=TOTAL, key=None, action=None) -> dict:
    """The booking form as a browser posts it; the booker's row first (its e-mail is disabled, so not posted)."""
    data = {
        "guests-TOTAL_FORMS": str(len(rows)),
        "guests-INITIAL_FORMS": str(len(rows)),
        "guests-MIN_NUM_FORMS": "1",
        "guests-MAX_NUM_FORMS": "50",
        "shown_total_kes": str(shown_total),
        "idempotency_key": key or uuid.uuid4().hex,
    }
    for index, row in enumerate(rows):
        for name in ("full_name", "email", "phone", "age_group"):
            if index == 0 and name == "email":
                continue
            data[f"guests-{index}-{name}"] = row.get(name, "adult" if name == "age_group" else "")
    if action:
        data["action"] = action
    return data


def booker_row(**fields):
    return {"full_name": "Grace Guest", **fields}


@pytest.fixture
def guest_client(client, guest):
    client.force_login(guest)
    return client


# ---------------------------------------------------------------------------------------------------------------
# Access to the booking page


def test_booking_page_needs_sign_in_and_comes_back(client, listing):
    response = client.get(book_url(listing))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert f"/listings/{listing.slug}/book/" in response["Location"].replace("%2F", "/")


def test_booking_page_needs_a_verified_address(client, listing):
    person = User.objects.create_user(email="unverified@example.com", password="x", full_name="Una Verified")
    EmailAddress.objects.create(user=person, email=person.email, verified=False, primary=True)
    client.force_login(person)
    response = client.get(book_url(listing))
    assert response.status_code == 403
    assert b"Verify your mobile number or e-mail address" in response.content
    assert client.post(book_url(listing), guest_rows(booker_row())).status_code == 403
    assert not Booking.objects.exists()


def test_booking_page_shows_the_stay_the_quote_and_the_booker_row(guest_client, guest, listing):
    guest.mpesa_phone = "254712345678"
    guest.save()
    response = guest_client.get(book_url(listing, guests=2))
    assert response.status_code == 200
    html = response.content.decode()
    assert "KES 31,500" in html
    assert 'name="guests-TOTAL_FORMS" value="2"' in html
    assert 'value="Grace Guest"' in html and 'value="guest@example.com"' in html and "0712 345 678" in html
    assert re.search(r'name="idempotency_key" value="[0-9a-f]{32}"', html)
    assert f'name="shown_total_kes" value="{TOTAL}"' in html


def test_booking_page_without_dates_sends_back_to_the_calendar(guest_client, listing):
    response = guest_client.get(f"/listings/{listing.slug}/book/")
    assert response.status_code == 302
    assert response["Location"].startswith(listing.get_absolute_url())


def test_booking_page_of_an_unknown_or_unpublished_listing_is_404(guest_client, host):
    draft = make_listing(host, is_published=False)
    dates = f"check_in={d(10)}&check_out={d(12)}"
    assert guest_client.get(f"/listings/{draft.slug}/book/?{dates}").status_code == 404
    assert guest_client.get(f"/listings/nowhere/book/?{dates}").status_code == 404


def test_the_page_quotes_the_guest_count_asked_for(guest_client, listing):
    response = guest_client.get(book_url(listing, guests=3))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="booking-quote"' in html and "3 guests" in html
    response = guest_client.get(book_url(listing, guests=9))
    assert "4 guests" in response.content.decode()  # never more than the place sleeps


# ---------------------------------------------------------------------------------------------------------------
# Adding and removing guest rows


def test_add_guest_keeps_everything_typed_and_adds_a_blank_row(guest_client, listing):
    data = guest_rows(
        booker_row(phone="0712 345 678"), {"full_name": "Otieno", "email": "otieno@example.com"}, action="add-guest"
    )
    response = guest_client.post(book_url(listing), data, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and 'id="guest-formset"' in html
    assert 'name="guests-TOTAL_FORMS" value="3"' in html
    assert 'value="Otieno"' in html and 'value="otieno@example.com"' in html and 'value="0712 345 678"' in html
    assert 'value="guest@example.com"' in html  # the booker's address, from the account
    # The quote comes in the same answer, out of band, for the new number of rows.
    assert re.search(r'<div id="booking-quote"[^>]*hx-swap-oob="true"', html) and "3 guests" in html
    assert not Booking.objects.exists()


def test_remove_guest_drops_that_row_and_renumbers_the_rest(guest_client, listing):
    rows = [booker_row(), {"full_name": "Second"}, {"full_name": "Third", "age_group": "child"}]
    response = guest_client.post(book_url(listing), guest_rows(*rows, action="remove-1"), headers=HX)
    html = response.content.decode()
    assert 'name="guests-TOTAL_FORMS" value="2"' in html
    assert "Second" not in html
    assert 'name="guests-1-full_name" value="Third"' in html
    assert re.search(r'<option value="child"[^>]*selected', html)


def test_the_booker_row_cannot_be_removed_and_nonsense_actions_change_nothing(guest_client, listing):
    rows = [booker_row(), {"full_name": "Second"}]
    for action in ("remove-0", "remove-7", "remove-x", "remove--1"):
        response = guest_client.post(book_url(listing), guest_rows(*rows, action=action), headers=HX)
        assert response.status_code == 200
        assert 'name="guests-TOTAL_FORMS" value="2"' in response.content.decode()


def test_add_guest_stops_at_max_guests(guest_client, listing):
    rows = [booker_row()] + [{"full_name": f"Guest {n}"} for n in range(3)]
    response = guest_client.post(book_url(listing), guest_rows(*rows, action="add-guest"), headers=HX)
    html = response.content.decode()
    assert 'name="guests-TOTAL_FORMS" value="4"' in html
    assert "sleeps at most 4 guests" in html
    assert 'value="add-guest"' not in html


def test_add_guest_without_javascript_returns_the_whole_page(guest_client, listing):
    response = guest_client.post(book_url(listing), guest_rows(booker_row(), action="add-guest"))
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert 'name="guests-TOTAL_FORMS" value="2"' in html and 'id="booking-quote"' in html


# ---------------------------------------------------------------------------------------------------------------
# Submitting


def test_submit_holds_the_dates_and_redirects_to_the_trip(guest_client, guest, listing, make_user):
    friend = make_user(email="friend@example.com", full_name="Faith Friend")
    rows = [
        booker_row(),
        {"full_name": "Faith Friend", "email": "FRIEND@example.com", "phone": "0712345678"},
        {"full_name": "Kid", "age_group": "child"},
    ]
    response = guest_client.post(book_url(listing), guest_rows(*rows))
    booking = Booking.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/trips/{booking.ref}/"
    assert booking.status == "held" and booking.guest_count == 3 and booking.total_kes == TOTAL
    guests = list(booking.guests.order_by("position"))
    assert [g.full_name for g in guests] == ["Grace Guest", "Faith Friend", "Kid"]
    assert guests[0].email == "guest@example.com" and guests[0].user == guest
    assert guests[1].email == "friend@example.com" and guests[1].phone == "254712345678" and guests[1].user == friend
    assert guests[2].age_group == "child" and guests[2].user is None


def test_booker_email_cannot_be_replaced_by_the_form(guest_client, listing):
    data = guest_rows(booker_row())
    data["guests-0-email"] = "someone-else@example.com"
    guest_client.post(book_url(listing), data)
    assert BookingGuest.objects.get().email == "guest@example.com"


def test_duplicate_email_is_refused_next_to_the_field_keeping_everything(guest_client, listing):
    rows = [
        booker_row(),
        {"full_name": "Otieno Ochieng", "email": "same@example.com", "phone": "0722 000 111"},
        {"full_name": "Wanjiru", "email": "Same@Example.com", "age_group": "child"},
    ]
    response = guest_client.post(book_url(listing), guest_rows(*rows))
    html = response.content.decode()
    assert response.status_code == 422
    assert "Guest 2 already has this e-mail address" in html
    for typed in (
        'value="Otieno Ochieng"',
        'value="same@example.com"',
        'value="0722 000 111"',
        'value="Wanjiru"',
        'value="Same@Example.com"',
    ):
        assert typed in html
    assert not Booking.objects.exists()


def test_the_booker_address_counts_for_duplicates(guest_client, listing):
    response = guest_client.post(
        book_url(listing), guest_rows(booker_row(), {"full_name": "X", "email": "guest@example.com"})
    )
    assert response.status_code == 422 and "Guest 1 already has this e-mail address" in response.content.decode()


def test_every_guest_needs_a_name_and_a_valid_email_and_phone(guest_client, listing):
    rows = [booker_row(), {"full_name": "   ", "email": "not-an-address"}, {"full_name": "P", "phone": "12345"}]
    response = guest_client.post(book_url(listing), guest_rows(*rows))
    html = response.content.decode()
    assert response.status_code == 422
    assert "Enter this guest&#x27;s full name." in html
    assert "Enter a valid e-mail address" in html
    assert "Enter a Kenyan mobile number" in html
    assert 'value="not-an-address"' in html and 'value="12345"' in html


def test_at_least_one_adult(guest_client, listing):
    rows = [booker_row(age_group="child"), {"full_name": "Kid", "age_group": "child"}]
    response = guest_client.post(book_url(listing), guest_rows(*rows))
    assert response.status_code == 422
    assert "At least one guest must be an adult." in response.content.decode()
    assert not Booking.objects.exists()


def test_more_guests_than_the_place_sleeps_is_refused(guest_client, listing):
    rows = [booker_row()] + [{"full_name": f"Guest {n}"} for n in range(4)]
    response = guest_client.post(book_url(listing), guest_rows(*rows))
    assert response.status_code == 422
    assert "This place sleeps at most 4 guests." in response.content.decode()
    assert not Booking.objects.exists()


def test_price_change_shows_the_new_total_and_asks_again(guest_client, listing):
    page = guest_client.get(book_url(listing)).content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', page).group(1)
    set_night(listing, d(11), price_override_kes=12_000)
    response = guest_client.post(book_url(listing), guest_rows(booker_row(), key=key))
    html = response.content.decode()
    assert response.status_code == 422
    assert "The price changed to KES 33,500" in html
    assert 'name="shown_total_kes" value="33500"' in html
    assert f'value="{key}"' in html
    assert not Booking.objects.exists()
    response = guest_client.post(book_url(listing), guest_rows(booker_row(), shown_total=33_500, key=key))
    assert response.status_code == 302
    assert Booking.objects.get().total_kes == 33_500


def test_dates_just_taken_say_so_and_link_to_the_calendar(guest_client, listing, hold, make_user):
    hold(make_user(email="quick@example.com"), 11, 12)
    response = guest_client.post(book_url(listing), guest_rows(booker_row()))
    html = response.content.decode()
    assert response.status_code == 422
    assert f"Not available on the night of {d(11):%-d %b}." in html
    assert "Choose other dates on the calendar" in html
    assert f"{listing.get_absolute_url()}?check_in={d(10)}" in html
    assert Booking.objects.count() == 1


def test_double_submit_makes_one_booking(guest_client, listing):
    data = guest_rows(booker_row())
    first = guest_client.post(book_url(listing), data)
    second = guest_client.post(book_url(listing), data)
    assert Booking.objects.count() == 1
    assert first["Location"] == second["Location"] == Booking.objects.get().get_absolute_url()


def test_the_third_unpaid_hold_is_refused_with_its_message(guest_client, guest, listing, host):
    other = make_listing(host, cleaning_fee_kes=1_500)
    third = make_listing(host, cleaning_fee_kes=1_500)
    assert guest_client.post(book_url(listing), guest_rows(booker_row())).status_code == 302
    assert guest_client.post(book_url(other), guest_rows(booker_row())).status_code == 302
    response = guest_client.post(book_url(third), guest_rows(booker_row()))
    assert response.status_code == 422
    assert "You already have 2 unpaid bookings." in response.content.decode()
    assert Booking.objects.count() == 2


HOSTILE = [
    {},
    {"guests-TOTAL_FORMS": "100000", "guests-INITIAL_FORMS": "0"},
    {"guests-TOTAL_FORMS": "-3"},
    {"guests-TOTAL_FORMS": "abc", "action": "add-guest"},
    {
        "guests-TOTAL_FORMS": "2",
        "guests-INITIAL_FORMS": "0",
        "shown_total_kes": "31500",
        "idempotency_key": "0" * 32,
        "guests-0-full_name": "A",
        "guests-0-age_group": "adult",
    },
    {
        "guests-TOTAL_FORMS": "1",
        "guests-INITIAL_FORMS": "1",
        "guests-0-full_name": "A" * 5000,
        "guests-0-age_group": "pensioner",
        "shown_total_kes": "-1",
        "idempotency_key": "<script>",
    },
    {
        "guests-TOTAL_FORMS": "1",
        "guests-INITIAL_FORMS": "1",
        "guests-0-full_name": "A\x00B",
        "guests-0-phone": "+254\u0667\u0661\u0662",
        "shown_total_kes": "1e9",
        "idempotency_key": "x" * 500,
    },
    {"action": "remove-99999999999999999999"},
]


@pytest.mark.parametrize("data", HOSTILE)
def test_hostile_booking_posts_never_fail(guest_client, listing, data):
    for headers in ({}, HX):
        response = guest_client.post(book_url(listing), data, headers=headers)
        assert response.status_code in (200, 422)
    assert not Booking.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        "check_in=2026-13-40&check_out=x",
        "check_in=2026-12-12&check_out=2026-12-10",
        "guests=-1&check_in=2026-12-10",
        "check_in=2026-12-10&check_out=2026-12-12&guests=abc",
        "check_in=1999-01-01&check_out=1999-01-03",
        "check_in=2026-12-10&check_out=2031-01-01",
    ],
)
def test_hostile_booking_queries_never_fail(guest_client, listing, query):
    response = guest_client.get(f"/listings/{listing.slug}/book/?{query}")
    assert response.status_code in (200, 302, 422)


# ---------------------------------------------------------------------------------------------------------------
# Trips


def _group_booking(hold, booker, friend_email="friend@example.com", check_in=10, check_out=13, **kwargs):
    guests = [
        GuestData(full_name=booker.full_name, email=booker.email, phone="254711000111"),
        GuestData(full_name="Faith Friend", email=friend_email, phone="254722000222"),
        GuestData(full_name="Kid", age_group="child"),
    ]
    return hold(booker, check_in, check_out, guests=guests, **kwargs)


def test_trips_lists_bookings_for_the_booker_and_linked_guests(client, hold, guest, make_user):
    friend = make_user(email="friend@example.com", full_name="Faith Friend")
    booking = _group_booking(hold, guest)
    client.force_login(guest)
    assert booking.ref in client.get("/trips/").content.decode()
    client.force_login(friend)
    html = client.get("/trips/").content.decode()
    assert booking.ref in html and "You are a guest" in html


def test_trips_show_each_place_s_cover_photo(client, hold, guest, listing):
    later, first = (ListingPhoto(listing=listing, order=order) for order in (1, 0))
    for photo in (later, first):
        photo.image.save(f"trip-{photo.order}.jpg", ContentFile(b"jpeg bytes"), save=False)
        photo.thumbnail.save(f"trip-{photo.order}-thumb.jpg", ContentFile(b"jpeg bytes"), save=False)
        photo.save()
    hold(guest, 10, 13)
    client.force_login(guest)
    html = client.get("/trips/").content.decode()
    assert f'<img src="{first.thumbnail.url}"' in html and later.thumbnail.url not in html
    ListingPhoto.objects.all().delete()
    assert "No photo" in client.get("/trips/").content.decode()


def test_trips_empty_state_leads_to_search(client, make_user):
    client.force_login(make_user(email="new@example.com"))
    html = client.get("/trips/").content.decode()
    assert "No trips yet" in html and 'href="/listings/"' in html


def test_trips_need_sign_in(client):
    assert client.get("/trips/").status_code == 302
    assert client.get("/trips/NX-AAAAAA/").status_code == 302


def test_trip_page_for_the_booker_while_held(client, hold, guest, listing):
    booking = _group_booking(hold, guest)
    client.force_login(guest)
    response = client.get(f"/trips/{booking.ref}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Pay within <strong data-countdown-clock>15:00</strong> to keep these dates." in html
    assert 'data-countdown-seconds="900"' in html and "js/countdown.js" in html
    assert 'id="payment-status"' in html
    assert "KES 31,500" in html and "KES 1,500" in html and f"{d(10):%a %-d %b}: KES 10,000" in html
    assert "Faith Friend" in html and "0722 000 222" in html
    assert "Cancel this booking" in html and "cancelling now costs nothing" in html
    assert "Dates held for 3 guests" in html
    assert "Full refund of the nights if you cancel at least 5 days before check-in." in html
    assert "data-private-details" not in html


def test_private_details_only_once_confirmed(client, hold, guest, listing):
    listing.street_address = "12 Coral Lane"
    listing.host_phone = "254733000333"
    listing.save()
    booking = _group_booking(hold, guest)
    client.force_login(guest)
    assert "12 Coral Lane" not in client.get(f"/trips/{booking.ref}/").content.decode()
    confirm(booking)
    html = client.get(f"/trips/{booking.ref}/").content.decode()
    assert "12 Coral Lane" in html and "0733 000 333" in html and "tel:+254733000333" in html and "Confirmed." in html
    assert "data-countdown-seconds" not in html


def test_a_linked_guest_sees_the_trip_but_not_payment_cancel_or_the_booker_phone(client, hold, guest, make_user):
    friend = make_user(email="friend@example.com", full_name="Faith Friend")
    booking = _group_booking(hold, guest)
    confirm(booking)
    client.force_login(friend)
    response = client.get(f"/trips/{booking.ref}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert booking.ref in html and "Grace Guest" in html
    assert "254711000111" not in html and "guest@example.com" not in html
    assert 'id="payment-status"' not in html and "Cancel this booking" not in html
    assert client.get(f"/trips/{booking.ref}/cancel/").status_code == 404
    assert client.post(f"/trips/{booking.ref}/cancel/").status_code == 404
    booking.refresh_from_db()
    assert booking.status == "confirmed"


def test_another_user_gets_404_for_a_trip_and_its_cancel_page(client, hold, guest, make_user):
    booking = _group_booking(hold, guest)
    client.force_login(make_user(email="stranger@example.com"))
    assert client.get(f"/trips/{booking.ref}/").status_code == 404
    assert client.get(f"/trips/{booking.ref}/cancel/").status_code == 404
    assert client.post(f"/trips/{booking.ref}/cancel/").status_code == 404
    assert client.get("/trips/NX-<script>/").status_code == 404


def test_an_unverified_account_with_a_guest_address_is_not_linked(client, hold, guest):
    person = User.objects.create_user(email="friend@example.com", password="x", full_name="Not Yet")
    EmailAddress.objects.create(user=person, email=person.email, verified=False, primary=True)
    booking = _group_booking(hold, guest)
    assert booking.guests.get(position=1).user is None
    client.force_login(person)
    assert client.get(f"/trips/{booking.ref}/").status_code == 404
    assert booking.ref not in client.get("/trips/").content.decode()


def test_cancel_a_hold_after_the_confirmation_step(client, hold, guest):
    booking = _group_booking(hold, guest)
    client.force_login(guest)
    page = client.get(f"/trips/{booking.ref}/cancel/")
    assert page.status_code == 200 and "Nothing has been paid" in page.content.decode()
    response = client.post(f"/trips/{booking.ref}/cancel/", {"reason": "Plans changed"})
    assert response.status_code == 302 and response["Location"] == f"/trips/{booking.ref}/"
    booking.refresh_from_db()
    assert booking.status == "cancelled" and booking.cancel_reason == "Plans changed"
    html = client.get(f"/trips/{booking.ref}/").content.decode()
    assert "Cancelled on" in html


def test_cancel_a_confirmed_stay_shows_and_records_the_refund(client, hold, guest):
    booking = _group_booking(hold, guest, check_in=20, check_out=23)
    confirm(booking)
    client.force_login(guest)
    page = client.get(f"/trips/{booking.ref}/cancel/").content.decode()
    assert "you get back <strong>KES 31,500</strong>" in page  # 19 days ahead, moderate: everything
    client.post(f"/trips/{booking.ref}/cancel/", {"reason": ""})
    booking.refresh_from_db()
    assert booking.status == "cancelled" and booking.refund_due_kes == TOTAL


def test_cancel_refused_while_a_payment_is_in_flight(client, hold, guest):
    booking = _group_booking(hold, guest)
    _move(booking, "awaiting_payment", action="payment_started", message="STK push sent", actor_kind="mpesa")
    client.force_login(guest)
    page = client.get(f"/trips/{booking.ref}/cancel/").content.decode()
    assert "A payment is in progress." in page and "Yes, cancel" not in page
    response = client.post(f"/trips/{booking.ref}/cancel/", {"reason": "x"})
    assert response.status_code == 422 and "A payment is in progress." in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == "awaiting_payment"


def test_hostile_cancel_reason_never_fails(client, hold, guest):
    booking = _group_booking(hold, guest)
    client.force_login(guest)
    response = client.post(f"/trips/{booking.ref}/cancel/", {"reason": "x" * 5000})
    assert response.status_code == 422
    booking.refresh_from_db()
    assert booking.status == "held"


# ---------------------------------------------------------------------------------------------------------------
# The host's bookings


def test_host_sees_only_their_listings_bookings_without_contact_before_confirmation(
    client, hold, guest, host, listing, make_user
):
    held = _group_booking(hold, guest, check_in=10, check_out=12)
    confirmed = _group_booking(hold, guest, friend_email="f2@example.com", check_in=14, check_out=16)
    confirm(confirmed)
    other_host = make_user(email="otherhost@example.com")
    elsewhere = make_listing(other_host, title="Elsewhere")
    hold(make_user(email="x@example.com"), 10, 12, listing_obj=elsewhere)

    client.force_login(host)
    html = client.get("/host/bookings/").content.decode()
    assert held.ref in html and confirmed.ref in html and "Elsewhere" not in html
    held_html = html.split(f'data-booking="{held.ref}"')[1].split("</li>\n    \n")[0]
    confirmed_html = html.split(f'data-booking="{confirmed.ref}"')[1].split(f'data-booking="{held.ref}"')[0]
    assert "Faith Friend" in held_html
    assert "friend@example.com" not in held_html and "254722000222" not in held_html and "0722 ••• 222" in held_html
    assert "f2@example.com" in confirmed_html and "0722 000 222" in confirmed_html
    assert "Cancel booking" in confirmed_html and "Cancel booking" not in held_html


def test_host_filters_by_listing_and_status_with_fragments(client, hold, guest, host, listing):
    second = make_listing(host, title="Hill house")
    a = hold(guest, 10, 12)
    b = hold(guest, 10, 12, listing_obj=second)
    client.force_login(host)
    html = client.get(f"/host/bookings/?listing={second.slug}").content.decode()
    assert b.ref in html and a.ref not in html
    response = client.get("/host/bookings/?status=cancelled", headers=HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and 'id="host-bookings"' in html
    assert a.ref not in html and "No bookings match these filters" in html
    assert 'href="?status=confirmed"' in html  # real links beside htmx


@pytest.mark.parametrize(
    "query", ["status=bogus", "listing=not-mine", "page=-1", "page=abc&status=held", "listing=%00"]
)
def test_host_filter_hostile_input_never_fails(client, host, query):
    client.force_login(host)
    # A NUL in a query string is refused before any view (tests/core/test_unstorable_characters.py).
    assert client.get(f"/host/bookings/?{query}").status_code in ((400,) if "%00" in query else (200, 422))


def test_host_cannot_see_other_hosts_bookings_by_filter(client, hold, guest, make_user):
    booking = hold(guest, 10, 12)
    intruder = make_user(email="intruder@example.com")
    client.force_login(intruder)
    listing_slug = booking.listing.slug
    response = client.get(f"/host/bookings/?listing={listing_slug}")
    assert booking.ref not in response.content.decode()
    assert client.get(f"/host/bookings/{booking.ref}/cancel/").status_code == 404
    assert client.post(f"/host/bookings/{booking.ref}/cancel/", {"reason": "mine now"}).status_code == 404


def test_host_cancels_a_confirmed_booking_with_a_reason(
    client, hold, guest, host, mailoutbox, django_capture_on_commit_callbacks
):
    booking = _group_booking(hold, guest)
    confirm(booking)
    client.force_login(host)
    page = client.get(f"/host/bookings/{booking.ref}/cancel/")
    assert page.status_code == 200
    empty = client.post(f"/host/bookings/{booking.ref}/cancel/", {"reason": "   "})
    assert empty.status_code == 422 and "Tell the guests why you are cancelling." in empty.content.decode()
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/host/bookings/{booking.ref}/cancel/", {"reason": "The roof is being repaired."})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == "cancelled" and booking.cancel_reason == "The roof is being repaired."
    assert {address for m in mailoutbox for address in m.to} >= {"guest@example.com", "friend@example.com"}


def test_host_cannot_cancel_a_stay_that_is_over(client, hold, guest, host):
    booking = hold(guest, 10, 12)
    confirm(booking)
    client.force_login(host)
    with time_machine.travel(datetime.datetime.combine(d(12), datetime.time(11, 0), tzinfo=NAIROBI), tick=False):
        listed = client.get("/host/bookings/").content.decode()
        page = client.get(f"/host/bookings/{booking.ref}/cancel/")
        response = client.post(f"/host/bookings/{booking.ref}/cancel/", {"reason": "Changed my mind."})
    assert booking.ref in listed and f"/host/bookings/{booking.ref}/cancel/" not in listed
    assert "This stay is over and can no longer be cancelled." in page.content.decode()
    assert 'name="reason"' not in page.content.decode()
    assert response.status_code == 422
    assert "This stay is over and can no longer be cancelled." in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == "confirmed" and booking.refund_due_kes == 0


def test_host_cannot_cancel_a_held_booking(client, hold, guest, host):
    booking = hold(guest, 10, 12)
    client.force_login(host)
    response = client.post(f"/host/bookings/{booking.ref}/cancel/", {"reason": "No"})
    assert response.status_code == 422
    assert "Only confirmed bookings can be cancelled by the host." in response.content.decode()


# ---------------------------------------------------------------------------------------------------------------
# Query counts do not grow with the data


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _many_bookings(hold, guest, host, count):
    for n in range(count):
        place = make_listing(host)
        booking = _group_booking(
            hold,
            guest,
            friend_email=f"friend{n}@example.com",
            listing_obj=place,
            check_in=10 + n % 5,
            check_out=12 + n % 5,
        )
        if n % 3 == 0:
            confirm(booking)


def test_trips_and_host_bookings_queries_do_not_grow(client, hold, guest, host, settings, django_assert_num_queries):
    settings.BOOKING_MAX_UNPAID_HOLDS = 1000
    settings.BOOKING_HOLDS_PER_HOUR = 1000
    _many_bookings(hold, guest, host, 3)
    client.force_login(guest)
    trips_small = _queries(client, "/trips/")
    client.force_login(host)
    host_small = _queries(client, "/host/bookings/")
    _many_bookings(hold, guest, host, 27)
    client.force_login(guest)
    with django_assert_num_queries(trips_small):
        client.get("/trips/")
    client.force_login(host)
    with django_assert_num_queries(host_small):
        client.get("/host/bookings/")


def test_trip_page_queries_do_not_grow_with_guests(client, guest, host, settings, django_assert_num_queries):
    from listings.selectors import Stay, stay_quote
    from reservations.services import booking_hold

    def book(n, check_in):
        place = make_listing(host, max_guests=40)
        stay = Stay(check_in=d(check_in), check_out=d(check_in + 2))
        rows = [GuestData(full_name="Grace Guest", email=guest.email)]
        rows += [GuestData(full_name=f"Guest {i}", email=f"g{i}@example.com") for i in range(n - 1)]
        total = stay_quote(listing=place, stay=stay, guests=n, now=NOW).total_kes
        booking = booking_hold(
            booker=guest,
            listing_id=place.pk,
            stay=stay,
            guests=rows,
            shown_total_kes=total,
            idempotency_key=uuid.uuid4().hex,
            now=NOW,
        )
        confirm(booking)
        return booking

    small, large = book(3, 10), book(30, 15)
    client.force_login(guest)
    expected = _queries(client, f"/trips/{small.ref}/")
    with django_assert_num_queries(expected):
        client.get(f"/trips/{large.ref}/")


def test_booking_page_and_its_fragments_queries_do_not_grow_with_guests(guest_client, host, django_assert_num_queries):
    place = make_listing(host, max_guests=30)

    def count(method, url, data=None, headers=None) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = getattr(guest_client, method)(url, data, headers=headers or {})
            assert response.status_code == 200
        return len(captured)

    rows = [booker_row()] + [{"full_name": f"Guest {n}", "email": f"g{n}@example.com"} for n in range(1, 30)]
    page_small = count("get", book_url(place, guests=2))
    with django_assert_num_queries(page_small):
        guest_client.get(book_url(place, guests=30))
    quote_small = count("get", book_url(place, guests=2), headers=HX)
    with django_assert_num_queries(quote_small):
        guest_client.get(book_url(place, guests=30), headers=HX)
    add_small = count("post", book_url(place), guest_rows(*rows[:2], action="add-guest"), headers=HX)
    with django_assert_num_queries(add_small):
        guest_client.post(book_url(place), guest_rows(*rows[:29], action="add-guest"), headers=HX)


def test_a_held_trip_offers_pay_now_with_its_countdown_in_the_trip_list(client, hold, guest, make_user):
    booking = _group_booking(hold, guest)
    client.force_login(guest)
    html = client.get("/trips/").content.decode()
    card = html.split(f'data-trip="{booking.ref}"')[1].split("</li>")[0]
    assert 'data-countdown-seconds="900"' in card and "Pay within <strong data-countdown-clock>15:00</strong>" in card
    assert f'href="/trips/{booking.ref}/#payment-status"' in card and ">Pay now</a>" in card
    assert "js/countdown.js" in html
    # A linked guest does not pay; a confirmed trip has nothing to pay.
    client.force_login(make_user(email="friend@example.com", full_name="Faith Friend"))
    assert "Pay now" not in client.get("/trips/").content.decode()
    confirm(booking)
    client.force_login(guest)
    assert "Pay now" not in client.get("/trips/").content.decode()


def test_the_booking_page_warns_of_another_trip_on_overlapping_dates(guest_client, hold, guest, host):
    other = make_listing(host, title="Kilifi creek cottage")
    mine = hold(guest, 11, 14, listing_obj=other)
    listing = make_listing(host, title="Diani beach cottage")
    html = guest_client.get(book_url(listing)).content.decode()
    assert "data-overlapping-trips" in html and "You already have a trip on some of these dates" in html
    assert f'href="/trips/{mine.ref}/"' in html and "Kilifi creek cottage" in html
    later = make_listing(host, title="Later place")
    html = guest_client.get(book_url(later, check_in=d(14).isoformat(), check_out=d(16).isoformat())).content.decode()
    assert "data-overlapping-trips" not in html  # checking out on the 14th leaves the 14th's night free
