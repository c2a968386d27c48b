"""Cancelling a booking, by its booker or by the host: the nights go free and what is owed back is recorded as due."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import User
from core.money import format_kes
from reservations.models import Booking, BookingEvent
from reservations.selectors import (
    booking_cancel_refusal,
    booking_host_cancel_refund_kes,
    booking_host_cancel_refusal,
    booking_refund_due_on_cancel,
)
from reservations.services.locks import _lock
from reservations.services.transitions import BookingError, _move, _notify

Status = Booking.Status
Actor = BookingEvent.Actor


@transaction.atomic
def booking_cancel(*, booking: Booking, user: User, reason: str = "", now: datetime.datetime | None = None) -> Booking:
    """The booker cancels: a hold frees its nights; money paid (a confirmed stay, an instalment) is owed back as the
    frozen policy says, recorded as the refund due. Raises BookingError."""
    now = now or timezone.now()
    booking = _lock(booking)
    if booking.booker_id == user.pk and booking.status == Status.CANCELLED:
        return booking
    refusal = booking_cancel_refusal(booking=booking, user=user, now=now)
    if refusal:
        raise BookingError(refusal, code="cannot_cancel")
    if booking.status == Status.HELD and not booking.paid_kes:
        return _move(
            booking,
            Status.CANCELLED,
            action="cancelled",
            message=_("Cancelled by the guest before payment; the dates are free again."),
            actor_kind=Actor.USER,
            actor=user,
            blocks_until=now,
            cancelled_at=now,
            cancel_reason=reason[:500],
        )
    # A confirmed stay, or a hold with an instalment paid: the frozen policy, applied to the whole stay, decides
    # what comes back, never more than was paid. A hold also frees its nights at once.
    refund_due = booking_refund_due_on_cancel(booking=booking, now=now)
    instalment_hold = booking.status == Status.HELD
    booking = _move(
        booking,
        Status.CANCELLED,
        action="cancelled",
        message=_("Cancelled by the guest; refund due {amount}.").format(amount=format_kes(refund_due)),
        actor_kind=Actor.USER,
        actor=user,
        details={"refund_due_kes": refund_due, "policy": booking.cancellation_policy, "paid_kes": booking.paid_kes},
        cancelled_at=now,
        cancel_reason=reason[:500],
        refund_due_kes=booking.refund_due_kes + refund_due,
        **({"blocks_until": now} if instalment_hold else {}),
    )
    # Only the booker knew of an unconfirmed hold; a confirmed stay's guests and host are all told.
    _notify(booking, kind="refund_due" if instalment_hold else "booking_cancelled")
    return booking


@transaction.atomic
def booking_host_cancel(*, booking: Booking, host: User, reason: str, now: datetime.datetime | None = None) -> Booking:
    """The host cancels a confirmed booking: the guest gets back everything paid. Raises BookingError."""
    now = now or timezone.now()
    booking = _lock(booking)
    if booking.listing.host_id != host.pk:
        raise BookingError(_("Only the host of this place can cancel its bookings."), code="not_allowed")
    reason = " ".join(reason.split())
    if not reason:
        raise BookingError(_("Tell the guest why you are cancelling."), code="reason_required")
    if booking.status == Status.CANCELLED:
        return booking
    refusal = booking_host_cancel_refusal(booking=booking, now=now)
    if refusal:
        raise BookingError(refusal, code="cannot_cancel")
    refund_due = booking_host_cancel_refund_kes(booking=booking)
    booking = _move(
        booking,
        Status.CANCELLED,
        action="host_cancelled",
        message=_("Cancelled by the host: {reason} Full refund due {amount}.").format(
            reason=reason, amount=format_kes(refund_due)
        ),
        actor_kind=Actor.HOST,
        actor=host,
        details={"refund_due_kes": refund_due, "reason": reason},
        cancelled_at=now,
        cancel_reason=reason[:500],
        refund_due_kes=booking.refund_due_kes + refund_due,
    )
    _notify(booking, kind="booking_cancelled")
    return booking
