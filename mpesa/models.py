from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel


class Payment(TimeStampedModel):
    """One STK push for a booking, from the moment before it is sent until M-Pesa's verdict is verified."""

    class Status(models.TextChoices):
        STARTING = "starting", _("Starting")  # saved, push not yet answered
        PENDING = "pending", _("Waiting for the PIN")
        VERIFYING = "verifying", _("Verifying")  # a success callback, not yet confirmed by a query
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Unknown")  # no verdict within the query window: support checks

    IN_FLIGHT = {Status.STARTING, Status.PENDING, Status.VERIFYING}
    UNSETTLED = {Status.STARTING, Status.PENDING, Status.VERIFYING, Status.UNKNOWN}

    class Flag(models.TextChoices):
        NONE = "", _("None")
        AMOUNT_MISMATCH = "amount_mismatch", _("Amount differs from the request")
        PHONE_MISMATCH = "phone_mismatch", _("Phone differs from the request")
        CONTRADICTED = "contradicted", _("Callback said paid, M-Pesa's query said not")
        DATES_TAKEN = "dates_taken", _("Paid after the dates were taken: refund due")
        OVERPAID = "overpaid", _("Overpaid: refund due")
        RECEIPT_REUSED = "receipt_reused", _("Receipt already used on another payment")

    booking = models.ForeignKey("reservations.Booking", on_delete=models.PROTECT, related_name="payments")
    initiated_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    callback_token = models.CharField(max_length=64, unique=True, editable=False)
    phone = models.CharField(_("payer phone"), max_length=12)
    amount_kes = models.PositiveIntegerField(_("amount requested (KES)"))
    status = models.CharField(max_length=12, choices=Status, default=Status.STARTING)
    merchant_request_id = models.CharField(max_length=80, blank=True)
    checkout_request_id = models.CharField(max_length=80, unique=True, null=True, blank=True)
    result_code = models.CharField(max_length=20, blank=True)
    result_desc = models.CharField(max_length=300, blank=True)
    receipt = models.CharField(_("M-Pesa receipt"), max_length=20, unique=True, null=True, blank=True)
    amount_reported = models.CharField(max_length=20, blank=True)
    phone_reported = models.CharField(max_length=20, blank=True)
    transaction_date = models.CharField(max_length=20, blank=True)
    flag = models.CharField(max_length=20, choices=Flag, blank=True, default=Flag.NONE)
    refund_due_kes = models.PositiveIntegerField(default=0)
    counted_kes = models.PositiveIntegerField(default=0, help_text=_("What this payment added to the booking."))
    guest_code = models.CharField(_("code typed by the guest"), max_length=10, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    push_answered_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    last_query_at = models.DateTimeField(null=True, blank=True)
    query_count = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="payment_status_created"),
            models.Index(fields=["phone", "created_at"], name="payment_phone_created"),
        ]

    def __str__(self) -> str:
        return f"{self.booking_id}: {self.amount_kes} KES ({self.status})"


class PaymentEvent(models.Model):
    """The append-only ledger: every message exchanged with M-Pesa and every decision taken."""

    class Kind(models.TextChoices):
        PUSH_REQUEST = "push_request", _("Push request")
        PUSH_RESPONSE = "push_response", _("Push response")
        PUSH_ERROR = "push_error", _("Push error")
        CALLBACK = "callback", _("Callback")
        QUERY = "query", _("Query and answer")
        DECISION = "decision", _("Decision")
        GUEST_CODE = "guest_code", _("Code typed by the guest")
        UNMATCHED = "unmatched", _("Callback for no known payment")
        RESULT = "result", _("Result callback")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="events", null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    kind = models.CharField(max_length=20, choices=Kind)
    message = models.CharField(max_length=500, blank=True)
    body = models.JSONField(null=True, blank=True)
    raw_body = models.TextField(blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    path_token = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["payment", "created_at"], name="payment_event_timeline")]

    def __str__(self) -> str:
        return f"{self.kind} {self.created_at:%Y-%m-%d %H:%M:%S}"
