"""Every state change of the outbox: a notification created, its status changed, a send attempted and its outcome
recorded, delivery reports recorded and applied, stale attempts settled.

Sending happens outside any transaction that holds a lock: a notification is claimed (attempts counted, the attempt
marked as on its way) and committed, then sent, then its outcome is recorded in a new transaction. An SMS whose
outcome is unknown is never sent again; only a refusal that proves nothing was sent is tried again, a bounded number
of times (NOTIFICATION_SEND_ATTEMPTS).
"""

import datetime
import logging
from dataclasses import dataclass
from urllib.parse import parse_qs

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.africastalking_wire import (
    REPORT_DELIVERED,
    REPORT_NOT_DELIVERED,
    REPORT_ON_THE_WAY,
    audience_sign,
    e164,
    session_tag,
)
from core.models import User
from core.phone import normalise_phone
from core.rate_limits import rate_limit_increment
from notifications import client
from notifications.kinds import SMS_KINDS
from notifications.models import Notification, NotificationEvent, NotificationPreference

logger = logging.getLogger(__name__)

Status = Notification.Status
Channel = Notification.Channel
EventKind = NotificationEvent.Kind

DAY_SECONDS = 24 * 60 * 60
REPORT_BODY_LIMIT = 16 * 1024  # bytes of a delivery report kept; Africa's Talking's are a few hundred
REPORT_FIELDS = ("id", "status", "phoneNumber", "networkCode", "failureReason", "retryCount")
# An attempt that has not recorded its outcome after this long belongs to a worker that died mid-send.
STALE_ATTEMPT = datetime.timedelta(minutes=10)
# A queued notification untouched this long lost its task (the queue refused it after commit): the sweep sends it.
RESEND_AFTER = datetime.timedelta(minutes=5)


class NotificationError(Exception):
    """A notification could not be created or changed. The message is safe to show to staff."""


# -- status -----------------------------------------------------------------------------------------------------


def notification_set_status(
    notification: Notification, to_status: str, *, message: str, now: datetime.datetime | None = None, **fields
) -> Notification:
    """The one way a notification's status changes: Notification.TRANSITIONS decides; the row is saved with `fields`
    and the change recorded as an event. Idempotent for the status it already has. Raises NotificationError."""
    if notification.status == to_status and not fields:
        return notification
    if notification.status != to_status and not notification.can_move_to(to_status):
        raise NotificationError(f"Notification {notification.pk} cannot go from {notification.status} to {to_status}.")
    now = now or timezone.now()
    from_status = notification.status
    notification.status = to_status
    if to_status == Status.SENT and notification.sent_at is None:
        fields.setdefault("sent_at", now)
    if to_status in (Status.DELIVERED, Status.FAILED, Status.UNKNOWN):
        fields.setdefault("finished_at", now)
    if notification.secret and to_status != Status.QUEUED and (notification.body or notification.html_body):
        fields["body"] = fields["html_body"] = ""  # a code or link is never needed again once sending is over
    for name, value in fields.items():
        setattr(notification, name, value)
    notification.save(update_fields=["status", "updated_at", *fields])
    if from_status != to_status:
        NotificationEvent.objects.create(
            notification=notification,
            kind=EventKind.DECISION,
            message=message[:500],
            from_status=from_status,
            to_status=to_status,
        )
    return notification


# -- creating ---------------------------------------------------------------------------------------------------


def _address(channel: str, address: str) -> str:
    """The address as stored: an e-mail address in lower case, a Kenyan mobile number as E.164."""
    address = (address or "").strip()
    try:
        if channel == Channel.SMS:
            return e164(normalise_phone(address))
        validate_email(address)
    except ValidationError as error:
        raise NotificationError(f"Not a {Channel(channel).label} address: {address[:60]!r}.") from error
    return address.lower()


def notification_create(
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
) -> tuple[Notification, bool]:
    """A queued notification, once per (kind, object, address, channel): (the notification, True) when new, (the one
    made before, False) otherwise. Written in the caller's transaction. Raises NotificationError."""
    if channel not in Channel.values:
        raise NotificationError(f"Unknown channel {channel!r}.")
    if not body.strip():
        raise NotificationError("A notification needs a body.")
    address = _address(channel, address)
    fields = {"kind": kind[:40], "object_key": object_key[:100], "channel": channel, "address": address}
    notification = Notification(
        **fields,
        recipient=recipient,
        booking_ref=booking_ref[:12],
        language=language,
        subject=" ".join(subject.split())[:250],
        body=body,
        html_body=html_body,
        secret=secret,
        audience_session=session_tag(session_key),
    )
    notification.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            notification.save()
    except IntegrityError:
        existing = Notification.objects.filter(**fields).first()
        if existing is None:
            raise
        return existing, False
    return notification, True


# -- sending ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    """What one attempt came to. `retry`: it was refused before anything was sent and attempts are left."""

    notification: Notification | None
    retry: bool = False


def _over_cap(notification: Notification) -> str:
    """Why the first attempt may not go out (a daily cap), or "". Counted in the claiming transaction."""
    if notification.channel == Channel.SMS:
        caps = [
            (f"sms:number:{notification.address}", settings.SMS_PER_NUMBER_PER_DAY, "SMS to this number today"),
            ("sms:day", settings.SMS_PER_DAY, "SMS sent by the site today"),
        ]
    else:
        cap = settings.EMAIL_PER_ADDRESS_PER_DAY
        caps = [(f"email:address:{notification.address}", cap, "e-mails to this address today")]
    for key, cap, what in caps:
        if rate_limit_increment(key=f"notifications:{key}", window_seconds=DAY_SECONDS) > cap:
            return f"Not sent: {cap} {what} already (the daily cap)."
    return ""


def _claim(notification_id: int, now: datetime.datetime) -> Notification | None:
    """Mark the next attempt as on its way, or None when there is nothing to send (sent, on its way, capped)."""
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if notification is None or notification.status != Status.QUEUED or notification.sending_since is not None:
            return None
        if notification.attempts >= settings.NOTIFICATION_SEND_ATTEMPTS:
            notification_set_status(notification, Status.FAILED, message="No attempts left.", error="No attempts left.")
            return None
        if notification.attempts == 0 and (refusal := _over_cap(notification)):
            notification_set_status(notification, Status.FAILED, message=refusal, error=refusal)
            return None
        notification.attempts += 1
        notification.sending_since = now
        notification.save(update_fields=["attempts", "sending_since", "updated_at"])
        return notification


def _send_email(notification: Notification) -> client.SendAnswer:
    """Hand one e-mail to the mailer. A mail server that refuses or cannot be reached took nothing, so the attempt
    counts as refused; a rare duplicate e-mail is the price of not losing one."""
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.address],
    )
    if notification.html_body:
        message.attach_alternative(notification.html_body, "text/html")
    request = {"to": notification.address, "subject": notification.subject}
    try:
        message.send()
    except Exception as error:  # smtplib and socket errors alike
        logger.warning("E-mail %s not sent: %s", notification.pk, type(error).__name__)
        return client.SendAnswer(
            client.REFUSED,
            retryable=True,
            error=f"The mail server did not take it ({type(error).__name__}).",
            request=request,
        )
    return client.SendAnswer(client.SENT, request=request)


def _send_sms(notification: Notification) -> client.SendAnswer:
    audience = ""
    if notification.recipient_id or notification.audience_session:
        audience = audience_sign(user_id=notification.recipient_id, session=notification.audience_session)
    return client.sms_client().send(to=notification.address, message=notification.body, audience=audience)


def _record(notification_id: int, answer: client.SendAnswer) -> SendResult:
    """Record one attempt's outcome, in its own transaction."""
    with transaction.atomic():
        notification = Notification.objects.select_for_update().get(pk=notification_id)
        NotificationEvent.objects.create(
            notification=notification,
            kind=EventKind.ATTEMPT,
            message=(f"Attempt {notification.attempts}: {answer.outcome}. {answer.error}").strip()[:500],
            http_status=answer.http_status,
            body={"request": answer.request, "answer": answer.answer},
        )
        notification.sending_since = None
        if notification.status != Status.QUEUED:
            # Settled meanwhile (the sweep gave up on this attempt): the outcome is on record, the status stays.
            notification.save(update_fields=["sending_since", "updated_at"])
            return SendResult(notification)
        provider = {"provider_status": answer.status, "cost": answer.cost} if answer.status or answer.cost else {}
        if answer.outcome == client.SENT:
            email = notification.channel == Channel.EMAIL
            taken = "Sent." if email else f"Taken by Africa's Talking ({answer.status})."
            notification_set_status(
                notification,
                Status.SENT,
                message=taken,
                sending_since=None,
                provider_message_id=answer.message_id,
                **provider,
            )
            _apply_early_reports(notification)
            return SendResult(notification)
        if answer.outcome == client.UNKNOWN:
            error = answer.error[:300]
            notification_set_status(
                notification, Status.UNKNOWN, message=answer.error, sending_since=None, error=error, **provider
            )
            return SendResult(notification)
        if answer.retryable and notification.attempts < settings.NOTIFICATION_SEND_ATTEMPTS:
            notification.error = answer.error[:300]
            for name, value in provider.items():
                setattr(notification, name, value)
            notification.save(update_fields=["sending_since", "error", "updated_at", *provider])
            return SendResult(notification, retry=True)
        notification_set_status(
            notification, Status.FAILED, message=answer.error, sending_since=None, error=answer.error[:300], **provider
        )
        return SendResult(notification)


def notification_send(*, notification_id: int, now: datetime.datetime | None = None) -> SendResult:
    """Make the next attempt at a queued notification, at most once: claimed and committed, sent outside any
    transaction, its outcome recorded. Nothing happens for one that is sent, on its way or gone."""
    now = now or timezone.now()
    notification = _claim(notification_id, now)
    if notification is None:
        return SendResult(None)
    try:
        if notification.channel == Channel.EMAIL:
            answer = _send_email(notification)
        else:
            answer = _send_sms(notification)
    except Exception:
        # A defect of ours after the claim: the message may have gone out, so it is never sent again.
        logger.exception("Notification %s: sending failed", notification_id)
        answer = client.SendAnswer(client.UNKNOWN, error="Sending broke off; the message may have gone out.")
    return _record(notification_id, answer)


def notifications_settle_stale(*, now: datetime.datetime | None = None) -> int:
    """Attempts that never recorded an outcome (a worker died mid-send) become unknown: never sent again."""
    now = now or timezone.now()
    settled = 0
    stale = Notification.objects.filter(status=Status.QUEUED, sending_since__lt=now - STALE_ATTEMPT)
    for notification_id in stale.values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            notification = Notification.objects.select_for_update().get(pk=notification_id)
            if notification.status == Status.QUEUED and notification.sending_since is not None:
                words = "The attempt never reported back; the message may have gone out."
                notification_set_status(notification, Status.UNKNOWN, message=words, sending_since=None, error=words)
                settled += 1
    return settled


def notifications_unsent(*, now: datetime.datetime | None = None) -> list[int]:
    """Queued notifications whose task was lost (untouched for RESEND_AFTER and not on their way)."""
    now = now or timezone.now()
    return list(
        Notification.objects.filter(
            status=Status.QUEUED, sending_since__isnull=True, updated_at__lt=now - RESEND_AFTER
        ).values_list("pk", flat=True)[:500]
    )


# -- delivery reports -------------------------------------------------------------------------------------------


def _report_fields(text: str) -> dict:
    """The delivery report's documented fields (first value of each, NUL shown as U+FFFD), or {} when the body is
    not a form."""
    try:
        parsed = parse_qs(text, keep_blank_values=True, max_num_fields=50)
    except ValueError:
        return {}
    return {name: parsed[name][0].replace("\x00", "\ufffd")[:200] for name in REPORT_FIELDS if name in parsed}


def delivery_report_record(*, raw_body: bytes, size: int, source_ip: str | None) -> NotificationEvent:
    """Keep a delivery report exactly as it arrived, before anything else: one INSERT committed on its own."""
    kept = raw_body[:REPORT_BODY_LIMIT]
    size = max(size, len(raw_body))
    text = kept.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    cut = size > len(kept)
    fields = {} if cut else _report_fields(text)
    message = f"Delivery report cut: {len(kept):,} of {size:,} bytes kept, not read." if cut else ""
    if not cut and not fields.get("id"):
        message = "Delivery report without a message id: recorded, not applied."
    with transaction.atomic(durable=True):
        return NotificationEvent.objects.create(
            kind=EventKind.REPORT,
            message=message,
            body=fields,
            raw_bytes=kept,
            raw_size=size,
            raw_body=text,
            source_ip=source_ip,
        )


def _same_number(reported: str, address: str) -> bool:
    if not reported:
        return True
    try:
        return e164(normalise_phone(reported)) == address
    except ValidationError:
        return False


def _apply_report(notification: Notification, event: NotificationEvent) -> str:
    """Apply one matched report through the transition table; returns what was done, for the event."""
    fields = event.body or {}
    status, reason = fields.get("status", ""), fields.get("failureReason", "")
    if not _same_number(fields.get("phoneNumber", ""), notification.address):
        return "Its phoneNumber is not the number this message went to: recorded, not applied."
    if status in REPORT_ON_THE_WAY:
        if notification.status == Status.SENT:
            notification.provider_status = status
            notification.save(update_fields=["provider_status", "updated_at"])
        return f"On its way ({status})."
    if status == REPORT_DELIVERED:
        target = Status.DELIVERED
    elif status in REPORT_NOT_DELIVERED:
        target = Status.FAILED
    else:
        return f"Status {status!r} is not one Africa's Talking documents: recorded, not applied."
    if notification.status == target:
        return f"Already {target}."
    if not notification.can_move_to(target):
        return f"The message is already {notification.status}: recorded, not applied."
    words = f"Delivery report: {status}" + (f" ({reason})" if reason else "") + "."
    notification_set_status(
        notification,
        target,
        message=words,
        provider_status=status,
        failure_reason=reason,
        error=words if target == Status.FAILED else "",
    )
    return f"Applied: {words}"


def delivery_report_apply(*, event_id: int) -> NotificationEvent:
    """Match a recorded report to the SMS it is about (by messageId) and apply it. A report for no message of ours,
    or one that says nothing we know, stays recorded and changes nothing."""
    with transaction.atomic():
        event = NotificationEvent.objects.select_for_update().get(pk=event_id)
        message_id = (event.body or {}).get("id", "")
        if not message_id:
            return event
        notification = (
            Notification.objects.select_for_update().filter(channel=Channel.SMS, provider_message_id=message_id).first()
        )
        if notification is None:
            event.message = "For no message of ours (yet): recorded, not applied."
            event.save(update_fields=["message"])
            return event
        event.notification = notification
        event.message = _apply_report(notification, event)[:500]
        event.save(update_fields=["notification", "message"])
        return event


def _apply_early_reports(notification: Notification) -> None:
    """Reports that arrived before the send's answer was recorded (they named a messageId we did not know yet)."""
    if not notification.provider_message_id:
        return
    early = NotificationEvent.objects.filter(
        kind=EventKind.REPORT, notification__isnull=True, body__id=notification.provider_message_id
    ).order_by("created_at", "id")
    for event in early.select_for_update():
        event.notification = notification
        event.message = ("Arrived before the send's answer. " + _apply_report(notification, event))[:500]
        event.save(update_fields=["notification", "message"])


# -- preferences ------------------------------------------------------------------------------------------------


@transaction.atomic
def notification_preferences_save(*, user: User, language: str, sms_on: list[str]) -> NotificationPreference:
    """Save a person's message language and the kinds of SMS they want (the others are switched off)."""
    if language not in Notification.Language.values:
        raise NotificationError(f"Unknown language {language!r}.")
    preference, _created = NotificationPreference.objects.select_for_update().get_or_create(user=user)
    preference.language = language
    preference.sms_off = sorted(kind for kind in SMS_KINDS if kind not in set(sms_on))
    preference.save()
    return preference
