"""The emulator's state. It lives in the database so that every worker process answers alike."""

from django.db import models
from django.db.models import Q


class Clock(models.Model):
    """One row: how far the emulator's clock runs ahead of the real one (moved by the test hook)."""

    offset_seconds = models.FloatField(default=0)

    def __str__(self) -> str:
        return f"clock +{self.offset_seconds}s"


class AccessToken(models.Model):
    token = models.CharField(max_length=28, unique=True)
    consumer_key = models.CharField(max_length=200)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.token


class StkPush(models.Model):
    """One accepted STK push: the prompt on the payer's phone and, once settled, its result."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        COMPLETED = "completed", "Completed"

    merchant_request_id = models.CharField(max_length=64, unique=True)
    checkout_request_id = models.CharField(max_length=64, unique=True)
    business_short_code = models.CharField(max_length=7)
    transaction_type = models.CharField(max_length=40)
    amount_kes = models.PositiveIntegerField()
    party_a = models.CharField(max_length=12)
    party_b = models.CharField(max_length=12)
    phone = models.CharField(max_length=12, db_index=True)
    callback_url = models.TextField()
    account_reference = models.TextField(blank=True)
    transaction_desc = models.TextField(blank=True)
    created_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status, default=Status.PENDING)
    # The plan made when the push was accepted; settle_at is when it applies (for a prompt that waits for
    # the virtual phone, when the prompt times out unanswered).
    awaits_phone = models.BooleanField(default=False)
    settle_at = models.DateTimeField()
    planned_result_code = models.CharField(max_length=20, default="0")
    planned_result_desc = models.CharField(max_length=200, blank=True)
    planned_callbacks = models.PositiveSmallIntegerField(default=1)
    callback_not_before = models.DateTimeField(null=True, blank=True)
    # Deliver the callbacks from MPESA_EMULATOR_SPOOFED_SOURCE_IP instead of the usual address (test hook).
    planned_spoofed_source = models.BooleanField(default=False)
    # The result, once settled.
    result_code = models.CharField(max_length=20, blank=True)
    result_desc = models.CharField(max_length=200, blank=True)
    query_result_desc = models.CharField(max_length=200, blank=True)
    receipt = models.CharField(max_length=10, unique=True, null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "settle_at"], name="emu_push_status_settle")]
        constraints = [
            # One open prompt per phone: a second push is "Unable to lock subscriber", even in a race.
            models.UniqueConstraint(
                fields=["phone"], condition=Q(status="pending"), name="emu_one_pending_push_per_phone"
            )
        ]

    def __str__(self) -> str:
        return self.checkout_request_id

    @property
    def succeeded(self) -> bool:
        return self.status == self.Status.COMPLETED and self.result_code == "0"


class PlannedOutcome(models.Model):
    """An outcome set through the test hook for the next push to a number."""

    phone = models.CharField(max_length=12, db_index=True)
    result_code = models.CharField(max_length=20, blank=True)  # blank: wait for the virtual phone
    delay_seconds = models.FloatField(null=True, blank=True)
    callbacks = models.PositiveSmallIntegerField(default=1)
    callback_delay_seconds = models.FloatField(null=True, blank=True)
    spoofed_source = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    used_by = models.OneToOneField(StkPush, null=True, blank=True, on_delete=models.SET_NULL)

    def __str__(self) -> str:
        return f"{self.phone} -> {self.result_code}"


class AsyncRequest(models.Model):
    """A Transaction Status query or a Reversal: acknowledged at once, answered later at ResultURL."""

    class Kind(models.TextChoices):
        STATUS = "status", "Transaction status"
        REVERSAL = "reversal", "Reversal"

    kind = models.CharField(max_length=20, choices=Kind)
    originator_conversation_id = models.CharField(max_length=64, unique=True)
    conversation_id = models.CharField(max_length=64, unique=True)
    transaction_id = models.CharField(max_length=100)
    payment = models.ForeignKey(StkPush, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    amount_kes = models.PositiveIntegerField(null=True, blank=True)
    result_code = models.CharField(max_length=20)
    result_desc = models.CharField(max_length=200)
    receipt = models.CharField(max_length=10, unique=True, null=True, blank=True)
    result_url = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["payment"],
                condition=Q(kind="reversal", result_code="0"),
                name="emu_one_successful_reversal_per_payment",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.transaction_id}"


class Delivery(models.Model):
    """One POST of a callback or result to the merchant: sent once, its answer recorded and ignored."""

    class Kind(models.TextChoices):
        STK_CALLBACK = "stk_callback", "STK callback"
        RESULT = "result", "Result"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=20, choices=Kind)
    push = models.ForeignKey(StkPush, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    async_request = models.ForeignKey(
        AsyncRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    url = models.TextField()
    headers = models.JSONField(default=dict)
    body = models.TextField()
    # Set for a spoofed delivery: the local address the POST is sent from instead of the usual one. Text, not an
    # address field, so that a mistyped setting fails the delivery (recorded) rather than the settling.
    source_address = models.CharField(max_length=64, blank=True)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status, default=Status.SCHEDULED)
    attempted_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "due_at"], name="emu_delivery_status_due")]

    def __str__(self) -> str:
        return f"{self.kind} -> {self.url} ({self.status})"

    @property
    def spoofed(self) -> bool:
        return bool(self.source_address)


class ApiCall(models.Model):
    """Each request a client sent to an emulated Daraja endpoint, and the answer it got."""

    method = models.CharField(max_length=10)
    path = models.CharField(max_length=200)
    request_body = models.TextField(blank=True)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.response_status}"
