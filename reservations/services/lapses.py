"""Holds that run out: expired for good, and what was paid for them recorded as due back, once."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.money import format_kes
from listings.models import Listing
from reservations.models import Booking, BookingEvent
from reservations.selectors import (
    booking_money_may_land,
)
from reservations.services.transitions import _move, _notify, _record

Status = Booking.Status
Actor = BookingEvent.Actor
# The event that records what a lapse owes back; a later confirmation withdraws what it says.
REFUND_DUE_ON_LAPSE = "refund_due_on_lapse"


@transaction.atomic
def bookings_lapse(*, listing: Listing, now: datetime.datetime) -> int:
    """Move the listing's lapsed holds out of the blocking statuses. The caller holds the listing lock."""
    lapsed = Booking.objects.select_for_update().filter(
        listing=listing, status__in=Booking.UNPAID, blocks_until__lte=now
    )
    count = 0
    for booking in lapsed:
        _move(
            booking,
            Status.EXPIRED,
            action="expired",
            message=_("The hold ran out before payment."),
            actor_kind=Actor.SYSTEM,
        )
        _refund_lapsed(booking)
        count += 1
    return count


def _refund_lapsed(booking: Booking) -> Booking:
    """An expired booking keeps none of the money paid for it. Once no payment of it may still land, everything paid
    and not yet refunded is recorded as due back, once; a later confirmation withdraws it. Caller holds the locks."""
    owed = booking.paid_kes - booking.refunded_kes
    if booking.status != Status.EXPIRED or owed <= 0:
        return booking
    if booking.events.filter(action=REFUND_DUE_ON_LAPSE).exists() or booking_money_may_land(booking=booking):
        return booking
    booking.refund_due_kes += owed
    booking.save(update_fields=["refund_due_kes", "updated_at"])
    event = _record(
        booking,
        action=REFUND_DUE_ON_LAPSE,
        message=_("The hold ran out with {paid} paid: {amount} is due back to the payer.").format(
            paid=format_kes(booking.paid_kes), amount=format_kes(owed)
        ),
        actor_kind=Actor.SYSTEM,
        details={"refund_due_kes": owed, "paid_kes": booking.paid_kes, "refunded_kes": booking.refunded_kes},
    )
    _notify(booking, kind="refund_due", event=event)
    return booking


def _withdraw_lapse_refund(booking: Booking, *, details: dict | None) -> Booking:
    """A lapsed booking confirmed after all keeps its money: the refund due its lapse recorded is withdrawn."""
    recorded = booking.events.filter(action=REFUND_DUE_ON_LAPSE).values_list("details", flat=True).first()
    amount = min((recorded or {}).get("refund_due_kes", 0), booking.refund_due_kes)
    if amount <= 0:
        return booking
    booking.refund_due_kes -= amount
    booking.save(update_fields=["refund_due_kes", "updated_at"])
    _record(
        booking,
        action="refund_due_withdrawn",
        message=_("Confirmed after the hold ran out: the {amount} due back since then is kept for the stay.").format(
            amount=format_kes(amount)
        ),
        actor_kind=Actor.MPESA,
        details={**(details or {}), "withdrawn_kes": amount, "refund_due_kes": booking.refund_due_kes},
    )
    return booking


def bookings_expire_all(*, now: datetime.datetime | None = None) -> int:
    """Tidy up every lapsed hold (the periodic command). Correctness never depends on this running."""
    now = now or timezone.now()
    listing_ids = (
        Booking.objects.filter(status__in=Booking.UNPAID, blocks_until__lte=now)
        .values_list("listing_id", flat=True)
        .distinct()
    )
    total = 0
    for listing_id in list(listing_ids):
        with transaction.atomic():
            listing = Listing.objects.select_for_update().get(pk=listing_id)
            total += bookings_lapse(listing=listing, now=now)
    return total
