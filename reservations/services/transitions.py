"""The one way a booking changes status (_move), its audit trail (_record), and the error every booking service
raises. Only this package assigns Booking.status, and only through _move()."""

from django.db import IntegrityError
from django.utils.translation import gettext as _

from core.models import User
from reservations.messages import booking_messages_queue
from reservations.models import Booking, BookingEvent
from reservations.services.nights import booked_nights_sync, keeps_nights_for_good

EXCLUSION_VIOLATION = "23P01"


class BookingError(Exception):
    """A booking could not be changed. The message is safe to show to the person who asked.

    `code` names the refusal for machines (the API answers with it; pages show only the message): a stay rule's
    code from the quote (listings.selectors.quote.REFUSAL_CODES), "price_changed" (with the new `quote`), "limit"
    (with `retry_after` seconds), "idempotency_key_reused", "not_allowed" or "refused".
    """

    def __init__(self, message: str, *, code: str = "refused", retry_after: int | None = None, quote=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.retry_after = retry_after
        self.quote = quote


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
    """The one way a booking changes status: checks the transition table, saves, keeps its BookedNight rows in step
    and writes the event."""
    if booking.status == to_status:
        return booking
    if not booking.can_move_to(to_status):
        raise BookingError(
            _("Booking {ref} cannot go from {old} to {new}.").format(
                ref=booking.ref, old=booking.get_status_display(), new=Booking.Status(to_status).label
            ),
            code="invalid_transition",
        )
    from_status = booking.status
    kept_before = keeps_nights_for_good(booking)
    booking.status = to_status
    for name, value in fields.items():
        setattr(booking, name, value)
    booking.save(update_fields=["status", "updated_at", *fields])
    booked_nights_sync(booking, kept_before=kept_before)
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


def _notify(booking: Booking, *, kind: str, event: BookingEvent | None = None) -> None:
    """Queue the messages of the event just recorded (`event`, else the booking's latest) in this transaction: they
    go out once it commits (reservations.messages)."""
    event = event or booking.events.order_by("-pk").first()
    booking_messages_queue(booking=booking, kind=kind, event=event)
