"""The outbox: every e-mail and SMS the site sends, and what happened to it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel


class Notification(TimeStampedModel):
    """One message to one recipient on one channel, created in the transaction of the event that causes it and sent
    after that transaction commits."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")

    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        KISWAHILI = "sw", _("Kiswahili")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")  # handed to the mail server or taken by Africa's Talking
        DELIVERED = "delivered", _("Delivered")  # the handset confirmed (SMS only)
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Unknown")  # the send's outcome never came back: never sent again

    # Every legal move. A message whose send may have gone out is never queued again (at most once); a delivery
    # report settles a sent or unknown one; a handset's confirmation outweighs an earlier failure report (a network
    # retries an absent subscriber).
    TRANSITIONS = {
        Status.QUEUED: {Status.SENT, Status.FAILED, Status.UNKNOWN},
        Status.SENT: {Status.DELIVERED, Status.FAILED},
        Status.UNKNOWN: {Status.DELIVERED, Status.FAILED},
        Status.FAILED: {Status.DELIVERED},
        Status.DELIVERED: set(),
    }

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    # An e-mail address (lower case) or an E.164 number (+2547XXXXXXXX).
    address = models.CharField(max_length=254)
    channel = models.CharField(max_length=5, choices=Channel)
    kind = models.CharField(max_length=40)
    # What caused it, as a stable key: "booking-event:123", "payment-event:45", "reminder:booking-12:2027-01-05".
    object_key = models.CharField(max_length=100)
    # The booking it concerns, for its timeline (no foreign key: notifications sit below reservations).
    booking_ref = models.CharField(max_length=12, blank=True, db_index=True)
    language = models.CharField(max_length=2, choices=Language, default=Language.ENGLISH)
    subject = models.CharField(max_length=250, blank=True)
    body = models.TextField()
    html_body = models.TextField(blank=True)
    # A sign-in or verification code: its body is never shown and is erased once sending is over.
    secret = models.BooleanField(default=False)
    # For the SMS emulator's virtual inbox only: a keyed hash of the browser session waiting for this message.
    audience_session = models.CharField(max_length=64, blank=True, editable=False)
    status = models.CharField(max_length=10, choices=Status, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Set while an attempt is on its way and cleared when its outcome is recorded; an attempt that never records one
    # (a worker that died mid-send) is marked unknown by the sweep, never sent again.
    sending_since = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=100, blank=True)
    # What Africa's Talking says: the send-time or last delivery-report status, the failure reason and the cost as
    # it writes it ("KES 0.8000": fractions of a shilling, not our money).
    provider_status = models.CharField(max_length=40, blank=True)
    failure_reason = models.CharField(max_length=60, blank=True)
    cost = models.CharField(max_length=30, blank=True)
    error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_key", "address", "channel"], name="notification_once_per_recipient"
            ),
            models.UniqueConstraint(
                fields=["provider_message_id"],
                condition=~Q(provider_message_id=""),
                name="notification_provider_message_id",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="notification_status_created")]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel} to {self.address} ({self.status})"

    def can_move_to(self, new_status: str) -> bool:
        return new_status in self.TRANSITIONS.get(self.status, ())

    @property
    def shown_body(self) -> str:
        """The body as any page may show it: never a code's."""
        return "" if self.secret else self.body


class NotificationEvent(models.Model):
    """What happened to a notification: each send attempt and its answer, each delivery report exactly as it arrived
    (reports for no message of ours too, with no notification), each status change."""

    class Kind(models.TextChoices):
        ATTEMPT = "attempt", _("Send attempt and answer")
        REPORT = "report", _("Delivery report")
        DECISION = "decision", _("Decision")

    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    kind = models.CharField(max_length=10, choices=Kind)
    message = models.CharField(max_length=500, blank=True)
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # The request as sent (no key, no body text) and the answer or the report's fields.
    body = models.JSONField(null=True, blank=True)
    # An incoming report exactly as it arrived (its first bytes), and how many bytes arrived.
    raw_bytes = models.BinaryField(null=True, blank=True)
    raw_size = models.PositiveIntegerField(null=True, blank=True)
    raw_body = models.TextField(blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["notification", "created_at"], name="notification_event_timeline")]

    def __str__(self) -> str:
        return f"{self.kind} {self.created_at:%Y-%m-%d %H:%M:%S}"


class NotificationPreference(models.Model):
    """A person's choices about their messages: the language of their SMS (and e-mails where written in it), and
    which kinds of SMS they do not want (notifications.kinds.SMS_KINDS). Without a row: English, every SMS on."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    language = models.CharField(
        _("language of messages"), max_length=2, choices=Notification.Language, default=Notification.Language.ENGLISH
    )
    sms_off = models.JSONField(_("SMS switched off"), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Preferences of user {self.user_id}"
