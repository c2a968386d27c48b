"""A booking's money: a payment started, ended or held for support, counted (confirming a paid booking), and
refunds due and made. mpesa calls these under its locks (mpesa.locks); booking_confirm takes its own."""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import User
from core.money import format_kes
from reservations.models import Booking, BookingEvent
from reservations.selectors import (
    bookings_overlapping,
)
from reservations.services.holds import hold_duration
from reservations.services.lapses import _refund_lapsed, _withdraw_lapse_refund, bookings_lapse
from reservations.services.locks import booking_lock
from reservations.services.nights import booked_nights_sync, keeps_nights_for_good
from reservations.services.transitions import (
    BookingError,
    _is_exclusion_violation,
    _move,
    _notify,
    _record,
)

Status = Booking.Status
Actor = BookingEvent.Actor


@transaction.atomic
def booking_confirm(*, booking_id: int, details: dict | None = None, now: datetime.datetime | None = None) -> Booking:
    """Confirm a paid booking: event, blocks_until cleared, e-mails to every guest and the host queued in the outbox
    (sent once this commits). Idempotent.

    Raises BookingError when the nights were taken meanwhile (a late payment): the caller records a refund due.
    """
    now = now or timezone.now()
    booking = booking_lock(booking_id=booking_id)
    if booking.status == Status.CONFIRMED:
        return booking
    # A hold that lapsed before the money came is expired first, so that its history says so.
    if bookings_lapse(listing=booking.listing, now=now):
        booking.refresh_from_db()
    return _confirm(booking, details=details, now=now)


def _confirm(booking: Booking, *, details: dict | None, now: datetime.datetime) -> Booking:
    """Confirm a paid booking. The caller holds the locks and has expired a hold that lapsed (bookings_lapse).

    Raises BookingError when the nights were taken meanwhile (a late payment)."""
    if booking.status == Status.CONFIRMED:
        return booking
    if booking.status == Status.EXPIRED and _nights_taken_by_others(booking, now=now):
        raise BookingError(_("The payment arrived after these dates were taken by another booking."))
    was_expired = booking.status == Status.EXPIRED
    try:
        with transaction.atomic():
            booking = _move(
                booking,
                Status.CONFIRMED,
                action="confirmed",
                message=_("Paid and confirmed."),
                actor_kind=Actor.MPESA,
                details=details,
                blocks_until=None,
                confirmed_at=now,
            )
    except IntegrityError as error:
        if _is_exclusion_violation(error):
            raise BookingError(_("The payment arrived after these dates were taken by another booking."))
        raise
    if was_expired:
        booking = _withdraw_lapse_refund(booking, details=details)
    _notify(booking, kind="booking_confirmed", event=booking.events.filter(action="confirmed").order_by("-pk").first())
    return booking


@transaction.atomic
def booking_payment_started(*, booking: Booking, blocks_until: datetime.datetime, details: dict) -> Booking:
    """A payment prompt is on its way: the nights stay held at least until `blocks_until`. Caller holds the locks."""
    if booking.status != Status.HELD:
        raise BookingError(_("This booking is not waiting for a payment."))
    return _move(
        booking,
        Status.AWAITING_PAYMENT,
        action="payment_started",
        message=_("M-Pesa payment of {amount} requested.").format(amount=format_kes(details.get("amount_kes", 0))),
        actor_kind=Actor.USER,
        actor=booking.booker,
        details=details,
        blocks_until=max(booking.blocks_until or blocks_until, blocks_until),
    )


@transaction.atomic
def booking_payment_ended(*, booking: Booking, message: str, details: dict) -> Booking:
    """No money came (failed or unknown): the booking waits for payment again, within its hold (a fresh one when it
    was held for support). A booking that lapsed meanwhile now owes back what was paid before. Caller holds the locks
    and has saved the payment's verdict."""
    if booking.status == Status.EXPIRED:
        return _refund_lapsed(booking)
    if booking.status != Status.AWAITING_PAYMENT:
        return booking
    fields = {"blocks_until": timezone.now() + hold_duration()} if booking.blocks_until is None else {}
    booking = _move(
        booking, Status.HELD, action="payment_ended", message=message, actor_kind=Actor.MPESA, details=details, **fields
    )
    if details.get("result_code"):  # M-Pesa said no: the booker hears why and how to try again
        _notify(booking, kind="payment_failed")
    return booking


@transaction.atomic
def booking_hold_for_support(*, booking: Booking, message: str, details: dict) -> Booking:
    """M-Pesa says money came but it does not match the request: the nights stay held, with no end, until support
    decides (booking_payment_ended releases them, a counted payment confirms). Caller holds the locks. A hold that
    has already run out is left to the late-payment rules."""
    if booking.status not in Booking.UNPAID or not booking.holds_nights(now=timezone.now()):
        return booking
    if booking.status == Status.HELD:
        return _move(
            booking,
            Status.AWAITING_PAYMENT,
            action="held_for_support",
            message=message,
            actor_kind=Actor.MPESA,
            details=details,
            blocks_until=None,
        )
    kept_before = keeps_nights_for_good(booking)
    booking.blocks_until = None
    booking.save(update_fields=["blocks_until", "updated_at"])
    booked_nights_sync(booking, kept_before=kept_before)
    _record(booking, action="held_for_support", message=message, actor_kind=Actor.MPESA, details=details)
    return booking


@transaction.atomic
def booking_record_payment(
    *, booking: Booking, amount_kes: int, details: dict, now: datetime.datetime | None = None
) -> Booking:
    """Count a verified payment exactly once per call: confirm when the total is covered, else extend the hold.

    Caller holds the locks. Raises BookingError when the nights were taken meanwhile (the money is then due back).
    """
    now = now or timezone.now()
    # A hold that lapsed before the money came is expired first, so that its history says so.
    if bookings_lapse(listing=booking.listing, now=now):
        booking.refresh_from_db()
    if booking.status == Status.EXPIRED and booking.paid_kes - booking.refunded_kes + amount_kes < booking.total_kes:
        raise BookingError(_("The hold ran out before this instalment arrived."))
    booking.paid_kes += amount_kes
    booking.save(update_fields=["paid_kes", "updated_at"])
    _record(
        booking,
        action="payment_received",
        message=_("{amount} received by M-Pesa.").format(amount=format_kes(amount_kes)),
        actor_kind=Actor.MPESA,
        details={**details, "amount_kes": amount_kes, "paid_kes": booking.paid_kes},
    )
    if booking.status == Status.HELD:
        booking = _move(
            booking,
            Status.AWAITING_PAYMENT,
            action="payment_started",
            message=_("A payment arrived for this booking."),
            actor_kind=Actor.MPESA,
            details=details,
        )
    if booking.paid_kes >= booking.total_kes:
        return _confirm(booking, details=details, now=now)
    # An instalment: the rest can be paid within a fresh hold.
    booking = _move(
        booking,
        Status.HELD,
        action="instalment_paid",
        message=_("{paid} paid, {due} still to pay.").format(
            paid=format_kes(booking.paid_kes), due=format_kes(booking.total_kes - booking.paid_kes)
        ),
        actor_kind=Actor.MPESA,
        details=details,
        blocks_until=max(booking.blocks_until or now, now) + hold_duration(),
    )
    _notify(booking, kind="instalment_due")
    return booking


@transaction.atomic
def booking_record_refund_due(
    *, booking: Booking, amount_kes: int, reason: str, details: dict, now: datetime.datetime | None = None
) -> Booking:
    """Money arrived that the booking cannot keep (overpaid, dates taken): record it as due back to the payer.

    Caller holds the locks. A hold that ran out is expired here for good (the payment's own refund due is already
    saved): what was paid before this payment is then due back too."""
    if booking.status in Booking.UNPAID and bookings_lapse(listing=booking.listing, now=now or timezone.now()):
        booking.refresh_from_db()
    booking = _refund_lapsed(booking)
    booking.refund_due_kes += amount_kes
    booking.save(update_fields=["refund_due_kes", "updated_at"])
    event = _record(
        booking,
        action="refund_due",
        message=_("{amount} is due back to the payer: {reason}").format(amount=format_kes(amount_kes), reason=reason),
        actor_kind=Actor.MPESA,
        details={**details, "refund_due_kes": amount_kes, "reason": reason},
    )
    _notify(booking, kind="refund_due", event=event)
    return booking


@transaction.atomic
def booking_record_refund(*, booking: Booking, amount_kes: int, actor: User | None, details: dict) -> Booking:
    """Money went back to the payer: refunded grows, the refund due shrinks by as much (never below zero).

    Caller holds the locks. Called only when M-Pesa's result (or a recorded manual transfer) says it happened.
    """
    booking.refunded_kes += amount_kes
    booking.refund_due_kes = max(booking.refund_due_kes - amount_kes, 0)
    booking.save(update_fields=["refunded_kes", "refund_due_kes", "updated_at"])
    event = _record(
        booking,
        action="refunded",
        message=_("{amount} refunded to the payer.").format(amount=format_kes(amount_kes)),
        actor_kind=Actor.SUPPORT,
        actor=actor,
        details={**details, "amount_kes": amount_kes, "refunded_kes": booking.refunded_kes},
    )
    _notify(booking, kind="refunded", event=event)
    return booking


def _nights_taken_by_others(booking: Booking, *, now: datetime.datetime) -> bool:
    return (
        bookings_overlapping(start=booking.check_in, end=booking.check_out, now=now)
        .filter(listing_id=booking.listing_id)
        .exclude(pk=booking.pk)
        .exists()
    )
