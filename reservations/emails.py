"""The e-mails a booking sends: rendered now, sent through the task queue."""

from django.conf import settings
from django.template.loader import render_to_string

from core.tasks import email_send
from reservations.models import Booking

SUBJECTS = {
    "confirmed": "Booking {ref} is confirmed: {title}",
    "cancelled": "Booking {ref} was cancelled: {title}",
    "refund_due": "Booking {ref}: money is due back to you ({title})",
}
# Kinds only the booker hears of: an unconfirmed hold was theirs alone.
BOOKER_ONLY = {"refund_due"}


def booking_emails_send(*, booking_id: int, kind: str) -> None:
    """Queue one e-mail to every guest with an address and one to the host (to the booker alone for BOOKER_ONLY)."""
    booking = Booking.objects.select_related("listing", "listing__host", "booker").get(pk=booking_id)
    subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + SUBJECTS[kind].format(
        ref=booking.ref, title=booking.listing.title
    )
    guests = list(booking.guests.order_by("position"))
    recipients = {}
    for guest in guests if kind not in BOOKER_ONLY else []:
        if guest.email:
            recipients.setdefault(guest.email.lower(), ("guest", guest.full_name))
    if booking.booker.email.lower() not in recipients:
        recipients[booking.booker.email.lower()] = ("guest", booking.booker.get_full_name())
    if kind not in BOOKER_ONLY:
        host = booking.listing.host
        recipients.setdefault(host.email.lower(), ("host", host.get_full_name()))
    for address, (role, name) in recipients.items():
        context = {"booking": booking, "guests": guests, "role": role, "name": name, "kind": kind}
        email_send.enqueue(
            subject=subject,
            body=render_to_string(f"reservations/email/booking_{kind}.txt", context),
            html_body=render_to_string(f"reservations/email/booking_{kind}.html", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[address],
        )
