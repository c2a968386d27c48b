"""The e-mails a booking sends. The confirmation goes through the outbox (notifications): queued in the transaction
that confirms the booking, sent once it commits. The others are still rendered after commit and sent through the
task queue."""

from django.conf import settings
from django.template.loader import render_to_string

from core.models import User
from core.selectors import user_email_verified
from core.tasks import email_send
from notifications.models import Notification
from notifications.outbox import notification_queue
from reservations.models import Booking, BookingGuest

SUBJECTS = {
    "confirmed": "Booking {ref} is confirmed: {title}",
    "cancelled": "Booking {ref} was cancelled: {title}",
    "refund_due": "Booking {ref}: money is due back to you ({title})",
}
# Kinds only the booker hears of: an unconfirmed hold was theirs alone.
BOOKER_ONLY = {"refund_due"}


def _recipients(booking: Booking, guests: list[BookingGuest], kind: str) -> dict[str, tuple[str, str, User | None]]:
    """Every guest with an address and the host (the booker alone for BOOKER_ONLY), once per address:
    address -> (role, name, the account when there is one)."""
    recipients = {}
    # The booker's own address only once verified (it is optional since sign-up by mobile number).
    booker_address = booking.booker.email.lower() if user_email_verified(user=booking.booker) else ""
    for guest in guests if kind not in BOOKER_ONLY else []:
        if guest.email:
            address = guest.email.lower()
            account = booking.booker if address == booker_address else guest.user
            recipients.setdefault(address, ("guest", guest.full_name, account))
    if booker_address and booker_address not in recipients:
        recipients[booker_address] = ("guest", booking.booker.get_full_name(), booking.booker)
    if kind not in BOOKER_ONLY:
        host = booking.listing.host
        if host.email:
            recipients.setdefault(host.email.lower(), ("host", host.get_full_name(), host))
    return recipients


def _rendered(booking: Booking, guests: list[BookingGuest], *, kind: str, role: str, name: str) -> dict:
    """The subject, the plain-text body and the HTML body of one e-mail."""
    context = {"booking": booking, "guests": guests, "role": role, "name": name, "kind": kind}
    return {
        "subject": settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
        + SUBJECTS[kind].format(ref=booking.ref, title=booking.listing.title),
        "body": render_to_string(f"reservations/email/booking_{kind}.txt", context),
        "html_body": render_to_string(f"reservations/email/booking_{kind}.html", context),
    }


def booking_confirmation_queue(*, booking: Booking, event_id: int) -> None:
    """Queue the confirmation e-mail to every guest with an address and to the host, in the transaction that confirms
    the booking: once per address for the confirmation event (`event_id`), sent after commit."""
    booking = Booking.objects.select_related("listing", "listing__host", "booker").get(pk=booking.pk)
    guests = list(booking.guests.select_related("user").order_by("position"))
    for address, (role, name, account) in _recipients(booking, guests, "confirmed").items():
        notification_queue(
            kind="booking_confirmed",
            object_key=f"booking-event:{event_id}",
            channel=Notification.Channel.EMAIL,
            address=address,
            recipient=account,
            booking_ref=booking.ref,
            **_rendered(booking, guests, kind="confirmed", role=role, name=name),
        )


def booking_emails_send(*, booking_id: int, kind: str) -> None:
    """Queue one e-mail to every guest with an address and one to the host (to the booker alone for BOOKER_ONLY)."""
    booking = Booking.objects.select_related("listing", "listing__host", "booker").get(pk=booking_id)
    guests = list(booking.guests.order_by("position"))
    for address, (role, name, _account) in _recipients(booking, guests, kind).items():
        email_send.enqueue(
            **_rendered(booking, guests, kind=kind, role=role, name=name),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[address],
        )
