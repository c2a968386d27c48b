"""Review requests and reminders through the notifications outbox (e-mail, and SMS where the account has a number):
the day after check-out, each side is asked for its review; two days before the window closes, a side that has not
written is reminded. Queued once per booking, kind, address and channel (the outbox's own guarantee), so the daily
command may run again or late without sending twice."""

import datetime

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from core.models import User
from core.site import site_url
from notifications.models import Notification
from notifications.outbox import notification_queue
from notifications.services import NotificationError
from reservations.models import Booking
from reviews.models import REVIEW_WINDOW_DAYS, Review, window_ends_on

REMIND_DAYS_BEFORE_CLOSE = 2


def _sms_number(user: User) -> str:
    # The number the account last paid with on M-Pesa.
    return user.mpesa_phone


def _queue(*, kind: str, booking: Booking, user: User, role: str, url: str, closes: datetime.date) -> int:
    context = {
        "booking": booking,
        "name": user.get_short_name(),
        "role": role,
        "url": url,
        "closes": closes,
        "kind": kind,
        "title": booking.listing.title,
    }
    subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + (
        f"How was {booking.ref}? Write your review"
        if kind == "review_request"
        else f"Last days to review {booking.ref}"
    )
    queued = 0
    messages = [
        (Notification.Channel.EMAIL, user.email, render_to_string("reviews/email/review_request.txt", context)),
    ]
    if _sms_number(user):
        messages.append(
            (Notification.Channel.SMS, _sms_number(user), render_to_string("reviews/sms/review_request.txt", context))
        )
    for channel, address, body in messages:
        try:
            with transaction.atomic():
                notification_queue(
                    kind=kind,
                    object_key=f"booking:{booking.pk}:{role}",
                    channel=channel,
                    address=address,
                    recipient=user,
                    booking_ref=booking.ref,
                    subject=subject if channel == Notification.Channel.EMAIL else "",
                    body=body.strip(),
                )
            queued += 1
        except NotificationError:
            continue  # an unusable address: the other channel still goes
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
    base = site_url()
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
                    queued += _queue(kind=kind, booking=booking, user=user, role=role, url=base + path, closes=closes)
    return queued
