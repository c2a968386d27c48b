"""The host's calendar editor: /host/listings/<slug>/calendar/."""

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from listings import selectors
from listings.models import CalendarDay
from reservations.services import GuestData, booking_hold
from tests.listings.builders import make_listing, set_night

pytestmark = pytest.mark.django_db

# 09:00 in Nairobi on Tuesday 1 December 2026.
NOW = datetime.datetime(2026, 12, 1, 6, 0, tzinfo=datetime.UTC)
HX = {"HX-Request": "true"}


def d(day: int, month: int = 12, year: int = 2026) -> datetime.date:
    return datetime.date(year, month, day)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def host(make_user):
    return make_user("hassan@example.com", full_name="Hassan Otieno")


@pytest.fixture
def listing(host):
    return make_listing(host, nightly_price_kes=8_000, min_nights=2)


@pytest.fixture
def host_client(client, host):
    client.force_login(host)
    return client


def url(listing) -> str:
    return f"/host/listings/{listing.slug}/calendar/"


def post(client, listing, htmx=True, **data):
    data.setdefault("month", "2026-12")
    return client.post(url(listing), data, headers=HX if htmx else {})


def rows(listing) -> dict[datetime.date, CalendarDay]:
    return {row.date: row for row in CalendarDay.objects.filter(listing=listing)}


def test_month_grid_shows_prices_blocks_and_overrides(host_client, listing):
    set_night(listing, d(5), blocked=True, note="Family visiting")
    set_night(listing, d(24), price_override_kes=12_500)
    set_night(listing, d(26), min_nights_override=3)

    response = host_client.get(url(listing))

    assert response.status_code == 200
    page = response.content.decode()
    assert "December 2026" in page
    assert 'data-night="2026-12-05"' in page
    assert "5 December, Saturday: blocked (Family visiting), KES 8,000" in page
    assert "24 December, Thursday: open, KES 12,500" in page
    assert "26 December, Saturday: open, KES 8,000, minimum 3 nights" in page
    assert page.count("data-price-override") == 1
    assert page.count("data-blocked") == 1


def is_disabled(page: str, night: str) -> bool:
    tag = page.split(f'data-night="{night}"')[1].split(">")[0]
    return re.search(r"\sdisabled(?![:\w-])", tag) is not None


def test_past_nights_cannot_be_chosen(host_client, listing):
    with time_machine.travel(datetime.datetime(2026, 12, 10, 6, 0, tzinfo=datetime.UTC), tick=False):
        page = host_client.get(url(listing)).content.decode()
        november = host_client.get(url(listing) + "?month=2026-11").content.decode()
    assert is_disabled(page, "2026-12-09")
    assert not is_disabled(page, "2026-12-10")
    assert "December 2026" in november  # a past month is not offered: the current one is shown


def test_block_a_range_with_a_note_rerenders_the_grid(host_client, listing):
    response = post(
        host_client, listing, first_night="2026-12-12", last_night="2026-12-13", action="block", note="Repairs"
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert body.lstrip().startswith('<section id="host-calendar"')
    assert "Blocked 2 nights." in body
    assert body.count("data-blocked") == 2
    assert {day: (row.blocked, row.note) for day, row in rows(listing).items()} == {
        d(12): (True, "Repairs"),
        d(13): (True, "Repairs"),
    }


def test_block_keeps_a_price_set_for_the_night_and_unblock_keeps_it_too(host_client, listing):
    set_night(listing, d(12), price_override_kes=15_000)

    post(host_client, listing, first_night="2026-12-12", last_night="2026-12-14", action="block")
    assert rows(listing)[d(12)].price_override_kes == 15_000
    assert all(row.blocked for row in rows(listing).values())

    response = post(host_client, listing, first_night="2026-12-12", last_night="2026-12-14", action="unblock")
    assert response.status_code == 200
    assert "Opened 3 nights." in response.content.decode()
    # Nights with nothing left to say have no row; the one with a price keeps it.
    assert {day: (row.blocked, row.price_override_kes) for day, row in rows(listing).items()} == {
        d(12): (False, 15_000)
    }


def test_a_single_night_needs_only_the_first_night(host_client, listing):
    response = post(host_client, listing, first_night="2026-12-20", action="block")
    assert response.status_code == 200
    assert list(rows(listing)) == [d(20)]


def test_set_and_reset_price(host_client, listing):
    response = post(
        host_client, listing, first_night="2026-12-24", last_night="2026-12-26", action="set-price", price_kes="14000"
    )
    assert response.status_code == 200
    assert response.content.decode().count("data-price-override") == 3
    assert {row.price_override_kes for row in rows(listing).values()} == {14_000}

    response = post(host_client, listing, first_night="2026-12-25", last_night="2026-12-25", action="reset-price")
    assert response.status_code == 200
    assert sorted(rows(listing)) == [d(24), d(26)]


def test_set_and_reset_minimum_nights(host_client, listing):
    post(
        host_client, listing, first_night="2026-12-30", last_night="2026-12-31", action="set-min-nights", min_nights="4"
    )
    assert {day: row.min_nights_override for day, row in rows(listing).items()} == {d(30): 4, d(31): 4}

    post(host_client, listing, first_night="2026-12-30", last_night="2026-12-31", action="reset-min-nights")
    assert rows(listing) == {}


def test_a_range_may_cross_into_the_next_month(host_client, listing):
    post(host_client, listing, first_night="2026-12-30", last_night="2027-01-02", action="block")
    assert sorted(rows(listing)) == [d(30), d(31), d(1, 1, 2027), d(2, 1, 2027)]


def test_changes_the_calendar_feeds_the_quote(host_client, listing):
    post(host_client, listing, first_night="2026-12-12", last_night="2026-12-12", action="block")
    quote = selectors.stay_quote(
        listing=listing, stay=selectors.Stay(check_in=d(11), check_out=d(14)), guests=2, now=NOW
    )
    assert not quote.bookable


def test_booked_nights_cannot_be_blocked_and_show_their_reference(host_client, listing, make_user):
    guest = make_user("grace@example.com", full_name="Grace Wanjiku")
    stay = selectors.Stay(check_in=d(12), check_out=d(14))
    quote = selectors.stay_quote(listing=listing, stay=stay, guests=2, now=NOW)
    booking = booking_hold(
        booker=guest,
        listing_id=listing.pk,
        stay=stay,
        guests=[GuestData(full_name=guest.full_name, email=guest.email), GuestData(full_name="Otieno")],
        shown_total_kes=quote.total_kes,
        idempotency_key="host-calendar-test",
        now=NOW,
    )

    response = post(host_client, listing, first_night="2026-12-10", last_night="2026-12-14", action="block")

    assert response.status_code == 422
    body = response.content.decode()
    ref = booking.ref
    assert f"Booked nights cannot be blocked: Sat 12 Dec ({ref}), Sun 13 Dec ({ref})." in body
    assert body.count("data-booking-ref") == 2  # the check-out day, the 14th, is free
    assert f"12 December, Saturday: booked, {ref}" in body
    assert rows(listing) == {}

    # The nights around the stay can still be blocked.
    response = post(host_client, listing, first_night="2026-12-14", last_night="2026-12-15", action="block")
    assert response.status_code == 200
    assert sorted(rows(listing)) == [d(14), d(15)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"first_night": "2026-11-30", "action": "block"}, "Nights in the past cannot be changed."),
        ({"first_night": "2026-12-14", "last_night": "2026-12-12", "action": "block"}, "The last night is before"),
        ({"first_night": "2026-12-14", "action": "set-price"}, "Enter the price for these nights."),
        ({"first_night": "2026-12-14", "action": "set-price", "price_kes": "0"}, "greater than or equal to 1"),
        ({"first_night": "2026-12-14", "action": "set-min-nights"}, "Enter the minimum number of nights."),
        ({"first_night": "2026-12-14", "action": "set-min-nights", "min_nights": "400"}, "less than or equal to 365"),
        ({"first_night": "2026-12-02", "last_night": "2027-12-31", "action": "block"}, "at most 366 nights"),
        ({"first_night": "2029-01-01", "action": "block"}, "up to two years ahead"),
        ({"first_night": "2026-12-14", "action": "explode"}, "Choose what to do with the nights."),
        ({"action": "block"}, "This field is required."),
    ],
)
def test_bad_input_is_a_422_with_the_reason_and_changes_nothing(host_client, listing, data, message):
    response = post(host_client, listing, **data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert rows(listing) == {}


@pytest.mark.parametrize(
    "data",
    [
        {"first_night": "'; DROP TABLE listings_listing; --", "action": "block"},
        {"first_night": "9999-99-99", "last_night": "0000-00-00", "action": "block"},
        {"first_night": "2026-12-14", "action": "set-price", "price_kes": "1e309"},
        {"first_night": "2026-12-14", "action": "set-price", "price_kes": "99999999999999999999999"},
        {"first_night": "2026-12-14", "action": "set-min-nights", "min_nights": "-1"},
        {"first_night": "2026-12-14", "action": "block", "note": "x" * 5000},
        {"first_night": "2026-12-14\x00", "action": "block"},
        {"first_night": "2026-12-14", "action": ["block", "unblock"], "month": "99999-1"},
        {"first_night": "2026-12-14", "action": "block", "month": "<script>alert(1)</script>"},
    ],
)
def test_hostile_input_never_500s(host_client, listing, data):
    response = post(host_client, listing, **data)
    assert response.status_code in (200, 422)


@pytest.mark.parametrize("month", ["garbage", "2026-13", "0-0", "-1--1", "2026-12-01", "999999-01", ""])
def test_odd_months_show_a_real_month(host_client, listing, month):
    response = host_client.get(url(listing), {"month": month})
    assert response.status_code == 200
    assert "2026" in response.content.decode()


def test_months_ahead_and_fragment(host_client, listing):
    response = host_client.get(url(listing), {"month": "2027-02"}, headers=HX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert body.lstrip().startswith('<section id="host-calendar"')
    assert "February 2027" in body
    assert f'hx-get="/host/listings/{listing.slug}/calendar/?month=2027-01"' in body
    assert 'href="?month=2027-03"' in body
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_without_javascript_a_change_redirects_back_to_the_month(host_client, listing):
    response = post(host_client, listing, htmx=False, first_night="2027-01-05", action="block", month="2027-01")
    assert response.status_code == 302
    assert response["Location"] == url(listing) + "?month=2027-01"
    assert list(rows(listing)) == [d(5, 1, 2027)]


def test_another_host_gets_404_and_nothing_changes(client, make_user, listing):
    other = make_user("mallory@example.com", full_name="Mallory")
    client.force_login(other)
    assert client.get(url(listing)).status_code == 404
    for action in ("block", "set-price", "set-min-nights"):
        response = post(client, listing, first_night="2026-12-12", action=action, price_kes="1", min_nights="9")
        assert response.status_code == 404
    assert rows(listing) == {}


def test_signed_out_visitors_are_sent_to_sign_in(client, listing):
    response = client.get(url(listing))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    post(client, listing, first_night="2026-12-12", action="block")
    assert rows(listing) == {}


def _queries(client, listing, **request) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url(listing), {"month": "2026-12"}, **request)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("nights", [3, 40])
def test_calendar_page_queries_do_not_grow_with_nights_set(host_client, listing, nights, django_assert_num_queries):
    baseline = _queries(host_client, listing)
    partial_baseline = _queries(host_client, listing, headers=HX)  # without the layout's account menu
    for i in range(nights):
        set_night(listing, d(2) + datetime.timedelta(days=i), blocked=i % 2 == 0, price_override_kes=9_000 + i)
    with django_assert_num_queries(baseline):
        host_client.get(url(listing), {"month": "2026-12"})
    with django_assert_num_queries(partial_baseline):
        host_client.get(url(listing), {"month": "2026-12"}, headers=HX)


@pytest.mark.parametrize(
    ("value", "month", "shown"),
    [
        ("2027-02", d(1, 2, 2027), "February 2027"),
        ("2027-02-15", d(1, 2, 2027), "February 2027"),  # a whole date names its month
        ("2020-05", d(1, 5, 2020), "December 2026"),  # kept between this month and the horizon
        ("2026-13", None, "December 2026"),
        ("soon", None, "December 2026"),
    ],
)
def test_the_month_is_read_as_the_guest_calendar_reads_it(host_client, listing, value, month, shown):
    assert selectors.month_from_query(value) == month
    body = host_client.get(url(listing), {"month": value}, headers=HX).content.decode()
    assert shown in body
