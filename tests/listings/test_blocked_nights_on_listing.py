"""On PostgreSQL each listing's row carries the nights its host has blocked (blocked_nights), which search reads; a
trigger keeps it equal to the listing's blocked CalendarDay rows whatever statement changes them."""

import pytest
from django.db import connection

from listings.models import CalendarDay
from listings.services import calendar_block, calendar_set_price, calendar_unblock
from tests.helpers.listing_nights import assert_listing_nights_in_step, nights_text
from tests.helpers.stays import d
from tests.listings.builders import make_listing, set_night

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the listing's own blocked nights exist on PostgreSQL only")


@pytest.fixture
def host(make_user):
    return make_user(email="host@example.com", full_name="Juma Hamisi")


def assert_in_step() -> dict[int, str]:
    return assert_listing_nights_in_step(
        "blocked_nights", table="listings_calendarday", night="date", where="AND r.blocked"
    )


def test_the_calendar_services_keep_the_listing_row_in_step(host):
    listing = make_listing(host)
    calendar_set_price(listing=listing, first_night=d(4), last_night=d(5), price_kes=12_000)
    assert assert_in_step()[listing.pk] == "{}"  # a price is not a block

    calendar_block(listing=listing, first_night=d(3), last_night=d(6), note="Painting")  # new rows and priced ones
    assert assert_in_step()[listing.pk] == nights_text((3, 7))

    calendar_set_price(listing=listing, first_night=d(5), last_night=d(8), price_kes=9_000)  # blocked nights priced
    assert assert_in_step()[listing.pk] == nights_text((3, 7))

    calendar_unblock(listing=listing, first_night=d(4), last_night=d(4))
    assert assert_in_step()[listing.pk] == nights_text((3, 4), (5, 7))

    listing.title = "Renamed by the host"
    listing.save()  # the host's edit writes the model's columns, never this one
    assert assert_in_step()[listing.pk] == nights_text((3, 4), (5, 7))

    calendar_unblock(listing=listing, first_night=d(1), last_night=d(10))
    assert assert_in_step()[listing.pk] == "{}"


def test_every_statement_on_the_rows_keeps_each_listing_in_step(host):
    listing, other = make_listing(host), make_listing(host, title="The other place")
    CalendarDay.objects.bulk_create(
        [CalendarDay(listing=listing, date=d(day), blocked=True) for day in (2, 3, 10)]
        + [CalendarDay(listing=listing, date=d(12), price_override_kes=8_000)]
        + [CalendarDay(listing=other, date=d(6), blocked=True)]
    )  # one statement, two listings, one night only priced
    assert assert_in_step() == {listing.pk: nights_text((2, 4), (10, 11)), other.pk: nights_text((6, 7))}

    CalendarDay.objects.filter(listing=listing, date=d(10)).update(date=d(4))  # a blocked night moved
    CalendarDay.objects.filter(listing=listing, date=d(12)).update(blocked=True)  # a priced night blocked
    CalendarDay.objects.filter(listing=other).update(listing=listing, date=d(20))  # moved to the other listing
    assert assert_in_step() == {listing.pk: nights_text((2, 5), (12, 13), (20, 21)), other.pk: "{}"}

    CalendarDay.objects.filter(listing=listing).update(note="Closed")  # nothing about blocking changes
    assert assert_in_step() == {listing.pk: nights_text((2, 5), (12, 13), (20, 21)), other.pk: "{}"}

    CalendarDay.objects.filter(listing=listing, date=d(3)).delete()
    CalendarDay.objects.filter(listing=listing, date=d(20)).update(blocked=False)
    assert assert_in_step() == {listing.pk: nights_text((2, 3), (4, 5), (12, 13)), other.pk: "{}"}

    set_night(other, d(8), blocked=True)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys' deferred checks, before a TRUNCATE
        cursor.execute("TRUNCATE listings_calendarday")
    assert assert_in_step() == {listing.pk: "{}", other.pk: "{}"}


def test_one_statement_that_blocks_a_night_and_opens_another_moves_the_block(host):
    listing = make_listing(host)
    set_night(listing, d(2), blocked=True, note="first")
    set_night(listing, d(3), blocked=False, price_override_kes=7_000)
    with connection.cursor() as cursor:  # one statement: the blocked night and the priced one trade places
        cursor.execute(
            "UPDATE listings_calendarday SET blocked = NOT blocked WHERE listing_id = %s AND date IN (%s, %s)",
            [listing.pk, d(2), d(3)],
        )
    assert assert_in_step()[listing.pk] == nights_text((3, 4))
