"""What each person hears of a booking, by e-mail and SMS: queued in the outbox in the event's transaction, as the
disclosure rule allows (payment details to the booker only, the address to linked guests once confirmed, a typed
address the reference, dates and a link)."""

import datetime
import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from core.models import User
from core.site import site_url
from listings.models import Listing
from mpesa.client import StkQueryAnswer
from mpesa.services import payment_settle_query
from notifications.models import Notification, NotificationPreference
from reservations.messages import bookings_remind_checkin
from reservations.models import Booking
from reservations.services import (
    GuestData,
    booking_cancel,
    booking_guests_link_account,
    booking_host_cancel,
    booking_record_refund,
)

pytestmark = pytest.mark.django_db

SMS = Notification.Channel.SMS
EMAIL = Notification.Channel.EMAIL
ADDRESS = "Plot 14, Beach Road, Diani"
INSTRUCTIONS = "The caretaker Juma meets you at the gate."


@pytest.fixture
def group(hold, guest, host, listing, make_user):
    """A booking of the guest (M-Pesa 0708 374 149) for a friend with an account and a number, and a colleague
    whose address the guest typed (no account)."""
    Listing.objects.filter(pk=listing.pk).update(
        street_address=ADDRESS,
        directions="Past the mosque.",
        check_in_instructions=INSTRUCTIONS,
        host_phone="254722000333",
    )
    friend = make_user(email="peter@example.com", full_name="Peter Friend", mpesa_phone="254711000222")
    booking = hold(
        guest,
        10,
        13,
        guests=[
            GuestData(full_name="Grace Guest", email="guest@example.com"),
            GuestData(full_name="Peter Friend", email="peter@example.com"),
            GuestData(full_name="Colleague Typed", email="colleague@example.com"),
        ],
        now=timezone.now() - datetime.timedelta(minutes=1),
    )
    booking_guests_link_account(user=friend, email="peter@example.com")
    return booking, friend


def _sms(**filters) -> list[Notification]:
    return list(Notification.objects.filter(channel=SMS, **filters).order_by("id"))


def _email(booking: Booking, address: str, kind: str = "booking_confirmed") -> Notification:
    return Notification.objects.get(channel=EMAIL, booking_ref=booking.ref, address=address, kind=kind)


def test_the_confirmation_tells_each_person_what_they_may_know(group, paid_payment, django_capture_on_commit_callbacks):
    booking, friend = group
    with django_capture_on_commit_callbacks(execute=True):
        paid_payment(booking=booking, phone="254708374149", receipt="UKK4H7TQ2M")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED

    # SMS: the booker (the number that paid) with the receipt; the linked friend without payment details; the host.
    confirmed = {n.address: n for n in _sms(kind="booking_confirmed")}
    assert sorted(confirmed) == ["+254708374149", "+254711000222", "+254722000333"]
    booker_sms = confirmed["+254708374149"].body
    assert booking.ref in booker_sms and "UKK4H7TQ2M" in booker_sms and "KES 31,500" in booker_sms
    assert f"/trips/{booking.ref}/" in booker_sms and booker_sms.startswith("Nexus: ")
    friend_sms = confirmed["+254711000222"].body
    assert "You're on this trip" in friend_sms and booking.ref in friend_sms
    assert "UKK4H7TQ2M" not in friend_sms and "KES" not in friend_sms
    assert "UKK4H7TQ2M" not in confirmed["+254722000333"].body
    assert all(len(n.body) <= 160 and n.body.isascii() for n in confirmed.values())
    # Nobody but the booker is told the receipt.
    told = sorted(n.address for n in Notification.objects.filter(body__contains="UKK4H7TQ2M"))
    assert told == ["+254708374149", "guest@example.com"]

    # The booker's e-mail: everything.
    booker_mail = _email(booking, "guest@example.com")
    for item in [
        booking.ref,
        booking.listing.title,
        "from 14:00",
        "by 10:00",
        "Peter Friend",
        "UKK4H7TQ2M",
        "KES 31,500",
        f"{site_url()}/trips/{booking.ref}/",
        ADDRESS,
        INSTRUCTIONS,
        "Host's phone: 0722 000 333",
        "Cancellation policy: Moderate",
        "If you cancelled today, KES 31,500 would come back",
    ]:
        assert item in booker_mail.body, item
    assert "UKK4H7TQ2M" in booker_mail.html_body and ADDRESS in booker_mail.html_body
    assert 'href="tel:+254722000333"' in booker_mail.html_body and ">0722 000 333</a>" in booker_mail.html_body
    assert "254722000333" not in booker_mail.body  # read as a Kenyan dials it, never 2547…
    assert f'href="{site_url()}/trips/{booking.ref}/"' in booker_mail.html_body

    # The linked friend: the address and instructions, no payment.
    friend_mail = _email(booking, "peter@example.com")
    assert ADDRESS in friend_mail.body and INSTRUCTIONS in friend_mail.body and "0722 000 333" in friend_mail.body
    assert "UKK4H7TQ2M" not in friend_mail.body + friend_mail.html_body
    assert "KES" not in friend_mail.body + friend_mail.html_body

    # The typed address without an account: reference, listing, dates and a link only.
    typed = _email(booking, "colleague@example.com")
    assert booking.ref in typed.body and booking.check_in.strftime("%-d %b %Y") in typed.body
    assert f"{site_url()}/trips/{booking.ref}/" in typed.body and "/accounts/signup/" in typed.body
    for secret in ["UKK4H7TQ2M", "KES", ADDRESS, INSTRUCTIONS, "254722000333", "Peter Friend", "14:00"]:
        assert secret not in typed.body and secret not in typed.html_body, secret

    sent = {message.to[0] for message in mail.outbox}
    assert {"guest@example.com", "peter@example.com", "colleague@example.com", "host@example.com"} <= sent


def test_a_hold_texts_the_booker_what_to_pay_and_by_when(hold, guest, django_capture_on_commit_callbacks):
    User.objects.filter(pk=guest.pk).update(mpesa_phone="254708374149")
    guest.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        booking = hold(guest, 10, 13)
    (sms,) = _sms(kind="hold_created")
    local_end = timezone.localtime(booking.blocks_until)
    assert sms.address == "+254708374149" and booking.ref in sms.body and "KES 31,500" in sms.body
    assert f"by {local_end:%H:%M}" in sms.body and f"/trips/{booking.ref}/" in sms.body


def test_sms_follow_the_persons_language_and_the_kinds_they_switched_off(
    group, guest, paid_payment, django_capture_on_commit_callbacks
):
    booking, friend = group
    NotificationPreference.objects.create(user=guest, language="sw")
    NotificationPreference.objects.create(user=friend, sms_off=["booking_confirmed"])
    with django_capture_on_commit_callbacks(execute=True):
        paid_payment(booking=booking, phone="254708374149", receipt="UKK4H7TQ2M")
    confirmed = {n.address: n for n in _sms(kind="booking_confirmed")}
    assert "+254711000222" not in confirmed  # the friend switched these off
    booker = confirmed["+254708374149"]
    assert booker.language == "sw" and "imethibitishwa" in booker.body and "UKK4H7TQ2M" in booker.body


def test_a_cancellation_says_what_comes_back_how_and_when(
    group, guest, host, paid_payment, django_capture_on_commit_callbacks
):
    booking, _friend = group
    with django_capture_on_commit_callbacks(execute=True):
        paid_payment(booking=booking, phone="254708374149", receipt="UKK4H7TQ2M")
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=Booking.objects.get(pk=booking.pk), user=guest, reason="Plans changed")
    booking.refresh_from_db()
    assert booking.refund_due_kes == 31_500
    booker_mail = _email(booking, "guest@example.com", "booking_cancelled")
    assert "What comes back: KES 31,500" in booker_mail.body
    assert "How: by M-Pesa, to the number that paid" in booker_mail.body and "working days" in booker_mail.body
    friend_mail = _email(booking, "peter@example.com", "booking_cancelled")
    assert "KES" not in friend_mail.body and booking.ref in friend_mail.body
    texts = {n.address: n.body for n in _sms(kind="booking_cancelled")}
    assert sorted(texts) == ["+254708374149", "+254722000333"]  # the booker and the host
    assert "KES 31,500 back to your M-Pesa" in texts["+254708374149"]
    assert "by the guest" in texts["+254722000333"] and "KES" not in texts["+254722000333"]


def test_a_host_cancellation_refunds_everything_and_says_so(
    group, host, paid_payment, django_capture_on_commit_callbacks
):
    booking, _friend = group
    with django_capture_on_commit_callbacks(execute=True):
        paid_payment(booking=booking, phone="254708374149", receipt="UKK4H7TQ2M")
    with django_capture_on_commit_callbacks(execute=True):
        booking_host_cancel(booking=Booking.objects.get(pk=booking.pk), host=host, reason="The roof leaks.")
    booker_mail = _email(booking, "guest@example.com", "booking_cancelled")
    assert "cancelled by the host" in booker_mail.body and "everything: the host cancelled" in booker_mail.body
    (text,) = _sms(kind="booking_cancelled", address="+254708374149")
    assert "by the host" in text.body and "KES 31,500" in text.body


def test_the_check_in_reminder_goes_once_the_day_before(group, paid_payment, django_capture_on_commit_callbacks):
    booking, _friend = group
    with django_capture_on_commit_callbacks(execute=True):
        paid_payment(booking=booking, phone="254708374149", receipt="UKK4H7TQ2M")
    booking.refresh_from_db()
    the_day_before = datetime.datetime.combine(
        booking.check_in - datetime.timedelta(days=1), datetime.time(8), tzinfo=timezone.get_current_timezone()
    )
    two_days_before = the_day_before - datetime.timedelta(days=1)
    assert bookings_remind_checkin(now=two_days_before) == 0 and not _sms(kind="checkin_reminder")
    with django_capture_on_commit_callbacks(execute=True):
        assert bookings_remind_checkin(now=the_day_before) == 1
        assert bookings_remind_checkin(now=the_day_before + datetime.timedelta(hours=3)) == 1  # a second run
    texts = {n.address: n for n in _sms(kind="checkin_reminder")}
    assert sorted(texts) == ["+254708374149", "+254711000222"]  # the booker and the linked friend, once each
    for text in texts.values():
        assert "tomorrow" in text.body and "from 14:00" in text.body and f"/trips/{booking.ref}/" in text.body
        assert "UKK4H7TQ2M" not in text.body and text.object_key.startswith(f"reminder:booking-{booking.pk}:")
    out = io.StringIO()
    call_command("send_checkin_reminders", stdout=out)
    assert "booking(s)" in out.getvalue()


def test_a_failed_payment_texts_the_reason_and_how_to_retry(group, pending_payment, django_capture_on_commit_callbacks):
    booking, _friend = group
    User.objects.filter(pk=booking.booker_id).update(mpesa_phone="254708374149")
    with django_capture_on_commit_callbacks(execute=True):
        payment = pending_payment(booking=booking, phone="254712345678")
        payment_settle_query(
            payment_id=payment.pk,
            answer=StkQueryAnswer(final=True, result_code="1", result_desc="The balance is insufficient"),
        )
    (text,) = _sms(kind="payment_failed")
    assert text.address == "+254708374149" and booking.ref in text.body
    assert "from 0712xxx678 failed: not enough money" in text.body and "Try again by" in text.body


def test_an_instalment_texts_what_is_left_and_a_refund_texts_its_receipt(
    instalment_paid, guest, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = instalment_paid()
    (due,) = _sms(kind="instalment_due")
    assert due.address == "+254708374149"
    assert "KES 250,000 received" in due.body and "Pay the rest, KES 28,000" in due.body
    with django_capture_on_commit_callbacks(execute=True):
        booking_record_refund(
            booking=Booking.objects.get(pk=booking.pk),
            amount_kes=1_000,
            actor=None,
            details={"receipt": "UKR0000001", "phone": "254708374149"},
        )
    (refunded,) = _sms(kind="refunded")
    assert "KES 1,000 refunded" in refunded.body and "0708xxx149" in refunded.body and "UKR0000001" in refunded.body
    refund_mail = _email(booking, "guest@example.com", "refunded")
    assert "M-Pesa receipt: UKR0000001" in refund_mail.body
