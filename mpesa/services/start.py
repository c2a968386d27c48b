"""Starting a payment: the STK Push. The payment row is committed before Daraja is called, and the answer is
recorded in a new transaction, outside any transaction that holds a lock."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import User
from core.money import MPESA_MAX_PAYMENT_KES
from core.phone import normalise_phone
from core.rate_limits import rate_limit_increment, rate_limit_window_left
from mpesa import client
from mpesa.client import DarajaError, new_token
from mpesa.ledger import ledger_decide, ledger_write
from mpesa.locks import payment_lock, payments_in_flight_lock
from mpesa.models import Payment, PaymentEvent
from mpesa.search_text import booking_search_texts
from mpesa.selectors import push_limits
from mpesa.services.status import PaymentError, payment_set_status
from reservations.models import Booking
from reservations.services import (
    booking_lock,
    booking_payment_ended,
    booking_payment_started,
)

Status = Payment.Status
Kind = PaymentEvent.Kind


def callback_url(token: str) -> str:
    base = settings.MPESA_CALLBACK_BASE_URL.rstrip("/")
    return base + reverse("mpesa:stk-callback", kwargs={"token": token})


def _check_push_limits(*, user: User, phone: str, ip: str | None) -> None:
    """Nobody can flood a phone with PIN prompts. Call inside the transaction that saves the payment: the counts
    roll back with a refusal, so they count pushes admitted, and racing pushes queue on the counters' rows."""
    limits = push_limits(user=user, phone=phone)
    if ip:
        limits.append((f"push:ip:{ip}", settings.MPESA_PUSHES_PER_IP))
    window = settings.MPESA_PUSH_LIMIT_WINDOW_SECONDS
    for key, limit in limits:  # always in this order, so that two pushes never wait for each other's counters
        if rate_limit_increment(key=key, window_seconds=window) > limit:
            raise PaymentError(
                _("Too many payment requests. Please wait a few minutes and try again."),
                code="limit",
                retry_after=rate_limit_window_left(window_seconds=window),
            )


def payment_start(*, booking: Booking, user: User, phone: str, ip: str | None = None) -> Payment:
    """Send an STK push for the booking's next amount due. Raises PaymentError with a sentence to show.

    The payment row is committed before Daraja is called, and the answer is recorded in a new transaction.
    """
    try:
        phone = normalise_phone(phone)
    except ValidationError as error:
        raise PaymentError(error.messages[0], code="invalid_phone")
    now = timezone.now()
    with transaction.atomic():
        booking = booking_lock(booking_id=booking.pk)
        if booking.booker_id != user.pk:
            raise PaymentError(_("Only the person who made the booking can pay for it."), code="not_allowed")
        if payments_in_flight_lock(booking=booking):
            raise PaymentError(
                _("A payment is already in progress for this booking. Check your phone."), code="payment_in_progress"
            )
        if booking.status != Booking.Status.HELD or not booking.holds_nights(now=now):
            raise PaymentError(_("This booking is no longer waiting for payment."), code="not_awaiting_payment")
        amount = min(booking.balance_due_kes, MPESA_MAX_PAYMENT_KES)
        if amount < 1:
            raise PaymentError(_("Nothing is left to pay on this booking."), code="nothing_due")
        _check_push_limits(user=user, phone=phone, ip=ip)
        payment = Payment.objects.create(
            booking=booking,
            initiated_by=user,
            callback_token=new_token(),
            phone=phone,
            amount_kes=amount,
            search_text=booking_search_texts(booking_ids=[booking.pk]).get(booking.pk, ""),
        )
        hold_for = datetime.timedelta(seconds=settings.MPESA_PROMPT_SECONDS + settings.MPESA_PAYMENT_GRACE_SECONDS)
        blocks_until = now + hold_for
        booking_payment_started(
            booking=booking, blocks_until=blocks_until, details={"payment_id": payment.pk, "amount_kes": amount}
        )
    try:
        accepted = client.daraja().stk_push(
            amount_kes=amount,
            phone=phone,
            callback_url=callback_url(payment.callback_token),
            account_reference=booking.ref.replace("-", ""),
            description=f"Booking {booking.ref[-6:]}",
        )
    except DarajaError as error:
        _push_failed(payment_id=payment.pk, error=error)
        raise PaymentError(error.message, code="mpesa_refused")
    with transaction.atomic():
        payment = payment_lock(payment_id=payment.pk, booking_id=booking.pk).payment
        ledger_write(payment, Kind.PUSH_RESPONSE, "M-Pesa accepted the request.", accepted.exchange)
        payment.merchant_request_id = accepted.merchant_request_id
        payment.checkout_request_id = payment.checkout_request_id or accepted.checkout_request_id
        payment.push_answered_at = timezone.now()
        fields = ["merchant_request_id", "checkout_request_id", "push_answered_at", "updated_at"]
        if payment.status == Status.STARTING:  # a callback may already have answered
            payment_set_status(payment, Status.PENDING)
            fields.append("status")
        payment.save(update_fields=fields)
    return payment


def _push_failed(*, payment_id: int, error: DarajaError) -> None:
    with transaction.atomic():
        locked = payment_lock(payment_id=payment_id)
        booking, payment = locked.booking, locked.payment
        ledger_write(payment, Kind.PUSH_ERROR, f"{error.code}: {error.message}", error.exchange)
        if payment.status not in (Status.STARTING, Status.PENDING):
            # The push reached the phone after all: a callback (and maybe a query) has decided since.
            ledger_decide(
                payment, f"Push error ({error.code}) after M-Pesa had answered: the payment stays {payment.status}."
            )
            return
        # A push that timed out may still have reached the phone: only a person can tell.
        payment_set_status(payment, Status.UNKNOWN if error.code == "timeout" else Status.FAILED)
        payment.result_code = error.code[:20]
        payment.error_message = error.message[:300]
        payment.settled_at = timezone.now()
        payment.save(update_fields=["status", "result_code", "error_message", "settled_at", "updated_at"])
        booking_payment_ended(
            booking=booking, message=_("The payment request did not go through."), details={"payment_id": payment.pk}
        )
