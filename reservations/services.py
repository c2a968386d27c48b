"""Every change to a booking. Only this module assigns Booking.status, through _move()."""

import datetime
import logging
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import User
from core.money import format_kes
from core.rate_limits import rate_limit_increment
from listings.models import Listing
from listings.policies import check_in_moment
from listings.selectors import Stay, stay_quote
from reservations.emails import booking_emails_send
from reservations.models import Booking, BookingEvent, BookingGuest
from reservations.selectors import (
    booking_cancel_refusal,
    booking_host_cancel_refund_kes,
    booking_host_cancel_refusal,
    booking_money_may_land,
    booking_refund_due_on_cancel,
    bookings_overlapping,
    unpaid_holds_count,
)

logger = logging.getLogger(__name__)

Status = Booking.Status
Actor = BookingEvent.Actor
EXCLUSION_VIOLATION = "23P01"
# The event that records what a lapse owes back; a later confirmation withdraws what it says.
REFUND_DUE_ON_LAPSE = "refund_due_on_lapse"
# The first key of the booker's advisory lock (pg_advisory_xact_lock(int, int)); the second is the user's id.
BOOKER_LOCK_SPACE = 1_310_001


class BookingError(Exception):
    """A booking could not be changed. The message is safe to show to the person who asked."""


@dataclass(frozen=True)
class GuestData:
    full_name: str
    email: str = ""
    phone: str = ""
    age_group: str = BookingGuest.AgeGroup.ADULT


def hold_duration() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.BOOKING_HOLD_MINUTES)


def _is_exclusion_violation(error: IntegrityError) -> bool:
    cause = error.__cause__
    return (getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)) == EXCLUSION_VIOLATION


def _record(
    booking: Booking,
    *,
    action: str,
    message: str,
    actor_kind: str,
    actor: User | None = None,
    from_status: str = "",
    to_status: str = "",
    details: dict | None = None,
) -> BookingEvent:
    return BookingEvent.objects.create(
        booking=booking,
        action=action,
        message=message[:500],
        actor_kind=actor_kind,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        details=details or {},
    )


def _move(
    booking: Booking,
    to_status: str,
    *,
    action: str,
    message: str,
    actor_kind: str,
    actor: User | None = None,
    details: dict | None = None,
    **fields,
) -> Booking:
    """The one way a booking changes status: checks the transition table, saves, and writes the event."""
    if booking.status == to_status:
        return booking
    if not booking.can_move_to(to_status):
        raise BookingError(
            _("Booking {ref} cannot go from {old} to {new}.").format(
                ref=booking.ref, old=booking.get_status_display(), new=Booking.Status(to_status).label
            )
        )
    from_status = booking.status
    booking.status = to_status
    for name, value in fields.items():
        setattr(booking, name, value)
    booking.save(update_fields=["status", "updated_at", *fields])
    _record(
        booking,
        action=action,
        message=message,
        actor_kind=actor_kind,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        details=details,
    )
    return booking


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
    _record(
        booking,
        action=REFUND_DUE_ON_LAPSE,
        message=_("The hold ran out with {paid} paid: {amount} is due back to the payer.").format(
            paid=format_kes(booking.paid_kes), amount=format_kes(owed)
        ),
        actor_kind=Actor.SYSTEM,
        details={"refund_due_kes": owed, "paid_kes": booking.paid_kes, "refunded_kes": booking.refunded_kes},
    )
    _queue_booking_emails(booking, kind="refund_due")
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


def _verified_accounts(emails: list[str]) -> dict[str, User]:
    """Accounts that have verified one of these addresses, by lower-cased address."""
    wanted = {email.lower() for email in emails if email}
    if not wanted:
        return {}
    condition = Q()
    for email in wanted:
        condition |= Q(email__iexact=email)
    addresses = EmailAddress.objects.filter(condition, verified=True).select_related("user")
    return {address.email.lower(): address.user for address in addresses}


def booker_lock(*, booker_id: int) -> None:
    """Hold the booker's advisory lock until the transaction ends: first in the lock order (booker -> listing ->
    booking -> payment -> refund), taken wherever a rule counts one person's bookings or prompts.

    A no-op on SQLite, where a writing transaction already runs alone (BEGIN IMMEDIATE).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s::integer, %s::integer)", [BOOKER_LOCK_SPACE, booker_id & 0x7FFFFFFF]
            )


def _check_hold_limits(*, booker: User, now: datetime.datetime) -> None:
    """The unpaid-holds count is exact because the caller holds the booker's lock."""
    max_unpaid = settings.BOOKING_MAX_UNPAID_HOLDS
    unpaid = unpaid_holds_count(user=booker, now=now)
    if unpaid >= max_unpaid:
        raise BookingError(
            _("You already have {count} unpaid bookings. Pay for one or cancel it before holding more dates.").format(
                count=unpaid
            )
        )
    # Counted inside the hold's transaction: a hold refused later (dates just taken) rolls the count back, so only
    # holds actually made use up the hour's allowance; what this limit stops is dates squatted again and again.
    per_hour = settings.BOOKING_HOLDS_PER_HOUR
    if rate_limit_increment(key=f"booking-holds:user:{booker.pk}", window_seconds=3600, now=now) > per_hour:
        raise BookingError(_("You have held dates too many times this hour. Please try again in the next hour."))


@transaction.atomic
def booking_hold(
    *,
    booker: User,
    listing_id: int,
    stay: Stay,
    guests: list[GuestData],
    shown_total_kes: int,
    idempotency_key: str,
    now: datetime.datetime | None = None,
) -> Booking:
    """Hold the stay's nights for the hold duration. Raises BookingError with a sentence a guest can read.

    A resubmitted form (same idempotency key) returns the booking it already made.
    """
    now = now or timezone.now()
    # The one lock order: booker (their unpaid holds are counted below, whichever listings they are on), then
    # listing (one hold per listing at a time), booking, payment, refund.
    booker_lock(booker_id=booker.pk)
    listing = Listing.objects.select_for_update().get(pk=listing_id)
    # Looked up under the lock: a double-submitted form waits for the first request and gets its booking.
    existing = Booking.objects.filter(booker=booker, idempotency_key=idempotency_key).first()
    if existing:
        return existing
    # The exclusion constraint cannot read the clock: lapsed holds must leave the blocking statuses first.
    bookings_lapse(listing=listing, now=now)
    quote = stay_quote(listing=listing, stay=stay, guests=len(guests), now=now)
    if not quote.bookable:
        raise BookingError(quote.reason)
    if quote.total_kes != shown_total_kes:
        raise BookingError(
            _("The price changed to {total} while you were booking.").format(total=format_kes(quote.total_kes))
        )
    _check_hold_limits(booker=booker, now=now)
    try:
        with transaction.atomic():
            booking = Booking.objects.create(
                listing=listing,
                booker=booker,
                check_in=stay.check_in,
                check_out=stay.check_out,
                status=Status.HELD,
                blocks_until=now + hold_duration(),
                idempotency_key=idempotency_key,
                **quote.frozen_fields(),
                check_in_at=check_in_moment(check_in=stay.check_in, check_in_time=listing.check_in_time),
            )
    except IntegrityError as error:
        if _is_exclusion_violation(error):
            raise BookingError(_("Those dates were just taken by someone else. Please choose other dates."))
        raise
    accounts = _verified_accounts([g.email.lower() for g in guests])
    BookingGuest.objects.bulk_create(
        BookingGuest(
            booking=booking,
            position=position,
            full_name=guest.full_name,
            email=guest.email.lower(),
            phone=guest.phone,
            age_group=guest.age_group,
            user=booker if position == 0 else accounts.get(guest.email.lower()),
        )
        for position, guest in enumerate(guests)
    )
    _record(
        booking,
        action="held",
        message=_("Dates held for {guests} guests, {total} to pay.").format(
            guests=len(guests), total=format_kes(booking.total_kes)
        ),
        actor_kind=Actor.USER,
        actor=booker,
        to_status=Status.HELD,
        details={"blocks_until": booking.blocks_until.isoformat(), "total_kes": booking.total_kes},
    )
    return booking


def _lock(booking: Booking) -> Booking:
    """Lock the listing, then the booking (the one lock order), and return a fresh copy of the booking."""
    Listing.objects.select_for_update().filter(pk=booking.listing_id).first()
    return Booking.objects.select_for_update().select_related("listing").get(pk=booking.pk)


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
        raise BookingError(refusal)
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
    _queue_booking_emails(booking, kind="refund_due" if instalment_hold else "cancelled")
    return booking


@transaction.atomic
def booking_host_cancel(*, booking: Booking, host: User, reason: str, now: datetime.datetime | None = None) -> Booking:
    """The host cancels a confirmed booking: the guest gets back everything paid. Raises BookingError."""
    now = now or timezone.now()
    booking = _lock(booking)
    if booking.listing.host_id != host.pk:
        raise BookingError(_("Only the host of this place can cancel its bookings."))
    reason = " ".join(reason.split())
    if not reason:
        raise BookingError(_("Tell the guest why you are cancelling."))
    if booking.status == Status.CANCELLED:
        return booking
    refusal = booking_host_cancel_refusal(booking=booking, now=now)
    if refusal:
        raise BookingError(refusal)
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
    _queue_booking_emails(booking, kind="cancelled")
    return booking


@transaction.atomic
def booking_confirm(*, booking_id: int, details: dict | None = None, now: datetime.datetime | None = None) -> Booking:
    """Confirm a paid booking: event, blocks_until cleared, e-mails to every guest and the host. Idempotent.

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
    _queue_booking_emails(booking, kind="confirmed")
    return booking


def booking_lock(*, booking_id: int) -> Booking:
    """Lock the booking's listing, then the booking (the one lock order). Call inside a transaction."""
    return _lock(Booking.objects.only("listing_id").get(pk=booking_id))


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
    return _move(
        booking, Status.HELD, action="payment_ended", message=message, actor_kind=Actor.MPESA, details=details, **fields
    )


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
    booking.blocks_until = None
    booking.save(update_fields=["blocks_until", "updated_at"])
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
    return _move(
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
    _record(
        booking,
        action="refund_due",
        message=_("{amount} is due back to the payer: {reason}").format(amount=format_kes(amount_kes), reason=reason),
        actor_kind=Actor.MPESA,
        details={**details, "refund_due_kes": amount_kes},
    )
    return booking


@transaction.atomic
def booking_record_refund(*, booking: Booking, amount_kes: int, actor: User | None, details: dict) -> Booking:
    """Money went back to the payer: refunded grows, the refund due shrinks by as much (never below zero).

    Caller holds the locks. Called only when M-Pesa's result (or a recorded manual transfer) says it happened.
    """
    booking.refunded_kes += amount_kes
    booking.refund_due_kes = max(booking.refund_due_kes - amount_kes, 0)
    booking.save(update_fields=["refunded_kes", "refund_due_kes", "updated_at"])
    _record(
        booking,
        action="refunded",
        message=_("{amount} refunded to the payer.").format(amount=format_kes(amount_kes)),
        actor_kind=Actor.SUPPORT,
        actor=actor,
        details={**details, "amount_kes": amount_kes, "refunded_kes": booking.refunded_kes},
    )
    return booking


def _nights_taken_by_others(booking: Booking, *, now: datetime.datetime) -> bool:
    return (
        bookings_overlapping(start=booking.check_in, end=booking.check_out, now=now)
        .filter(listing_id=booking.listing_id)
        .exclude(pk=booking.pk)
        .exists()
    )


@transaction.atomic
def booking_guests_link_account(*, user: User, email: str) -> int:
    """Link guest rows with this address to the account that has just verified it. Returns how many."""
    return BookingGuest.objects.filter(email__iexact=email, user__isnull=True).update(user=user)


def _queue_booking_emails(booking: Booking, *, kind: str) -> None:
    booking_id = booking.pk
    transaction.on_commit(lambda: booking_emails_send(booking_id=booking_id, kind=kind))
