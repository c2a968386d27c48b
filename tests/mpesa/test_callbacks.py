"""The callback matrix: whatever arrives, it is recorded raw, answered without a 500, and counted at most once.

M-Pesa's STK Query is the verdict; here it is given to the settle service directly as the client's parsed
answer (the client itself is tested against the wire vectors, and the browser journeys use the emulator).
"""

import datetime
import json

import pytest
import time_machine
from django.utils import timezone

from mpesa.client import DarajaError, StkQueryAnswer, new_token
from mpesa.models import Payment, PaymentEvent, StatusRequest
from mpesa.services import PaymentError, _push_failed, payment_check, payment_set_status, payment_settle_query
from reservations.models import Booking
from reservations.services import booking_cancel
from tests.helpers.payments import failure_callback, success_callback

pytestmark = pytest.mark.django_db

PAID = StkQueryAnswer(final=True, result_code="0", result_desc="The service request is processed successfully.")
ACK = {"ResultCode": 0, "ResultDesc": "Accepted"}


def query_says(payment: Payment, answer: StkQueryAnswer = PAID) -> Payment:
    return payment_settle_query(payment_id=payment.pk, answer=answer)


def refreshed(payment: Payment) -> tuple[Payment, Booking]:
    payment.refresh_from_db()
    return payment, Booking.objects.get(pk=payment.booking_id)


def test_success_is_verified_by_query_then_confirms_the_booking(pending_payment, post_callback):
    payment = pending_payment()
    response = post_callback(payment, success_callback(payment))
    assert response.status_code == 200 and response.json() == ACK
    payment, booking = refreshed(payment)
    assert payment.status == Payment.Status.VERIFYING  # the callback alone confirms nothing
    assert booking.status == Booking.Status.AWAITING_PAYMENT
    query_says(payment)
    payment, booking = refreshed(payment)
    assert (payment.status, payment.receipt) == (Payment.Status.SUCCEEDED, "UKK4H7TQ2M")
    assert booking.status == Booking.Status.CONFIRMED and booking.paid_kes == booking.total_kes
    event = payment.events.filter(kind="callback").get()
    assert (
        event.source_ip == "196.201.212.69"
        and {k.lower(): v for k, v in event.headers.items()}["businessshortcode"] == "174379"
    )
    assert '"MpesaReceiptNumber"' in event.raw_body


@pytest.mark.parametrize(
    ("vector_name", "code", "words"),
    [
        ("stk_callback_cancelled_1032", "1032", "You cancelled the request on your phone."),
        ("stk_callback_insufficient_1", "1", "Not enough M-Pesa balance"),
        ("stk_callback_timeout_1037", "1037", "Your phone did not answer"),
        ("stk_callback_timeout_1037_no_response", "1037", "Your phone did not answer"),
        ("stk_callback_wrong_pin_2001", "2001", "Wrong PIN"),
        ("stk_callback_subscriber_locked_1001", "1001", "already has an M-Pesa request open"),
        ("stk_callback_expired_1019", "1019", "expired"),
        ("stk_callback_push_error_1025", "1025", "could not send the prompt"),
        ("stk_callback_rule_limited_17", "17", "repeat of the same payment"),
        ("stk_callback_operator_not_exist_SFC_IC0003", "SFC_IC0003", "could not complete the payment"),
    ],
)
def test_each_failure_code_fails_the_payment_in_plain_words(pending_payment, post_callback, vector_name, code, words):
    payment = pending_payment()
    assert post_callback(payment, failure_callback(payment, vector_name)).status_code == 200
    payment, booking = refreshed(payment)
    assert (payment.status, payment.result_code) == (Payment.Status.FAILED, code)
    assert words in payment.error_message
    assert booking.status == Booking.Status.HELD  # the guest can try again within the hold


def test_duplicate_success_callbacks_count_once(pending_payment, post_callback):
    payment = pending_payment()
    body = success_callback(payment)
    post_callback(payment, body)
    query_says(payment)
    for _ in range(3):
        assert post_callback(payment, body).status_code == 200
    payment, booking = refreshed(payment)
    assert booking.paid_kes == booking.total_kes
    assert payment.events.filter(kind="callback").count() == 4
    assert booking.events.filter(action="confirmed").count() == 1
    assert payment.events.filter(kind="decision", message__startswith="Duplicate").count() == 3


def test_forged_success_for_a_cancelled_payment_confirms_nothing(pending_payment, post_callback):
    payment = pending_payment()
    post_callback(payment, success_callback(payment, receipt="FORGED1234"))
    query_says(payment, StkQueryAnswer(final=True, result_code="1032", result_desc="Request Cancelled by user."))
    payment, booking = refreshed(payment)
    assert (payment.status, payment.flag) == (Payment.Status.FAILED, Payment.Flag.CONTRADICTED)
    assert booking.status == Booking.Status.HELD and booking.paid_kes == 0


@pytest.mark.parametrize("amount", [4_499, 1, "4500.50"])
def test_amount_different_from_the_request_is_flagged(pending_payment, post_callback, amount):
    payment = pending_payment(amount=4_500)
    post_callback(payment, success_callback(payment, amount=amount))
    query_says(payment)
    payment, booking = refreshed(payment)
    assert payment.flag == Payment.Flag.AMOUNT_MISMATCH and payment.status == Payment.Status.UNKNOWN
    assert booking.paid_kes == 0 and booking.status != Booking.Status.CONFIRMED


def test_amount_as_a_decimal_string_is_accepted(pending_payment, post_callback, hold, guest):
    payment = pending_payment()
    post_callback(payment, success_callback(payment, amount=f"{payment.amount_kes}.00"))
    query_says(payment)
    payment, booking = refreshed(payment)
    assert payment.status == Payment.Status.SUCCEEDED and booking.status == Booking.Status.CONFIRMED


def test_phone_different_from_the_request_is_flagged(pending_payment, post_callback):
    payment = pending_payment()
    post_callback(payment, success_callback(payment, phone=254799999999))
    payment, booking = refreshed(payment)
    assert payment.flag == Payment.Flag.PHONE_MISMATCH and booking.paid_kes == 0


def test_late_success_after_the_hold_lapsed_with_the_nights_free_confirms(pending_payment, post_callback):
    payment = pending_payment()
    Booking.objects.filter(pk=payment.booking_id).update(blocks_until=timezone.now() - datetime.timedelta(seconds=1))
    post_callback(payment, success_callback(payment))
    query_says(payment)
    payment, booking = refreshed(payment)
    assert booking.status == Booking.Status.CONFIRMED
    assert list(booking.events.values_list("action", flat=True))[-3:] == ["expired", "payment_received", "confirmed"]


def test_late_success_after_the_nights_were_taken_becomes_a_refund_due(pending_payment, post_callback, hold, make_user):
    payment = pending_payment()
    Booking.objects.filter(pk=payment.booking_id).update(blocks_until=timezone.now() - datetime.timedelta(seconds=1))
    hold(make_user(email="quick@example.com"), 11, 12, now=timezone.now())
    post_callback(payment, success_callback(payment))
    query_says(payment)
    payment, booking = refreshed(payment)
    assert payment.flag == Payment.Flag.DATES_TAKEN and payment.refund_due_kes == payment.amount_kes
    assert booking.status == Booking.Status.EXPIRED and booking.refund_due_kes == payment.amount_kes


def test_success_on_a_cancelled_booking_is_overpaid(pending_payment, post_callback, guest):
    payment = pending_payment()
    booking = Booking.objects.get(pk=payment.booking_id)
    # The first payment failed; the guest cancelled; then a success for it arrives.
    post_callback(payment, failure_callback(payment, "stk_callback_cancelled_1032"))
    booking_cancel(booking=booking, user=guest)
    post_callback(payment, success_callback(payment))
    query_says(payment)
    payment, booking = refreshed(payment)
    assert payment.flag == Payment.Flag.OVERPAID and payment.refund_due_kes == payment.amount_kes
    assert booking.status == Booking.Status.CANCELLED and booking.paid_kes == 0


def test_verified_success_after_a_failure_still_counts(pending_payment, post_callback):
    payment = pending_payment()
    post_callback(payment, failure_callback(payment, "stk_callback_timeout_1037"))
    post_callback(payment, success_callback(payment))
    query_says(payment)
    payment, booking = refreshed(payment)
    assert payment.status == Payment.Status.SUCCEEDED and booking.status == Booking.Status.CONFIRMED


def test_unknown_token_is_recorded_and_changes_nothing(pending_payment, post_callback):
    payment = pending_payment()
    response = post_callback("0" * 32, success_callback(payment))
    assert response.status_code == 200 and response.json() == ACK
    event = PaymentEvent.objects.get(kind="unmatched")
    assert event.payment is None and event.path_token == "0" * 32
    payment, booking = refreshed(payment)
    assert payment.status == Payment.Status.PENDING and booking.paid_kes == 0


@pytest.mark.parametrize(
    "raw", [b"{not json", b"", b"[]", b'{"Body": {}}', b'{"Body": {"stkCallback": "x"}}', b"\xff\xfe"]
)
def test_malformed_bodies_are_recorded_and_change_nothing(pending_payment, post_callback, raw):
    payment = pending_payment()
    response = post_callback(payment, None, raw=raw)
    assert response.status_code == 200
    payment, booking = refreshed(payment)
    assert payment.status == Payment.Status.PENDING
    assert payment.events.filter(kind="callback").count() == 1
    assert payment.events.filter(kind="decision", message__startswith="Not an STK callback").count() == 1


def test_a_receipt_already_used_is_flagged_not_counted_twice(pending_payment, post_callback, hold, make_user):
    first = pending_payment()
    post_callback(first, success_callback(first, receipt="UKK4H7TQ2M"))
    query_says(first)
    other_booking = hold(make_user(email="b@example.com"), 20, 22)
    second = pending_payment(booking=other_booking)
    post_callback(second, success_callback(second, receipt="UKK4H7TQ2M"))
    query_says(second)
    second, booking = refreshed(second)
    assert second.flag == Payment.Flag.RECEIPT_REUSED and booking.paid_kes == 0


def test_callback_before_the_push_response_was_recorded(pending_payment, post_callback):
    payment = pending_payment()
    checkout_id = payment.checkout_request_id
    Payment.objects.filter(pk=payment.pk).update(checkout_request_id=None, status=Payment.Status.STARTING)
    payment.refresh_from_db()
    body = success_callback(payment)
    body["Body"]["stkCallback"]["CheckoutRequestID"] = checkout_id
    post_callback(payment, body)
    payment.refresh_from_db()
    assert payment.checkout_request_id == checkout_id and payment.status == Payment.Status.VERIFYING


def test_a_callback_naming_another_request_changes_nothing(pending_payment, post_callback):
    payment = pending_payment()
    body = success_callback(payment)
    body["Body"]["stkCallback"]["CheckoutRequestID"] = "ws_CO_someone_else"
    post_callback(payment, body)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


def test_callback_path_is_post_only_and_never_redirected(client, pending_payment):
    payment = pending_payment()
    assert client.get(f"/payments/stk-callback/{payment.callback_token}/").status_code == 405
    without_slash = client.post(
        f"/payments/stk-callback/{payment.callback_token}", data=b"{}", content_type="application/json"
    )
    assert without_slash.status_code == 200 and without_slash.json() == ACK


def test_callbacks_from_outside_the_allow_list_are_recorded_only(pending_payment, post_callback, settings):
    settings.MPESA_CALLBACK_ALLOWED_IPS = ["196.201.214.200"]
    payment = pending_payment()
    post_callback(payment, success_callback(payment), ip="203.0.113.9")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert payment.events.get(kind="callback").source_ip == "203.0.113.9"


def test_still_processing_answers_are_never_a_verdict(pending_payment):
    payment = pending_payment()
    query_says(payment, StkQueryAnswer(final=False, result_code="4999"))
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


def test_no_callback_and_a_successful_query_confirms(pending_payment):
    payment = pending_payment()
    query_says(payment)
    payment, booking = refreshed(payment)
    assert payment.status == Payment.Status.SUCCEEDED and payment.receipt is None
    assert booking.status == Booking.Status.CONFIRMED


def test_no_verdict_within_the_window_becomes_unknown(pending_payment, settings):
    payment = pending_payment()
    later = timezone.now() + datetime.timedelta(seconds=settings.MPESA_QUERY_WINDOW_SECONDS + 1)
    payment_settle_query(payment_id=payment.pk, answer=StkQueryAnswer(final=False), now=later)
    payment, booking = refreshed(payment)
    assert payment.status == Payment.Status.UNKNOWN and booking.status == Booking.Status.HELD


def test_checks_are_rate_limited_in_the_database(pending_payment, settings):
    payment = pending_payment()
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=1))
    now = timezone.now()
    payment_check(payment=payment, now=now)
    payment_check(payment=payment, now=now + datetime.timedelta(seconds=1))
    payment.refresh_from_db()
    assert payment.query_count == 1
    payment_check(payment=payment, now=now + datetime.timedelta(seconds=settings.MPESA_QUERY_EVERY_SECONDS + 1))
    payment.refresh_from_db()
    assert payment.query_count == 2


def test_a_success_callback_costs_a_fixed_number_of_queries(pending_payment, client, django_assert_num_queries):
    import json

    first = pending_payment(check_in=1, check_out=3)
    second = pending_payment(check_in=5, check_out=9)
    # Find the payment, record the body, then lock, check the receipt, update, decide, queue the verification
    # (a task): the same for any booking, and the booking and listing are not locked for a success.
    for payment in (first, second):
        with django_assert_num_queries(10):
            client.post(
                f"/payments/stk-callback/{payment.callback_token}/",
                data=json.dumps(success_callback(payment)).encode(),
                content_type="application/json",
            )


@pytest.mark.parametrize(
    "raw",
    [
        b'{"Body": {"stkCallback": {"ResultCode": 0, "CheckoutRequestID": "a\\u0000b"}}}',
        b"\x00\x00\x00",
        b'{"Body\x00": 1}',
        '{"ResultDesc": "\u0000"}'.encode(),
    ],
)
def test_nul_characters_are_recorded_without_a_500(pending_payment, post_callback, raw):
    payment = pending_payment()
    assert post_callback(payment, None, raw=raw).status_code == 200
    # No token we issue holds a NUL: such an address is not found, before any view.
    assert post_callback("bad\x00token", None, raw=raw).status_code == 404
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert "\x00" not in payment.events.get(kind="callback").raw_body


def test_payment_statuses_follow_the_transition_table(pending_payment, post_callback):
    # Each service move is in the table: pending -> verifying (success callback) -> succeeded (query).
    payment = pending_payment()
    post_callback(payment, success_callback(payment))
    payment.refresh_from_db()
    assert payment.status == Payment.Status.VERIFYING
    payment, _ = refreshed(query_says(payment))
    assert payment.status == Payment.Status.SUCCEEDED
    # Nothing leaves succeeded: a failure verdict that arrives afterwards changes nothing.
    payment_settle_query(payment_id=payment.pk, answer=StkQueryAnswer(final=True, result_code="1032"))
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    with pytest.raises(PaymentError, match="cannot go from Succeeded to Failed"):
        payment_set_status(payment, Payment.Status.FAILED)
    assert payment.status == Payment.Status.SUCCEEDED
    # Only a query or support decides success, so a payment never goes back to waiting for the PIN.
    assert all(
        Payment.Status.PENDING not in targets for status, targets in Payment.TRANSITIONS.items() if status != "starting"
    )
    assert set(Payment.TRANSITIONS) == set(Payment.Status)


@pytest.mark.parametrize("code", ["timeout", "500.001.1001"])
def test_a_push_error_after_m_pesa_answered_leaves_the_verdict_alone(pending_payment, post_callback, code):
    payment = pending_payment()
    post_callback(payment, success_callback(payment))
    payment, _ = refreshed(query_says(payment))
    assert payment.status == Payment.Status.SUCCEEDED
    _push_failed(payment_id=payment.pk, error=DarajaError("The push did not go through.", code=code))
    payment, booking = refreshed(payment)
    assert payment.status == Payment.Status.SUCCEEDED and booking.status == Booking.Status.CONFIRMED
    kinds = list(payment.events.order_by("-id").values_list("kind", flat=True)[:2])
    assert kinds == [PaymentEvent.Kind.DECISION, PaymentEvent.Kind.PUSH_ERROR]


def test_only_unknown_tokens_count_against_the_callback_limit_per_address(pending_payment, client, guest, settings):
    settings.MPESA_UNMATCHED_CALLBACKS_PER_IP = 30
    payment = pending_payment()
    request = StatusRequest.objects.create(
        payment=payment, requested_by=guest, receipt="UKK4H7TQ2M", result_token=new_token()
    )
    ip = "196.201.212.69"

    def post(path: str) -> int:
        return client.post(path, data=b'{"Result": {}}', content_type="application/json", REMOTE_ADDR=ip).status_code

    start = timezone.now().replace(minute=0, second=0, microsecond=0) + datetime.timedelta(hours=1)
    with time_machine.travel(start, tick=False):
        # Genuine results first: however many arrive, they are recorded and do not use up the address's allowance.
        assert [post(f"/payments/result/{request.result_token}/") for _ in range(31)] == [200] * 31
        assert [post(f"/payments/timeout/{'0' * 32}/") for _ in range(31)] == [200] * 30 + [429]
        assert post(f"/payments/result/{request.result_token}/") == 200
        stk = client.post(
            f"/payments/stk-callback/{payment.callback_token}/",
            data=json.dumps(success_callback(payment)).encode(),
            content_type="application/json",
            REMOTE_ADDR=ip,
        )
        assert stk.status_code == 200
    assert PaymentEvent.objects.filter(kind="result", path_token=request.result_token).count() == 32
    assert PaymentEvent.objects.filter(kind="result", path_token="0" * 32).count() == 30
    assert payment.events.filter(kind="callback").count() == 1
    # A fixed window: ten minutes after it began, the address may send again.
    with time_machine.travel(start + datetime.timedelta(minutes=10), tick=False):
        assert post(f"/payments/stk-callback/{'1' * 32}/") == 200


# -- A success callback that does not match the request --------------------------------------------------------------


def test_a_paid_query_after_a_mismatched_callback_keeps_the_nights_until_support_decides(
    pending_payment, post_callback, hold, make_user
):
    from mpesa.selectors import payment_panel
    from reservations.services import BookingError
    from support.selectors import attention_items
    from support.services import attention_resolve

    payment = pending_payment()
    post_callback(payment, success_callback(payment, amount=payment.amount_kes - 1))
    query_says(payment)
    payment, booking = refreshed(payment)
    assert (payment.status, payment.flag) == (Payment.Status.UNKNOWN, Payment.Flag.AMOUNT_MISMATCH)
    assert booking.status == Booking.Status.AWAITING_PAYMENT and booking.blocks_until is None
    assert not payment_panel(booking=booking).polling
    assert f"payment-{payment.pk}" in [item.key for item in attention_items().items]

    # Long after the hold would have run out, the nights are still the paying guest's.
    later = timezone.now() + datetime.timedelta(days=1)
    with pytest.raises(BookingError):
        hold(make_user(email="second@example.com"), 10, 13, now=later)

    attention_resolve(
        actor=make_user(email="lead@example.com"),
        kind="payment",
        object_id=payment.pk,
        note="Called the guest: the 1-shilling difference was a test; asked them to pay again",
        key="form-key-00000001",
    )
    payment, booking = refreshed(payment)
    assert booking.status == Booking.Status.HELD and booking.blocks_until > timezone.now()


def test_a_genuine_callback_after_a_mismatched_one_is_counted_once_a_query_verifies_it(pending_payment, post_callback):
    from mpesa.selectors import payment_panel

    payment = pending_payment()
    post_callback(payment, success_callback(payment, phone=254799999999, receipt="UKK4H7TQ2X"))
    post_callback(payment, success_callback(payment))
    payment, booking = refreshed(payment)
    assert payment.status == Payment.Status.VERIFYING and payment.receipt == "UKK4H7TQ2M"
    query_says(payment)
    payment, booking = refreshed(payment)
    assert payment.status == Payment.Status.SUCCEEDED and payment.counted_kes == payment.amount_kes
    assert booking.status == Booking.Status.CONFIRMED and not payment_panel(booking=booking).polling
    assert payment.flag == Payment.Flag.PHONE_MISMATCH  # the earlier callback stays on record
    assert payment.events.filter(message__contains="An earlier callback did not match the request").exists()


def test_a_mismatched_callback_the_query_calls_unpaid_releases_the_booking(pending_payment, post_callback):
    payment = pending_payment()
    post_callback(payment, success_callback(payment, amount=1))
    query_says(payment, StkQueryAnswer(final=True, result_code="1032", result_desc="Request Cancelled by user."))
    payment, booking = refreshed(payment)
    assert payment.status == Payment.Status.FAILED and booking.status == Booking.Status.HELD
    assert booking.blocks_until is not None


def test_a_success_callback_queues_the_verifying_query_and_a_failure_queues_none(
    pending_payment, post_callback, monkeypatch
):
    asked = []

    class Daraja:
        def stk_query(self, *, checkout_request_id):
            asked.append(checkout_request_id)
            return PAID

    monkeypatch.setattr("mpesa.client.daraja", Daraja)
    failed = pending_payment(check_in=20, check_out=23)
    post_callback(failed, failure_callback(failed, "stk_callback_cancelled_1032"))
    assert asked == []
    payment = pending_payment()
    post_callback(payment, success_callback(payment))
    payment, booking = refreshed(payment)
    assert asked == [payment.checkout_request_id]  # run by the task queue once the callback's work committed
    assert payment.status == Payment.Status.SUCCEEDED and booking.status == Booking.Status.CONFIRMED
