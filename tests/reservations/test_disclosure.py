"""Who may learn what about a booking: the one rule (`booking_disclosure`) and the trip page that applies it."""

import pytest
import time_machine

from reservations.selectors import booking_disclosure
from tests.helpers.stays import NOW
from tests.reservations.test_views import _group_booking, confirm

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def friend(make_user):
    """An account that has verified the second guest's address, so the booking links it."""
    return make_user(email="friend@example.com", full_name="Faith Friend")


def _rule(disclosure) -> tuple[bool, bool, bool]:
    return disclosure.payment_details, disclosure.private_details, disclosure.other_guests_contacts


def test_the_booker_learns_everything_and_the_private_details_only_once_confirmed(hold, guest):
    booking = _group_booking(hold, guest)
    assert _rule(booking_disclosure(booking=booking, user=guest)) == (True, False, True)
    confirm(booking)
    booking.refresh_from_db()
    disclosure = booking_disclosure(booking=booking, user=guest)
    assert disclosure.is_booker and _rule(disclosure) == (True, True, True)


def test_a_linked_guest_learns_the_private_details_once_confirmed_but_never_payments_or_contacts(hold, guest, friend):
    booking = _group_booking(hold, guest)
    assert _rule(booking_disclosure(booking=booking, user=friend)) == (False, False, False)
    confirm(booking)
    booking.refresh_from_db()
    disclosure = booking_disclosure(booking=booking, user=friend)
    assert disclosure.is_linked_guest and not disclosure.is_booker
    assert _rule(disclosure) == (False, True, False)


def test_a_typed_contact_or_a_stranger_learns_only_what_anyone_on_the_list_may(hold, guest, make_user):
    booking = _group_booking(hold, guest)
    confirm(booking)
    booking.refresh_from_db()
    stranger = make_user(email="stranger@example.com")
    for person in (None, stranger):
        disclosure = booking_disclosure(booking=booking, user=person)
        assert not disclosure.is_booker and not disclosure.is_linked_guest
        assert _rule(disclosure) == (False, False, False)


def test_the_trip_page_gives_a_linked_guest_the_history_without_money(client, hold, guest, friend):
    booking = _group_booking(hold, guest)
    confirm(booking)
    client.force_login(guest)
    booker_html = client.get(f"/trips/{booking.ref}/").content.decode()
    assert "to pay." in booker_html  # the hold's line names the amount for the booker
    client.force_login(friend)
    html = client.get(f"/trips/{booking.ref}/").content.decode()
    timeline = html.split("data-timeline", 1)[1].split("</ol>", 1)[0]
    assert "Dates held." in timeline and "Booking confirmed." in timeline
    assert "KES" not in timeline and "to pay" not in timeline and "Paying" not in timeline
