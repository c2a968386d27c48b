"""On PostgreSQL each listing's row carries the nights its bookings keep for good (booked_nights), which search
reads; a trigger keeps it equal to the listing's BookedNight rows whatever statement changes them."""

import threading
import time

import pytest
from django.db import connection, transaction

from reservations.models import BookedNight, Booking
from reservations.services import _move, booked_nights_fill, booking_cancel, booking_confirm, booking_lock
from tests.helpers.listing_nights import assert_listing_nights_in_step, nights_text
from tests.helpers.stays import NOW, d
from tests.listings.builders import make_listing

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the listing's own booked nights exist on PostgreSQL only")


def assert_in_step() -> dict[int, str]:
    return assert_listing_nights_in_step("booked_nights", table="reservations_bookednight", night="night")


def test_a_confirmed_stay_is_in_its_listing_row_until_it_is_cancelled(
    hold, guest, listing, django_capture_on_commit_callbacks
):
    booking = hold(guest, 20, 23)
    assert assert_in_step()[listing.pk] == "{}"  # a hold with a deadline is read live, not kept here
    _move(booking, Booking.Status.AWAITING_PAYMENT, action="payment_started", message="x", actor_kind="mpesa")
    Booking.objects.filter(pk=booking.pk).update(paid_kes=booking.total_kes)
    with django_capture_on_commit_callbacks(execute=True):
        booking_confirm(booking_id=booking.pk)
    assert assert_in_step()[listing.pk] == nights_text((20, 23))

    second = hold(guest, 23, 25)  # back to back: one range in the row
    _move(second, Booking.Status.AWAITING_PAYMENT, action="payment_started", message="x", actor_kind="mpesa")
    Booking.objects.filter(pk=second.pk).update(paid_kes=second.total_kes)
    with django_capture_on_commit_callbacks(execute=True):
        booking_confirm(booking_id=second.pk)
    assert assert_in_step()[listing.pk] == nights_text((20, 25))

    listing.title = "Renamed by the host"
    listing.save()  # the host's edit writes the model's columns, never this one
    assert assert_in_step()[listing.pk] == nights_text((20, 25))

    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=Booking.objects.get(pk=booking.pk), user=guest, reason="Plans changed", now=NOW)
    assert assert_in_step()[listing.pk] == nights_text((23, 25))


def test_every_statement_on_the_rows_keeps_each_listing_in_step(host, hold, guest, listing):
    other = make_listing(host, title="The other place")
    first, second = hold(guest, 2, 4), hold(guest, 6, 7, listing_obj=other)
    rows = [BookedNight(booking=first, listing=listing, night=d(day)) for day in (2, 3, 10)]
    rows.append(BookedNight(booking=second, listing=other, night=d(6)))
    BookedNight.objects.bulk_create(rows)  # one statement, two listings
    assert assert_in_step() == {listing.pk: nights_text((2, 4), (10, 11)), other.pk: nights_text((6, 7))}

    BookedNight.objects.filter(listing=listing, night=d(10)).update(night=d(4))  # a night moved
    BookedNight.objects.filter(listing=other).update(night=d(8))  # moved across the other listing's row
    assert assert_in_step() == {listing.pk: nights_text((2, 5)), other.pk: nights_text((8, 9))}

    BookedNight.objects.filter(listing=listing, night=d(3)).delete()
    assert assert_in_step() == {listing.pk: nights_text((2, 3), (4, 5)), other.pk: nights_text((8, 9))}

    booked_nights_fill()  # rebuilt from the bookings: none keeps nights for good, so every row goes
    assert assert_in_step() == {listing.pk: "{}", other.pk: "{}"}

    BookedNight.objects.bulk_create([BookedNight(booking=first, listing=listing, night=d(2))])
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys' deferred checks, before a TRUNCATE
        cursor.execute("TRUNCATE reservations_bookednight")
    assert assert_in_step() == {listing.pk: "{}", other.pk: "{}"}


@pytest.mark.django_db(transaction=True)
def test_filling_the_nights_while_a_service_holds_a_listing_waits_for_it_without_a_deadlock(
    hold, guest, listing, django_capture_on_commit_callbacks
):
    """A service locks the listing, then changes its booking; the fill meanwhile rebuilds every night (which
    updates the listing's row through the trigger). Both finish, one after the other."""
    booking = hold(guest, 20, 23)
    _move(booking, Booking.Status.AWAITING_PAYMENT, action="payment_started", message="x", actor_kind="mpesa")
    Booking.objects.filter(pk=booking.pk).update(paid_kes=booking.total_kes)
    with django_capture_on_commit_callbacks(execute=True):
        booking_confirm(booking_id=booking.pk)
    listing_locked, errors = threading.Event(), []

    def service() -> None:
        try:
            with transaction.atomic():
                booking_lock(booking_id=booking.pk)  # the listing, then the booking
                listing_locked.set()
                time.sleep(0.5)  # the fill has started meanwhile
                Booking.objects.filter(pk=booking.pk).update(guest_count=2)
        except Exception as error:  # judged below
            errors.append(error)
        finally:
            connection.close()

    def fill() -> None:
        try:
            listing_locked.wait(5)
            booked_nights_fill()
        except Exception as error:  # judged below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=service), threading.Thread(target=fill)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert Booking.objects.get(pk=booking.pk).guest_count == 2
    assert assert_in_step()[listing.pk] == nights_text((20, 23))
