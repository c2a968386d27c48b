"""Settling a payment: asking M-Pesa with an STK Query (the verdict that counts) and what each verdict does to the
payment and its booking: failed, unknown, held for support, paid (mpesa.services.counting)."""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mpesa import client
from mpesa.client import DarajaError, StkQueryAnswer
from mpesa.ledger import ledger_decide, ledger_write
from mpesa.locks import payment_lock, payment_row_lock
from mpesa.models import Payment, PaymentEvent
from mpesa.services.counting import payment_succeed
from mpesa.services.status import payment_set_status, result_message
from mpesa.services.verdict import MISMATCH_FLAGS, _reported_problem
from reservations.models import Booking
from reservations.services import booking_hold_for_support, booking_payment_ended

Status = Payment.Status
Kind = PaymentEvent.Kind


def _seconds(seconds: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=seconds)


def _fail(payment: Payment, *, code: str, description: str, decision: str) -> None:
    payment_set_status(payment, Status.FAILED)
    payment.result_code = code[:20]
    payment.result_desc = description[:300]
    payment.error_message = result_message(code)
    payment.settled_at = timezone.now()
    payment.save(update_fields=["status", "result_code", "result_desc", "error_message", "settled_at", "updated_at"])
    ledger_decide(payment, decision)
    booking_payment_ended(
        booking=payment.booking,
        message=_("M-Pesa payment failed: {reason}").format(reason=payment.error_message),
        details={"payment_id": payment.pk, "result_code": code, "phone": payment.phone},
    )


def payment_verify(*, payment_id: int) -> Payment:
    """Confirm a success callback with an STK Query (an outbound call a forger cannot answer)."""
    payment = Payment.objects.get(pk=payment_id)
    if payment.status != Status.VERIFYING or not payment.checkout_request_id:
        return payment
    return _query_and_settle(payment)


def payment_query(*, payment: Payment) -> Payment:
    """Ask M-Pesa about a payment now, whatever its status and however recently it was asked (support's STK Query),
    and settle the answer through the same path as the panel's check. A payment without a CheckoutRequestID is
    returned as it is: only Transaction Status can find it."""
    if not payment.checkout_request_id:
        return payment
    return _query_and_settle(payment)


def payment_check(*, payment: Payment, now: datetime.datetime | None = None) -> Payment:
    """Ask M-Pesa about a payment still pending, at most once per MPESA_QUERY_EVERY_SECONDS (kept in the database)."""
    now = now or timezone.now()
    with transaction.atomic():
        payment = payment_row_lock(payment_id=payment.pk)
        if payment.status not in (Status.PENDING, Status.VERIFYING, Status.STARTING):
            return payment
        if (
            now - payment.created_at < _seconds(settings.MPESA_QUERY_AFTER_SECONDS)
            and payment.status != Status.VERIFYING
        ):
            return payment
        if payment.last_query_at and now - payment.last_query_at < _seconds(settings.MPESA_QUERY_EVERY_SECONDS):
            return payment
        payment.last_query_at = now
        payment.query_count += 1
        payment.save(update_fields=["last_query_at", "query_count", "updated_at"])
    if not payment.checkout_request_id:
        if now - payment.created_at > _seconds(settings.MPESA_QUERY_WINDOW_SECONDS):
            with transaction.atomic():
                payment = payment_lock(payment_id=payment.pk, booking_id=payment.booking_id).payment
                _mark_unknown(payment, "No answer to the push within the query window.")
        return payment
    return _query_and_settle(payment, now=now)


def _query_and_settle(payment: Payment, *, now: datetime.datetime | None = None) -> Payment:
    try:
        answer = client.daraja().stk_query(checkout_request_id=payment.checkout_request_id)
    except DarajaError as error:
        answer = StkQueryAnswer(final=False, result_desc=error.message, exchange=error.exchange)
    return payment_settle_query(payment_id=payment.pk, answer=answer, now=now)


@transaction.atomic
def payment_settle_query(*, payment_id: int, answer: StkQueryAnswer, now: datetime.datetime | None = None) -> Payment:
    """Apply an STK Query answer. Only a final answer decides; "still processing" never does."""
    now = now or timezone.now()
    payment = payment_lock(payment_id=payment_id).payment
    ledger_write(
        payment, Kind.QUERY, f"Query: {answer.result_code or 'no verdict'} {answer.result_desc}"[:500], answer.exchange
    )
    if payment.status not in (Status.PENDING, Status.VERIFYING, Status.STARTING, Status.UNKNOWN):
        return payment
    if not answer.final:
        if payment.status != Status.UNKNOWN and now - payment.created_at > _seconds(
            settings.MPESA_QUERY_WINDOW_SECONDS
        ):
            _mark_unknown(payment, "No verdict from M-Pesa within the query window.")
        return payment
    if answer.result_code != "0":
        if payment.status == Status.VERIFYING:
            payment.flag = Payment.Flag.CONTRADICTED
            payment.save(update_fields=["flag", "updated_at"])
        _fail(
            payment,
            code=answer.result_code,
            description=answer.result_desc,
            decision=f"M-Pesa's query says the payment did not go through ({answer.result_code}).",
        )
        return payment
    problem = _reported_problem(payment)
    if problem:
        _hold_for_support(payment, flag=problem[0], reason=problem[1])
        return payment
    message = "Verified by M-Pesa's query: paid."
    if payment.flag in MISMATCH_FLAGS:
        message += f" An earlier callback did not match the request ({payment.get_flag_display()}); kept on record."
    payment.result_desc = answer.result_desc[:300]
    payment_succeed(payment, now=now, decision=message, changed=["result_desc"], receipt=payment.receipt or "")
    return payment


def _hold_for_support(payment: Payment, *, flag: str, reason: str) -> None:
    """M-Pesa says paid but the callback did not match the request: unknown, flagged, and the booking keeps its nights
    until support decides. The caller holds the locks (listing, booking, payment)."""
    payment_set_status(payment, Status.UNKNOWN)
    payment.flag = flag
    payment.save(update_fields=["status", "flag", "updated_at"])
    ledger_decide(
        payment,
        f"M-Pesa's query says paid, but the callback did not match the request: {reason}. Marked unknown for "
        "support; the booking keeps its nights until support decides.",
    )
    booking_hold_for_support(
        booking=payment.booking,
        message=_("M-Pesa says a payment arrived that does not match the request; support will check."),
        details={"payment_id": payment.pk},
    )


def payment_release_nights(*, payment_id: int) -> None:
    """Support has decided about a payment that was held for them: its booking stops holding the nights without end
    and waits for payment again within a fresh hold. Nothing happens for any other payment."""
    with transaction.atomic():
        locked = payment_lock(payment_id=payment_id)
        booking, payment = locked.booking, locked.payment
        if payment.status != Status.UNKNOWN or booking.status != Booking.Status.AWAITING_PAYMENT:
            return
        if booking.blocks_until is not None:
            return
        ledger_decide(payment, "Support decided: the booking no longer holds its nights for this payment.")
        booking_payment_ended(
            booking=booking,
            message=_("Support checked the M-Pesa payment; the booking waits for payment again."),
            details={"payment_id": payment.pk},
        )


def _mark_unknown(payment: Payment, reason: str) -> None:
    payment_set_status(payment, Status.UNKNOWN)
    payment.save(update_fields=["status", "updated_at"])
    ledger_decide(payment, reason + " Marked unknown; support will check.")
    booking_payment_ended(
        booking=payment.booking,
        message=_("We could not yet confirm the M-Pesa payment; support will check."),
        details={"payment_id": payment.pk},
    )


def payments_reconcile(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Settle every pending or verifying payment through the same path as the panel's check."""
    now = now or timezone.now()
    checked = settled = 0
    for payment in Payment.objects.filter(status__in=[Status.STARTING, Status.PENDING, Status.VERIFYING]):
        after = payment_check(payment=payment, now=now)
        checked += 1
        settled += after.status not in Payment.IN_FLIGHT
    return {"checked": checked, "settled": settled}
