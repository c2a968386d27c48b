"""The outbox's entry point for the other apps: queue a message in the transaction of the event that causes it; it
is sent through the task queue once that transaction commits. And the sweep that catches what fell through."""

from functools import partial

from django.db import transaction

from core.models import User
from notifications.models import Notification
from notifications.recipients import language_for, sms_wanted
from notifications.rendering import email_render, sms_render
from notifications.services import notification_create, notifications_settle_stale, notifications_unsent
from notifications.tasks import notification_send_task


def notification_queue(
    *,
    kind: str,
    object_key: str,
    channel: str,
    address: str,
    body: str,
    subject: str = "",
    html_body: str = "",
    recipient: User | None = None,
    booking_ref: str = "",
    language: str = Notification.Language.ENGLISH,
    secret: bool = False,
    session_key: str | None = None,
) -> Notification:
    """Queue one message: created now, in the caller's transaction (once per kind, object, address and channel: the
    same event queued twice sends once), sent after commit. `session_key`: the browser session waiting for it (a
    sign-in code), for the SMS emulator's virtual inbox. Raises NotificationError for an unusable address."""
    notification, created = notification_create(
        kind=kind,
        object_key=object_key,
        channel=channel,
        address=address,
        body=body,
        subject=subject,
        html_body=html_body,
        recipient=recipient,
        booking_ref=booking_ref,
        language=language,
        secret=secret,
        session_key=session_key,
    )
    if created:
        # robust: a queue that refuses the task leaves the notification queued, and the sweep sends it.
        transaction.on_commit(partial(notification_send_task.enqueue, notification_id=notification.pk), robust=True)
    return notification


def sms_queue(
    *,
    kind: str,
    object_key: str,
    number: str,
    template: str,
    context: dict,
    recipient: User | None = None,
    booking_ref: str = "",
    language: str | None = None,
) -> Notification | None:
    """Queue one SMS written from `template` (with `{language}` in its path) in the recipient's language, unless
    there is no number or the recipient switched this kind off (then None)."""
    if not number or not sms_wanted(recipient, kind):
        return None
    language = language or language_for(recipient)
    return notification_queue(
        kind=kind,
        object_key=object_key,
        channel=Notification.Channel.SMS,
        address=number,
        recipient=recipient,
        booking_ref=booking_ref,
        language=language,
        body=sms_render(template, context, language=language),
    )


def email_queue(
    *,
    kind: str,
    object_key: str,
    address: str,
    template: str,
    context: dict,
    subject: str,
    recipient: User | None = None,
    booking_ref: str = "",
) -> Notification:
    """Queue one e-mail written from `template`.txt and `template`.html (in English), with the site's name and
    absolute links."""
    return notification_queue(
        kind=kind,
        object_key=object_key,
        channel=Notification.Channel.EMAIL,
        address=address,
        recipient=recipient,
        booking_ref=booking_ref,
        language=Notification.Language.ENGLISH,  # e-mails are written in English; SMS in the recipient's choice
        **email_render(template, context, subject=subject),
    )


def notifications_sweep() -> tuple[int, int]:
    """Settle attempts that never reported back (unknown) and queue again what lost its task. Returns both counts."""
    settled = notifications_settle_stale()
    unsent = notifications_unsent()
    for notification_id in unsent:
        notification_send_task.enqueue(notification_id=notification_id)
    return settled, len(unsent)
