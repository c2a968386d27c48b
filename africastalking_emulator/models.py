"""The emulator's state. It lives in the database so that every worker process answers alike."""

from django.conf import settings
from django.db import models


class Message(models.Model):
    """One recipient of one send request, as Africa's Talking answered for it: taken (with a messageId) or refused."""

    message_id = models.CharField(max_length=64, unique=True, null=True, blank=True)  # None when refused
    username = models.CharField(max_length=100)
    sender_id = models.CharField(max_length=20, blank=True)
    to = models.CharField(max_length=20, db_index=True)  # E.164, or as typed when it was not a number
    body = models.TextField()
    status_code = models.PositiveSmallIntegerField()
    # The send-time status (a refusal's name), then the last delivery report's status once it is posted.
    status = models.CharField(max_length=30)
    failure_reason = models.CharField(max_length=40, blank=True)
    cost = models.CharField(max_length=20)
    # Whom the virtual inbox shows it to (from the outbox's signed audience header): an account, a browser session.
    audience_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    audience_session = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.to}: {self.status}"


class PlannedOutcome(models.Model):
    """An outcome set through the test hook for the next messages to a number (every one, or the next `remaining`)."""

    class Answer(models.TextChoices):
        TIMEOUT = "timeout", "Answer later than the client waits"
        HTTP_500 = "http_500", "HTTP 500"
        UNPARSEABLE = "unparseable", "An answer that is not JSON"

    to = models.CharField(max_length=16, db_index=True)  # E.164
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)  # a send-time refusal
    report_status = models.CharField(max_length=30, blank=True)  # the delivery report's status
    failure_reason = models.CharField(max_length=40, blank=True)
    answer = models.CharField(max_length=12, choices=Answer, blank=True)  # the message is taken; the answer is lost
    remaining = models.PositiveSmallIntegerField(null=True, blank=True)  # None: every message until reset
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.to}: {self.status_code or self.report_status or self.answer}"


class DeliveryReport(models.Model):
    """One delivery report POSTed to the merchant's delivery-report URL: sent once, its answer recorded and ignored."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reports")
    url = models.TextField()
    body = models.TextField()  # form-encoded
    report_status = models.CharField(max_length=30)
    failure_reason = models.CharField(max_length=40, blank=True)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status, default=Status.SCHEDULED)
    attempted_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "due_at"], name="at_emu_report_status_due")]

    def __str__(self) -> str:
        return f"{self.message.message_id} -> {self.report_status} ({self.status})"
