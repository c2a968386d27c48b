"""Payments end to end over real HTTP: our client pushes to the emulator served by the live server, the
emulator calls our callback endpoint back, and queries settle what callbacks do not."""

import gc
import threading

import pytest
from django.core import mail
from django.db import connection

from daraja_emulator import dispatcher
from daraja_emulator.models import ApiCall
from mpesa.models import Payment
from mpesa.services import PaymentError, payment_check, payment_start, payments_reconcile
from reservations.models import Booking
from tests.daraja import emulator_idle, use_emulator
from tests.helpers.bookings import booking_for
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _emulated_daraja(settings, live_server):
    use_emulator(
        settings,
        live_server,
        MPESA_QUERY_AFTER_SECONDS=0,
        MPESA_QUERY_EVERY_SECONDS=0,
        MPESA_PUSHES_PER_PHONE=100,
    )
    yield
    dispatcher.stop()


def status_of(booking) -> str:
    return Booking.objects.get(pk=booking.pk).status


def test_a_payment_confirms_the_booking_through_the_callback(people, make_user):
    from reservations.services import GuestData

    guest, host = people
    friend = make_user(email="friend@example.com", full_name="Friend Two")
    booking = booking_for(
        guest,
        host,
        guests=[
            GuestData(full_name=guest.full_name, email=guest.email),
            GuestData(full_name=friend.full_name, email=friend.email),
        ],
    )
    payment = payment_start(booking=booking, user=guest, phone="0700 000 001")
    assert payment.status == Payment.Status.PENDING and payment.checkout_request_id.startswith("ws_CO_")
    wait_for(lambda: status_of(booking) == Booking.Status.CONFIRMED)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and payment.receipt
    kinds = list(payment.events.values_list("kind", flat=True))
    assert kinds[0] == "push_response" and "callback" in kinds and "query" in kinds
    expected = {"wanjiku@example.com", "friend@example.com", "host@example.com"}
    wait_for(lambda: expected <= {m.to[0] for m in mail.outbox if booking.ref in m.subject})


def test_a_cancelled_prompt_fails_in_plain_words_and_a_retry_works(people):
    guest, host = people
    booking = booking_for(guest, host)
    first = payment_start(booking=booking, user=guest, phone="254700000003")
    wait_for(lambda: Payment.objects.get(pk=first.pk).status == Payment.Status.FAILED)
    first.refresh_from_db()
    assert first.result_code == "1032" and first.error_message == "You cancelled the request on your phone."
    assert status_of(booking) == Booking.Status.HELD
    payment_start(booking=booking, user=guest, phone="254700000001")
    wait_for(lambda: status_of(booking) == Booking.Status.CONFIRMED)


def test_a_second_push_while_one_is_in_flight_is_refused(people):
    guest, host = people
    booking = booking_for(guest, host)
    payment_start(booking=booking, user=guest, phone="254708374149")  # waits for the virtual phone
    with pytest.raises(PaymentError, match="already in progress"):
        payment_start(booking=booking, user=guest, phone="254708374149")


def test_no_callback_ever_sent_is_settled_by_the_query(people):
    guest, host = people
    booking = booking_for(guest, host)
    payment = payment_start(booking=booking, user=guest, phone="254700000005")
    wait_for(emulator_idle)  # the push has settled and the emulator has sent all it was going to
    assert payment.events.filter(kind="callback").count() == 0
    wait_for(lambda: payments_reconcile() and status_of(booking) == Booking.Status.CONFIRMED)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and payment.receipt is None


def test_a_late_callback_fills_in_the_receipt_after_the_query_confirmed(people):
    guest, host = people
    booking = booking_for(guest, host)
    payment = payment_start(booking=booking, user=guest, phone="254700000007")
    wait_for(lambda: payment_check(payment=payment).status == Payment.Status.SUCCEEDED)
    assert status_of(booking) == Booking.Status.CONFIRMED
    assert Payment.objects.get(pk=payment.pk).receipt is None
    wait_for(lambda: Payment.objects.get(pk=payment.pk).receipt, timeout=20)
    assert Booking.objects.get(pk=booking.pk).paid_kes == booking.total_kes
    assert Booking.objects.get(pk=booking.pk).events.filter(action="confirmed").count() == 1


def test_three_deliveries_of_one_callback_count_once(people):
    guest, host = people
    booking = booking_for(guest, host)
    payment = payment_start(booking=booking, user=guest, phone="254700000006")
    wait_for(lambda: payment.events.filter(kind="callback").count() == 3)
    wait_for(lambda: status_of(booking) == Booking.Status.CONFIRMED)
    assert Booking.objects.get(pk=booking.pk).paid_kes == booking.total_kes


def test_a_total_above_the_mpesa_limit_is_paid_in_two_instalments(people):
    guest, host = people
    booking = booking_for(guest, host, nightly=100_000, nights=3)
    assert booking.total_kes == 300_000
    first = payment_start(booking=booking, user=guest, phone="254700000001")
    assert first.amount_kes == 250_000
    wait_for(lambda: Booking.objects.get(pk=booking.pk).paid_kes == 250_000)
    assert status_of(booking) == Booking.Status.HELD
    second = payment_start(booking=Booking.objects.get(pk=booking.pk), user=guest, phone="254700000001")
    assert second.amount_kes == 50_000
    wait_for(lambda: status_of(booking) == Booking.Status.CONFIRMED)
    assert Booking.objects.get(pk=booking.pk).paid_kes == 300_000


@pytest.mark.parametrize(
    ("phone", "words"), [("0712", "Kenyan mobile number"), ("+44 7911 123456", "Kenyan mobile number")]
)
def test_a_bad_number_is_refused_before_anything_is_sent(people, phone, words):
    guest, host = people
    booking = booking_for(guest, host)
    with pytest.raises(PaymentError, match=words):
        payment_start(booking=booking, user=guest, phone=phone)
    assert not Payment.objects.exists() and status_of(booking) == Booking.Status.HELD


LIMIT_MESSAGE = "Too many payment requests. Please wait a few minutes and try again."


@pytest.mark.postgres
def test_eight_bookings_pushing_to_one_number_at_once_admit_exactly_the_phone_limit(make_user, settings):
    settings.MPESA_PUSHES_PER_PHONE = 3
    host = make_user(email="host@example.com", full_name="Otieno Host")
    guests = [make_user(email=f"payer{i}@example.com", full_name=f"Payer {i}") for i in range(8)]
    bookings = [booking_for(guest, host) for guest in guests]
    barrier = threading.Barrier(len(bookings))
    outcomes: list = [None] * len(bookings)

    def push(i: int) -> None:
        try:
            barrier.wait()
            outcomes[i] = payment_start(booking=bookings[i], user=guests[i], phone="254700000001")
        except Exception as error:  # judged below
            outcomes[i] = f"{type(error).__name__}: {error}"
        finally:
            connection.close()

    threads = [threading.Thread(target=push, args=(i,)) for i in range(len(bookings))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Refused pushes leave their HTTP sessions in reference cycles: closed now, the live server's threads end and
    # hold no database connection past the test.
    gc.collect()

    limited = [o for o in outcomes if o == f"PaymentError: {LIMIT_MESSAGE}"]
    assert len(limited) == 5, outcomes
    assert Payment.objects.filter(phone="254700000001").count() == 3
    pushes = ApiCall.objects.filter(method="POST", path__endswith="/mpesa/stkpush/v1/processrequest")
    assert pushes.count() == 3
