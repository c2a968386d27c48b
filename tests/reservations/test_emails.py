"""The booking confirmation e-mail goes through the outbox: queued in the transaction that confirms the booking, sent
once it commits, to today's recipients with today's content."""

import pytest
from django.core import mail
from django.db import transaction

from notifications.models import Notification
from reservations.models import Booking
from reservations.services import GuestData, _move, booking_confirm, booking_guests_link_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def awaiting(hold, guest, make_user):
    """A group booking waiting for its payment: the booker, a friend with an account, a child without an address."""
    friend = make_user(email="peter@example.com", full_name="Peter Friend")
    booking = hold(
        guest,
        10,
        13,
        guests=[
            GuestData(full_name="Grace Guest", email="guest@example.com"),
            GuestData(full_name="Peter Friend", email="Peter@Example.com"),
            GuestData(full_name="Little One", age_group="child"),
        ],
    )
    booking_guests_link_account(user=friend, email="peter@example.com")
    _move(booking, Booking.Status.AWAITING_PAYMENT, action="payment_started", message="x", actor_kind="mpesa")
    mail.outbox.clear()
    return booking, friend


def test_the_confirmation_is_queued_with_the_confirmation_and_sent_after_commit(
    awaiting, guest, host, django_capture_on_commit_callbacks
):
    booking, friend = awaiting
    with django_capture_on_commit_callbacks(execute=True):
        booking_confirm(booking_id=booking.pk)
        queued = list(Notification.objects.order_by("address"))
        assert mail.outbox == [] and {n.status for n in queued} == {Notification.Status.QUEUED}
    event = booking.events.get(action="confirmed")
    assert [(n.address, n.recipient, n.kind, n.object_key, n.channel, n.booking_ref) for n in queued] == [
        ("guest@example.com", guest, "booking_confirmed", f"booking-event:{event.pk}", "email", booking.ref),
        ("host@example.com", host, "booking_confirmed", f"booking-event:{event.pk}", "email", booking.ref),
        ("peter@example.com", friend, "booking_confirmed", f"booking-event:{event.pk}", "email", booking.ref),
    ]
    assert set(Notification.objects.values_list("status", flat=True)) == {Notification.Status.SENT}
    sent = {message.to[0]: message for message in mail.outbox}
    assert sorted(sent) == ["guest@example.com", "host@example.com", "peter@example.com"]
    for message in sent.values():
        assert message.subject == f"[Nexus] Booking {booking.ref} is confirmed: {booking.listing.title}"
        assert booking.ref in message.body and "Grace Guest, Peter Friend, Little One" in message.body
        assert message.alternatives[0][1] == "text/html" and booking.ref in message.alternatives[0][0]
    assert "Hello Hassan Host" in sent["host@example.com"].body
    assert "You have a confirmed booking" in sent["host@example.com"].body
    assert "Hello Peter Friend" in sent["peter@example.com"].body
    assert f"Your stay at {booking.listing.title} is confirmed." in sent["guest@example.com"].body


def test_nothing_is_queued_when_the_confirmation_rolls_back(awaiting, django_capture_on_commit_callbacks):
    booking, _ = awaiting
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            booking_confirm(booking_id=booking.pk)
            raise RuntimeError("the payment's bookkeeping failed after the confirmation")
    assert not Notification.objects.exists() and mail.outbox == []
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.AWAITING_PAYMENT


def test_a_repeated_confirmation_sends_nothing_more(awaiting, django_capture_on_commit_callbacks):
    booking, _ = awaiting
    with django_capture_on_commit_callbacks(execute=True):
        booking_confirm(booking_id=booking.pk)
    with django_capture_on_commit_callbacks(execute=True):
        booking_confirm(booking_id=booking.pk)  # M-Pesa repeats itself
    assert Notification.objects.count() == 3 and len(mail.outbox) == 3
