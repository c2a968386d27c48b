"""Reads of payments, scoped to who may see them."""

import datetime
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import User
from core.money import MPESA_MAX_PAYMENT_KES
from core.phone import kenyan_part, mask_phone
from core.prepared import execute
from core.rate_limits import rate_limit_window
from mpesa.models import Payment, Refund, StatusRequest
from reservations.models import Booking


def payment_for_callback_token(token: str) -> Payment | None:
    """The payment a callback URL's token names, compared in constant time; None for a token we do not know."""
    if "\x00" in token:
        return None
    payment = Payment.objects.filter(callback_token=token).first()
    if payment and hmac.compare_digest(payment.callback_token.encode(), token.encode()):
        return payment
    return None


def result_token_known(token: str) -> bool:
    """Whether a result URL's token names one of our Reversal or Transaction Status requests (constant-time)."""
    if "\x00" in token:
        return False
    for model in (Refund, StatusRequest):
        stored = model.objects.filter(result_token=token).values_list("result_token", flat=True).first()
        if stored and hmac.compare_digest(stored.encode(), token.encode()):
            return True
    return False


def push_limits(*, user, phone: str) -> list[tuple[str, int]]:
    """The counters that limit PIN prompts to a phone and from a user, with their limits (per push window)."""
    return [
        (f"push:phone:{phone}", settings.MPESA_PUSHES_PER_PHONE),
        (f"push:user:{user.pk}", settings.MPESA_PUSHES_PER_USER),
    ]


def next_push_at(*, user, phone: str, now: datetime.datetime) -> datetime.datetime | None:
    """When the next PIN prompt to this phone from this user may be sent, if a push limit is reached now."""
    window = settings.MPESA_PUSH_LIMIT_WINDOW_SECONDS
    ends = [
        window_end
        for key, limit in push_limits(user=user, phone=phone)
        for hits, window_end in [rate_limit_window(key=key, window_seconds=window, now=now)]
        if hits >= limit
    ]
    return max(ends) if ends else None


@dataclass(frozen=True)
class PaymentPanel:
    """The booking's payment state as the guest sees it: what is due, what is paid, what is in flight."""

    state: str  # ready, waiting_for_pin, verifying, confirmed, balance_due, failed, unknown, refund_due, closed
    message: str = ""
    paid_kes: int = 0
    due_kes: int = 0
    next_amount_kes: int = 0
    phone_masked: str = ""
    receipt: str = ""
    check_due: bool = False
    can_pay: bool = False
    can_send_code: bool = False
    payer_phone: str = ""  # the number the latest push went to: the form offers it again
    prompt_seconds_left: int = 0  # while waiting for the PIN: until the prompt on the phone expires
    prompt_expired: bool = False  # the last prompt went unanswered: the button sends it again
    next_push_at: datetime.datetime | None = None  # a push limit is reached: the next prompt can be sent then

    @property
    def prompt_clock(self) -> str:
        """The time left on the phone's prompt as the countdown shows it: 1:05."""
        minutes, seconds = divmod(self.prompt_seconds_left, 60)
        return f"{minutes}:{seconds:02d}"

    @property
    def polling(self) -> bool:
        return self.state in ("waiting_for_pin", "verifying")


# M-Pesa's results for a prompt that expired on the phone without an answer.
UNANSWERED = {"1037", "1019", "1036"}


def _check_due(payment: Payment, *, now: datetime.datetime, waited: bool = False) -> bool:
    """Whether the panel should ask M-Pesa now: pending long enough, and not asked too recently."""
    after = datetime.timedelta(seconds=settings.MPESA_QUERY_AFTER_SECONDS)
    every = datetime.timedelta(seconds=settings.MPESA_QUERY_EVERY_SECONDS)
    if not waited and now - payment.created_at < after:
        return False
    return payment.last_query_at is None or now - payment.last_query_at >= every


def payment_latest(*, booking: Booking) -> Payment | None:
    """The booking's most recent payment: the one the panel shows and a check or a guest's code applies to."""
    return Payment.objects.filter(booking=booking).order_by("-created_at", "-id").first()


def payment_get_for_booker(*, user, ref: str, payment_id: int) -> Payment:
    """A payment of the person's own booking; 404 for anyone else's, so that its existence is not confirmed."""
    return get_object_or_404(
        Payment.objects.select_related("booking"), booking__booker=user, booking__ref=ref, pk=payment_id
    )


def payment_check_due(*, payment: Payment, now: datetime.datetime | None = None) -> bool:
    """Whether asking M-Pesa about this payment now would be answered (the panel's check spacing)."""
    if payment.status not in (Payment.Status.STARTING, Payment.Status.PENDING, Payment.Status.VERIFYING):
        return False
    return _check_due(payment, now=now or timezone.now(), waited=payment.status == Payment.Status.VERIFYING)


def _panel_in_flight(
    *, booking_status: str, payment: "Payment | PaymentInFlight | None", base: dict, now: datetime.datetime
) -> PaymentPanel | None:
    """The panel while the latest payment is in flight (waiting for the PIN, verifying), the states that poll; None
    otherwise. A confirmed booking and a refund due come first, whatever the payment's status."""
    if payment is None or booking_status == Booking.Status.CONFIRMED or (payment.refund_due_kes and payment.flag):
        return None
    if payment.status in (Payment.Status.STARTING, Payment.Status.PENDING):
        left = settings.MPESA_PROMPT_SECONDS - (now - payment.created_at).total_seconds()
        return PaymentPanel(
            state="waiting_for_pin",
            check_due=_check_due(payment, now=now),
            prompt_seconds_left=max(0, int(left)),
            **base,
        )
    if payment.status == Payment.Status.VERIFYING:
        return PaymentPanel(state="verifying", check_due=_check_due(payment, now=now, waited=True), **base)
    return None


def _panel_base(*, total_kes: int, paid_kes: int, phone: str) -> dict:
    """What every state of the panel shows: paid, due, the next instalment, the number the latest push went to."""
    due = max(total_kes - paid_kes, 0)
    return {
        "paid_kes": paid_kes,
        "due_kes": due,
        "next_amount_kes": min(due, MPESA_MAX_PAYMENT_KES),
        "payer_phone": phone,
        "phone_masked": mask_phone(phone) if phone else "",
    }


def payment_panel(*, booking: Booking, now: datetime.datetime | None = None) -> PaymentPanel:
    """One query for the latest payment; everything else comes from the booking row."""
    now = now or timezone.now()
    payment = payment_latest(booking=booking)
    base = _panel_base(total_kes=booking.total_kes, paid_kes=booking.paid_kes, phone=payment.phone if payment else "")
    in_flight = _panel_in_flight(booking_status=booking.status, payment=payment, base=base, now=now)
    if in_flight is not None:
        return in_flight
    if booking.status == Booking.Status.CONFIRMED:
        receipts = [
            r for r in booking.payments.filter(status=Payment.Status.SUCCEEDED).values_list("receipt", flat=True) if r
        ]
        return PaymentPanel(state="confirmed", receipt=", ".join(receipts), **base)
    if payment and payment.refund_due_kes and payment.flag:
        return PaymentPanel(
            state="refund_due",
            message=_(
                "We received your payment, but the dates were no longer available. The money will be refunded to the "
                "number that paid; support has been told."
            ),
            **base,
        )
    # Before "closed": money may have been taken, so the guest keeps the way to send M-Pesa's code.
    if payment and payment.status == Payment.Status.UNKNOWN:
        return PaymentPanel(
            state="unknown",
            message=_(
                "We could not confirm this payment with M-Pesa yet. Support will check it. If M-Pesa sent you an SMS, "
                "type its 10-character code below."
            ),
            can_send_code=not payment.guest_code,
            **base,
        )
    if booking.status in (Booking.Status.EXPIRED, Booking.Status.CANCELLED) or not booking.holds_nights(now=now):
        return PaymentPanel(state="closed", message=_("This booking is no longer waiting for payment."), **base)
    phone = base["payer_phone"] or payer_default_phone(user=booking.booker)
    retry = {
        "can_pay": True,
        "prompt_expired": bool(
            payment and payment.status == Payment.Status.FAILED and payment.result_code in UNANSWERED
        ),
        "next_push_at": next_push_at(user=booking.booker, phone=phone, now=now) if phone else None,
    }
    if booking.paid_kes:
        failed = payment is not None and payment.status == Payment.Status.FAILED
        return PaymentPanel(state="balance_due", message=payment.error_message if failed else "", **retry, **base)
    if payment and payment.status == Payment.Status.FAILED:
        return PaymentPanel(state="failed", message=payment.error_message, **retry, **base)
    return PaymentPanel(state="ready", **retry, **base)


@dataclass(frozen=True)
class PaymentInFlight:
    """The latest payment as the polling panel reads it: a row of values, not a model instance."""

    status: str
    phone: str
    created_at: datetime.datetime
    last_query_at: datetime.datetime | None
    refund_due_kes: int
    flag: str


# The poll is asked for by every paying guest's browser every 2 s, so it reads what the panel shows in one statement
# of plain SQL (the booking's amounts and the latest payment, scoped to the booker). bench/poll.py --profile: the
# same row built by the ORM 0.58-0.73 ms of CPU, this statement with the panel built from it 0.07-0.13 ms; the whole
# poll in process 3.8 ms before (booking and payment read by the ORM, a pay form built), 1.5 ms after.
_PANEL_POLL_SQL = f"""
    SELECT b.status, b.total_kes, b.paid_kes,
           p.status, p.phone, p.created_at, p.last_query_at, p.refund_due_kes, p.flag
      FROM {Payment._meta.db_table} p
      JOIN {Booking._meta.db_table} b ON b.id = p.booking_id
     WHERE b.booker_id = %s AND b.ref = %s
     ORDER BY p.created_at DESC, p.id DESC
     LIMIT 1
"""


def _aware(value: datetime.datetime | None) -> datetime.datetime | None:
    """A timestamp from a raw row: PostgreSQL gives it with its zone, SQLite (`make run`) as naive UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=datetime.UTC)


def payment_panel_polling(*, user: User, ref: str, now: datetime.datetime | None = None) -> PaymentPanel | None:
    """The panel of the person's own booking while its latest payment is in flight (waiting for the PIN, verifying),
    in one query. None otherwise, and for a booking that is not theirs: the caller then reads the whole panel
    through booking_get_for_booker, which answers 404 to anyone but the booker."""
    with connection.cursor() as cursor:
        execute(cursor, _PANEL_POLL_SQL, [user.pk, ref])
        row = cursor.fetchone()
    if row is None:
        return None
    booking_status, total_kes, paid_kes, status, phone, created_at, last_query_at, refund_due_kes, flag = row
    payment = PaymentInFlight(
        status=status,
        phone=phone,
        created_at=_aware(created_at),
        last_query_at=_aware(last_query_at),
        refund_due_kes=refund_due_kes,
        flag=flag,
    )
    base = _panel_base(total_kes=total_kes, paid_kes=paid_kes, phone=phone)
    return _panel_in_flight(booking_status=booking_status, payment=payment, base=base, now=now or timezone.now())


def payer_default_phone(*, user: User) -> str:
    """The number the M-Pesa form offers: the last one the person paid with, else their verified mobile number when
    it is Kenyan (2547XXXXXXXX either way), else ""."""
    if user.mpesa_phone:
        return user.mpesa_phone
    return kenyan_part(user.phone) if user.phone_verified else ""
