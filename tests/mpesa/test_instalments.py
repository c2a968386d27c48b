"""A stay above M-Pesa's limit is paid in instalments. Between them the booking is held with money paid: a guest who
cancels gets back what the frozen policy gives on the whole stay (never more than was paid), and a hold that runs out
owes back everything paid, once no payment of it may still land. A later confirmation withdraws that refund due."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from core.clock import NAIROBI
from mpesa.client import StkQueryAnswer
from mpesa.models import Payment
from mpesa.services import payment_settle_query
from reservations.models import Booking
from reservations.services import booking_record_refund, bookings_expire_all
from tests.helpers.payments import failure_callback, success_callback
from tests.helpers.stays import d
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db

PAID = StkQueryAnswer(final=True, result_code="0", result_desc="The service request is processed successfully.")
REST_KES = 278_000 - 250_000


def later() -> datetime.datetime:
    """Well after the fresh hold an instalment gives (and any payment's grace) has run out."""
    return timezone.now() + datetime.timedelta(hours=2)


def second_instalment(pending_payment, booking: Booking) -> Payment:
    """The rest of the stay, pushed to the phone: the booking awaits it, M-Pesa has not answered yet."""
    return pending_payment(booking=booking, amount=REST_KES)


def settle(payment: Payment, answer: StkQueryAnswer = PAID) -> None:
    payment_settle_query(payment_id=payment.pk, answer=answer)


def lapse_by_another_guests_hold(booking: Booking, hold, make_user) -> Booking:
    """Another guest holds the same nights once the hold has run out: the hold service lapses the old booking first."""
    hold(make_user(email="next@example.com"), 20, 26, listing_obj=booking.listing, now=later())
    return booking


def actions(booking: Booking) -> list[str]:
    return list(booking.events.values_list("action", flat=True))


def test_cancelling_after_an_instalment_gives_back_what_the_policy_gives_on_the_whole_stay(
    client, guest, instalment_paid, mailoutbox, django_capture_on_commit_callbacks
):
    # Moderate policy, 3 days before the 14:00 check-in: half the nights (135,000) and the cleaning fee (8,000).
    with time_machine.travel(datetime.datetime.combine(d(17), datetime.time(10, 0), tzinfo=NAIROBI), tick=False):
        booking = instalment_paid(check_in=20, check_out=26)
        client.force_login(guest)
        trip = client.get(f"/trips/{booking.ref}/").content.decode()
        assert "If you cancelled today you would get back <strong>KES 143,000</strong> of the KES 250,000 paid" in trip
        assert "Nothing has been paid" not in trip
        page = client.get(f"/trips/{booking.ref}/cancel/").content.decode()
        assert "Nothing has been paid" not in page
        assert "you get back <strong>KES 143,000</strong> of the KES 250,000 paid" in page
        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/trips/{booking.ref}/cancel/", {"reason": "Plans changed"})
        assert response.status_code == 302
        booking.refresh_from_db()
        assert (booking.status, booking.paid_kes, booking.refund_due_kes) == ("cancelled", 250_000, 143_000)
        assert not booking.holds_nights()
        assert booking.events.last().details["refund_due_kes"] == 143_000
        html = client.get(f"/trips/{booking.ref}/").content.decode()
        assert "You paid KES 250,000." in html and "Refund due to you: KES 143,000." in html
    assert [message.to for message in mailoutbox] == [["guest@example.com"]]
    assert "KES 143,000" in mailoutbox[0].body and "You paid KES 250,000" in mailoutbox[0].body
    assert booking.ref in mailoutbox[0].subject


def test_the_refund_on_cancel_is_never_more_than_was_paid(client, guest, instalment_paid):
    with time_machine.travel(datetime.datetime.combine(d(1), datetime.time(10, 0), tzinfo=NAIROBI), tick=False):
        booking = instalment_paid(check_in=20, check_out=26)  # 19 days ahead: the policy gives back all 278,000
        client.force_login(guest)
        client.post(f"/trips/{booking.ref}/cancel/", {"reason": ""})
    booking.refresh_from_db()
    assert (booking.status, booking.refund_due_kes) == ("cancelled", 250_000)


@pytest.mark.parametrize("lapse", ["expire_all", "another_guests_hold"])
def test_a_lapse_after_an_instalment_owes_everything_paid_back(
    lapse, client, guest, instalment_paid, hold, make_user, mailoutbox, django_capture_on_commit_callbacks
):
    booking = instalment_paid()
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        if lapse == "expire_all":
            assert bookings_expire_all(now=later()) == 1
        else:
            lapse_by_another_guests_hold(booking, hold, make_user)
    booking.refresh_from_db()
    assert (booking.status, booking.paid_kes, booking.refund_due_kes) == ("expired", 250_000, 250_000)
    event = booking.events.get(action="refund_due_on_lapse")
    assert event.details["refund_due_kes"] == 250_000 and "KES 250,000 is due back" in event.message
    assert [message.to for message in mailoutbox] == [["guest@example.com"]]
    assert "ran out" in mailoutbox[0].body and "refund of KES 250,000 is due" in mailoutbox[0].body
    client.force_login(guest)
    html = client.get(f"/trips/{booking.ref}/").content.decode()
    assert "The hold ran out before the rest was paid" in html
    assert "You paid KES 250,000." in html and "Refund due to you: KES 250,000." in html
    bookings_expire_all(now=later() + datetime.timedelta(hours=1))  # another sweep records nothing more
    booking.refresh_from_db()
    assert booking.refund_due_kes == 250_000


def test_a_lapse_while_a_payment_is_in_flight_owes_nothing_until_it_fails(
    guest, instalment_paid, pending_payment, post_callback, mailoutbox
):
    booking = instalment_paid()
    payment = second_instalment(pending_payment, booking)
    assert bookings_expire_all(now=later()) == 1
    booking.refresh_from_db()
    assert (booking.status, booking.refund_due_kes) == ("expired", 0)
    assert "refund_due_on_lapse" not in actions(booking)
    mailoutbox.clear()
    post_callback(payment, failure_callback(payment, "stk_callback_cancelled_1032"))
    booking.refresh_from_db()
    assert (booking.status, booking.refund_due_kes) == ("expired", 250_000)
    assert actions(booking).count("refund_due_on_lapse") == 1
    assert [message.to for message in mailoutbox] == [["guest@example.com"]]


def test_a_payment_in_flight_at_the_lapse_that_lands_with_the_nights_free_confirms(
    instalment_paid, pending_payment, post_callback
):
    booking = instalment_paid()
    payment = second_instalment(pending_payment, booking)
    bookings_expire_all(now=later())
    post_callback(payment, success_callback(payment, receipt="UKB2INSTAL"))
    settle(payment)
    booking.refresh_from_db()
    assert (booking.status, booking.paid_kes, booking.refund_due_kes) == ("confirmed", 278_000, 0)
    assert "refund_due_on_lapse" not in actions(booking)


def test_a_payment_in_flight_at_the_lapse_that_lands_after_the_dates_were_taken_owes_everything_back(
    instalment_paid, pending_payment, post_callback, hold, make_user
):
    booking = instalment_paid()
    payment = second_instalment(pending_payment, booking)
    lapse_by_another_guests_hold(booking, hold, make_user)
    booking.refresh_from_db()
    assert (booking.status, booking.refund_due_kes) == ("expired", 0)
    post_callback(payment, success_callback(payment, receipt="UKB2INSTAL"))
    settle(payment)
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert (payment.flag, payment.refund_due_kes) == (Payment.Flag.DATES_TAKEN, REST_KES)
    assert (booking.status, booking.paid_kes, booking.refund_due_kes) == ("expired", 250_000, 278_000)


def test_a_middle_instalment_that_lands_after_the_hold_ran_out_is_owed_back_with_the_first(
    host, guest, hold, pending_payment, post_callback
):
    """A stay of 600,000 takes three instalments; the second lands after the hold ran out (nobody else lapsed it):
    it cannot complete the stay, so it is due back, and so is the first."""
    villa = make_listing(host, nightly_price_kes=100_000, cancellation_policy="moderate")
    booking = hold(guest, 20, 26, listing_obj=villa, now=timezone.now())
    first = pending_payment(booking=booking, amount=250_000)
    post_callback(first, success_callback(first, receipt="UKA1INSTAL"))
    settle(first)
    booking.refresh_from_db()
    second = pending_payment(booking=booking, amount=250_000)
    post_callback(second, success_callback(second, receipt="UKB2INSTAL"))
    Booking.objects.filter(pk=booking.pk).update(blocks_until=timezone.now() - datetime.timedelta(seconds=1))
    settle(second)
    booking.refresh_from_db()
    second.refresh_from_db()
    assert (second.flag, second.refund_due_kes) == (Payment.Flag.DATES_TAKEN, 250_000)
    assert (booking.status, booking.paid_kes, booking.refund_due_kes) == ("expired", 250_000, 500_000)
    assert actions(booking).count("refund_due_on_lapse") == 1


def test_a_later_confirmation_withdraws_the_refund_due_with_an_event(
    instalment_paid, pending_payment, post_callback, mailoutbox, django_capture_on_commit_callbacks
):
    booking = instalment_paid()
    payment = second_instalment(pending_payment, booking)
    post_callback(payment, failure_callback(payment, "stk_callback_timeout_1037"))  # the guest may pay again...
    bookings_expire_all(now=later())  # ...but the hold runs out first
    booking.refresh_from_db()
    assert (booking.status, booking.refund_due_kes) == ("expired", 250_000)
    # The phone had paid after all: a success callback, verified by the query, for the nights still free.
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(payment, success_callback(payment, receipt="UKB2INSTAL"))
        settle(payment)
    booking.refresh_from_db()
    assert (booking.status, booking.paid_kes, booking.refund_due_kes) == ("confirmed", 278_000, 0)
    withdrawn = booking.events.get(action="refund_due_withdrawn")
    assert withdrawn.details["withdrawn_kes"] == 250_000 and "KES 250,000" in withdrawn.message
    assert actions(booking)[-2:] == ["confirmed", "refund_due_withdrawn"]
    assert "guest@example.com" in {address for message in mailoutbox for address in message.to}


def test_money_refunded_after_a_lapse_is_not_kept_by_a_late_confirmation(
    instalment_paid, pending_payment, post_callback
):
    booking = instalment_paid()
    payment = second_instalment(pending_payment, booking)
    post_callback(payment, failure_callback(payment, "stk_callback_timeout_1037"))
    bookings_expire_all(now=later())
    booking.refresh_from_db()
    booking_record_refund(booking=booking, amount_kes=250_000, actor=None, details={"manual": "test"})
    post_callback(payment, success_callback(payment, receipt="UKB2INSTAL"))
    settle(payment)
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert (booking.status, booking.refunded_kes) == ("expired", 250_000)
    assert (payment.flag, payment.refund_due_kes, booking.refund_due_kes) == (
        Payment.Flag.DATES_TAKEN,
        REST_KES,
        REST_KES,
    )
