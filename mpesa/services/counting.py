"""Counting a verified payment towards its booking, exactly once: the one way a payment is marked paid."""

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from core.money import format_kes
from core.services import user_remember_mpesa_phone
from mpesa.ledger import ledger_decide
from mpesa.models import Payment
from mpesa.services.status import payment_set_status
from reservations.models import Booking
from reservations.services import BookingError, booking_record_payment, booking_record_refund_due

Status = Payment.Status


def payment_succeed(
    payment: Payment, *, now: datetime.datetime, decision: str, changed: Iterable[str] = (), **details
) -> None:
    """M-Pesa's verdict says paid (an STK Query, a Transaction Status): the one way a payment is marked succeeded
    (result code 0, settled now), the decision put on the ledger, and the payment counted towards its booking.
    `changed` names other fields the caller set on the payment, saved with it. The caller holds payment_lock and
    has checked the verdict (verdict_problem)."""
    payment_set_status(payment, Status.SUCCEEDED)
    payment.result_code = "0"
    payment.settled_at = now
    payment.save(update_fields=[*changed, "status", "result_code", "settled_at", "updated_at"])
    ledger_decide(payment, decision, **details)
    payment_count_verified(payment, now=now)


def payment_count_verified(payment: Payment, *, now: datetime.datetime) -> None:
    """Add a verified payment to its booking exactly once; money the booking cannot keep becomes a refund due.

    The caller holds payment_lock (the payment's booking is the locked row) and has marked the payment succeeded."""
    if payment.counted_kes or payment.refund_due_kes:
        return
    booking = payment.booking
    # The number that paid is the booker's number from now on: their messages about this payment go to it.
    user_remember_mpesa_phone(user=booking.booker, phone=payment.phone)
    details = {"payment_id": payment.pk, "receipt": payment.receipt or ""}
    if booking.status in (Booking.Status.CONFIRMED, Booking.Status.CANCELLED) or booking.balance_due_kes == 0:
        _refund_due(payment, booking, Payment.Flag.OVERPAID, _("paid after the booking was settled"), details)
        return
    try:
        with transaction.atomic():
            booking_record_payment(booking=booking, amount_kes=payment.amount_kes, details=details, now=now)
            payment.counted_kes = payment.amount_kes
            payment.save(update_fields=["counted_kes", "updated_at"])
    except BookingError as error:
        # The savepoint rolled back what was counted: read the booking again.
        booking = payment.booking = Booking.objects.get(pk=booking.pk)
        _refund_due(payment, booking, Payment.Flag.DATES_TAKEN, str(error), details)
        return
    ledger_decide(payment, f"Counted {format_kes(payment.amount_kes)} towards booking {booking.ref}.")


def _refund_due(payment: Payment, booking: Booking, flag: str, reason: str, details: dict) -> None:
    payment.flag = flag
    payment.refund_due_kes = payment.amount_kes
    payment.save(update_fields=["flag", "refund_due_kes", "updated_at"])
    booking_record_refund_due(booking=booking, amount_kes=payment.amount_kes, reason=reason, details=details)
    ledger_decide(payment, f"Not counted: {reason}. Refund of {format_kes(payment.amount_kes)} due.")
