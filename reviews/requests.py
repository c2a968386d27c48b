"""Review requests and reminders through the notifications outbox (e-mail, and SMS where the account has a number):
the day after check-out, each side is asked for its review; two days before the window closes, a side that has not
written is reminded. Queued once per booking, kind, address and channel (the outbox's own guarantee), so the daily
command may run again or late without sending twice."""

import datetime

from django.db import transaction
from django.urls import reverse

from core.models import User
from core.site import absolute_url
from notifications.outbox import email_queue, sms_queue
from notifications.recipients import sms_number_for
from notifications.services import NotificationError
from reservations.models import Booking
from reviews.models import REVIEW_WINDOW_DAYS, Review, window_ends_on

REMIND_DAYS_BEFORE_CLOSE = 2
SUBJECTS = {
    "review_request": "How was {ref}? Write your review",
    "review_reminder": "Last days to review {ref}",
}


def _queue(*, kind: str, booking: Booking, user: User, role: str, url: str, closes: datetime.date) -> int:
    """One e-mail and, when the account has a number and wants this kind by SMS, one SMS. Returns how many."""
    context = {
        "booking": booking,
        "name": user.get_short_name(),
        "role": role,
        "url": url,
        "closes": closes,
        "kind": kind,
        "title": booking.listing.title,
    }
    object_key = f"booking:{booking.pk}:{role}"
    queued = 0
    try:
        with transaction.atomic():
            email_queue(
                kind=kind,
                object_key=object_key,
                address=user.email,
                recipient=user,
                booking_ref=booking.ref,
                subject=SUBJECTS[kind].format(ref=booking.ref),
                template="reviews/email/review_request",
                context=context,
            )
        queued += 1
    except NotificationError:
        pass  # an unusable address: the SMS may still go
    try:
        with transaction.atomic():
            sent = sms_queue(
                kind=kind,
                object_key=object_key,
                number=sms_number_for(user),
                recipient=user,
                booking_ref=booking.ref,
                template="reviews/sms/{language}/review_request.txt",
                context=context,
            )
        queued += sent is not None
    except NotificationError:
        pass
    return queued


def review_requests_send(*, today: datetime.date) -> int:
    """Queue today's review requests (stays that ended yesterday or earlier in the window and were never asked) and
    reminders (windows closing within REMIND_DAYS_BEFORE_CLOSE days) for each side that has not written. Returns how
    many messages were queued (repeats count too: the outbox sends each once)."""
    first_check_out = today - datetime.timedelta(days=REVIEW_WINDOW_DAYS)
    bookings = (
        Booking.objects.filter(
            status=Booking.Status.CONFIRMED,
            check_out__gte=first_check_out,
            check_out__lt=today,
        )
        .select_related("listing", "listing__host", "booker")
        .prefetch_related("reviews")
        .order_by("check_out", "id")
    )
    queued = 0
    for booking in bookings:
        if booking.paid_kes < booking.total_kes:
            continue
        closes = window_ends_on(booking.check_out)
        kind = "review_reminder" if (closes - today).days <= REMIND_DAYS_BEFORE_CLOSE else "review_request"
        written = {review.direction for review in booking.reviews.all()}
        sides = [
            (Review.Direction.GUEST, booking.booker, "guest", reverse("reviews:guest-review", args=[booking.ref])),
            (Review.Direction.HOST, booking.listing.host, "host", reverse("reviews:host-review", args=[booking.ref])),
        ]
        with transaction.atomic():
            for direction, user, role, path in sides:
                if direction not in written:
                    queued += _queue(
                        kind=kind, booking=booking, user=user, role=role, url=absolute_url(path), closes=closes
                    )
    return queued
