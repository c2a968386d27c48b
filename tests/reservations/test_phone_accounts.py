"""Accounts that signed up with a mobile number: they book once the number is verified, guest rows typed with a
number are linked when it is verified (recycled numbers only to bookings made since), and the booker's e-mail goes
only to a verified address."""

import datetime

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse
from django.utils import timezone

from core.models import PhoneVerification, User
from core.services import user_phone_verify
from notifications.models import Notification
from reservations.models import Booking, BookingGuest
from reservations.selectors import trips_for_user, user_may_book
from reservations.services import GuestData, _move, booking_confirm, booking_guests_link_phone
from tests.helpers.stays import NOW, d

pytestmark = pytest.mark.django_db

NUMBER = "+254722000111"


def _book_url(listing) -> str:
    return reverse("reservations:booking-new", args=[listing.slug]) + f"?check_in={d(10)}&check_out={d(13)}&guests=1"


def test_a_phone_only_account_books_once_its_number_is_verified(client, listing, make_phone_user):
    person = make_phone_user(phone=NUMBER, verified=False)
    client.force_login(person)
    response = client.get(_book_url(listing))
    assert response.status_code == 403
    assert b"Verify your mobile number or e-mail address" in response.content
    assert not user_may_book(user=person)

    user_phone_verify(user=person, phone=NUMBER)
    response = client.get(_book_url(listing))
    assert response.status_code == 200
    # The booker's row: no address, the verified number as the phone.
    assert 'value="0722 000 111"' in response.content.decode()


def test_verified_e_mail_accounts_book_as_before_and_unverified_ones_do_not(make_user):
    verified = make_user(email="v@example.com")
    unverified = User.objects.create_user(email="u@example.com")
    EmailAddress.objects.create(user=unverified, email=unverified.email, verified=False, primary=True)
    assert user_may_book(user=verified) and not user_may_book(user=unverified)


def test_a_guest_typed_with_a_verified_number_is_linked_at_once(hold, guest, make_phone_user):
    friend = make_phone_user(phone=NUMBER)
    stranger = make_phone_user(phone="+254733000222", verified=False)
    booking = hold(
        guest,
        10,
        13,
        guests=[
            GuestData(full_name="Grace Guest", email="guest@example.com"),
            GuestData(full_name="Friend", phone="254722000111"),
            GuestData(full_name="Stranger", phone="254733000222"),
        ],
    )
    assert dict(booking.guests.values_list("full_name", "user")) == {
        "Grace Guest": guest.pk,
        "Friend": friend.pk,
        "Stranger": None,
    }
    assert trips_for_user(user=friend, now=NOW).upcoming == [booking]
    assert trips_for_user(user=stranger, now=NOW).empty


def test_verifying_a_number_later_links_upcoming_bookings_typed_with_it(hold, guest, make_phone_user):
    booking = hold(
        guest, 10, 13, guests=[GuestData(full_name="Grace"), GuestData(full_name="Joy", phone="254722000111")]
    )
    joy = make_phone_user(phone=NUMBER)  # verifies it: the signal links the row
    assert BookingGuest.objects.get(full_name="Joy").user == joy
    assert trips_for_user(user=joy, now=NOW).upcoming == [booking]


def test_a_stay_already_over_is_not_linked(hold, guest, make_phone_user):
    hold(guest, 10, 13, guests=[GuestData(full_name="Grace"), GuestData(full_name="Joy", phone="254722000111")])
    joy = make_phone_user(phone=NUMBER, verified=False)
    assert booking_guests_link_phone(user=joy, phone=NUMBER, others_verified_before=None, today=d(14)) == 0
    assert booking_guests_link_phone(user=joy, phone=NUMBER, others_verified_before=None, today=d(13)) == 1


def test_a_recycled_number_links_only_bookings_made_after_its_last_holder_verified_it(hold, guest, make_phone_user):
    earlier = hold(
        guest, 10, 13, guests=[GuestData(full_name="Grace"), GuestData(full_name="Old", phone="254722000111")]
    )
    old_holder = make_phone_user(phone=NUMBER, full_name="Old Holder")
    assert BookingGuest.objects.get(full_name="Old").user == old_holder
    # The number changes hands: the old holder's verification was after `earlier` was made, and a booking typed
    # with the number since then is for the new holder.
    later = hold(guest, 20, 22, guests=[GuestData(full_name="Grace"), GuestData(full_name="New", phone="254722000111")])
    BookingGuest.objects.filter(booking=later).update(user=None)  # typed before anyone held the number now
    Booking.objects.filter(pk=later.pk).update(created_at=timezone.now() + datetime.timedelta(minutes=1))
    PhoneVerification.objects.filter(user=old_holder).update(verified_at=timezone.now())
    BookingGuest.objects.filter(booking=earlier).update(user=None)

    new_holder = make_phone_user(phone=NUMBER, full_name="New Holder")
    old_holder.refresh_from_db()
    assert (old_holder.phone, old_holder.phone_verified) == ("", False)
    assert BookingGuest.objects.get(booking=earlier, full_name="Old").user is None
    assert BookingGuest.objects.get(booking=later, full_name="New").user == new_holder
    assert trips_for_user(user=new_holder, now=NOW).upcoming == [later]


def test_the_confirmation_goes_to_the_booker_only_at_a_verified_address(hold, make_phone_user, host):
    booker = make_phone_user(phone=NUMBER, email="booker@example.com")
    EmailAddress.objects.create(user=booker, email="booker@example.com", verified=False, primary=True)
    booking = hold(booker, 10, 13, guests=[GuestData(full_name="Baraka Ochieng")])
    _move(booking, Booking.Status.AWAITING_PAYMENT, action="payment_started", message="x", actor_kind="mpesa")
    booking_confirm(booking_id=booking.pk)
    assert list(Notification.objects.filter(channel="email").values_list("address", flat=True)) == ["host@example.com"]
    EmailAddress.objects.filter(user=booker).update(verified=True)
    second = hold(booker, 20, 22, guests=[GuestData(full_name="Baraka Ochieng")])
    _move(second, Booking.Status.AWAITING_PAYMENT, action="payment_started", message="x", actor_kind="mpesa")
    booking_confirm(booking_id=second.pk)
    assert set(
        Notification.objects.filter(channel="email", booking_ref=second.ref).values_list("address", flat=True)
    ) == {"host@example.com", "booker@example.com"}
