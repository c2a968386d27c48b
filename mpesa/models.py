from django.conf import settings
from django.db import models
from django.db.models import Q
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

    # Where a payment may go from each status. Only a query (or support's Transaction Status) makes it succeeded, and
    # nothing leaves succeeded: money received stays received, refunds are records of their own. A success callback
    # after a failure goes back to verifying, so that a query settles it.
    TRANSITIONS = {
        Status.STARTING: {Status.PENDING, Status.VERIFYING, Status.SUCCEEDED, Status.FAILED, Status.UNKNOWN},
        Status.PENDING: {Status.VERIFYING, Status.SUCCEEDED, Status.FAILED, Status.UNKNOWN},
        Status.VERIFYING: {Status.SUCCEEDED, Status.FAILED, Status.UNKNOWN},
        Status.UNKNOWN: {Status.VERIFYING, Status.SUCCEEDED, Status.FAILED},
        Status.FAILED: {Status.VERIFYING, Status.UNKNOWN},
        Status.SUCCEEDED: set(),
    }
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

    # Indexed with created_at and id below (payment_booking_created), which also serves every lookup by booking.
    booking = models.ForeignKey(
        "reservations.Booking", on_delete=models.PROTECT, related_name="payments", db_index=False
    )
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
    # What the last success callback said (amount in whole shillings or null, normalised phone, receipt), checked
    # again when a query says paid; null while no success callback has been applied.
    reported = models.JSONField(null=True, blank=True, editable=False)
    # Refunds that hold part of this payment: succeeded, or on their way (requested, approved, sent, or reported failed
    # but not yet confirmed). Kept by mpesa.refunds under the payment lock.
    refund_committed_kes = models.PositiveIntegerField(default=0)
    guest_code = models.CharField(_("code typed by the guest"), max_length=10, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    push_answered_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    last_query_at = models.DateTimeField(null=True, blank=True)
    query_count = models.PositiveSmallIntegerField(default=0)
    # The booking's names, e-mail addresses and listing title, normalised, one per line; kept up to date by
    # mpesa.search_text. The console's name search reads it through a trigram index (PostgreSQL, migration 0007).
    search_text = models.TextField(blank=True, default="", editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="payment_status_created"),
            # A booking's payments newest first; the console's name search reads the newest payments of thousands
            # of bookings from this index alone.
            models.Index(fields=["booking", "created_at", "id"], name="payment_booking_created"),
            models.Index(fields=["phone", "created_at"], name="payment_phone_created"),
            # Newest first, for dates and for the name search, which filters search_text from this index alone
            # (PostgreSQL; SQLite leaves out INCLUDE).
            models.Index(fields=["created_at", "id"], include=["search_text"], name="payment_created_search"),
            models.Index(fields=["amount_kes", "created_at"], name="payment_amount_created"),
            models.Index(fields=["guest_code"], name="payment_guest_code", condition=~Q(guest_code="")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(refund_committed_kes__lte=models.F("amount_kes")), name="payment_refunds_within_amount"
            )
        ]

    def __str__(self) -> str:
        return f"{self.booking_id}: {self.amount_kes} KES ({self.status})"

    def can_move_to(self, new_status: str) -> bool:
        return new_status in self.TRANSITIONS.get(self.status, ())


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
    # An incoming body exactly as it arrived (its first RAW_BODY_LIMIT bytes), and how many bytes arrived:
    # raw_size > len(raw_bytes) means the body was cut. Outgoing exchanges and decisions leave both NULL.
    raw_bytes = models.BinaryField(null=True, blank=True)
    raw_size = models.PositiveIntegerField(null=True, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    path_token = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["payment", "created_at"], name="payment_event_timeline")]

    def __str__(self) -> str:
        return f"{self.kind} {self.created_at:%Y-%m-%d %H:%M:%S}"


# ---------------------------------------------------------------------------------------------------------------
# The support console: staff actions, refunds, Transaction Status requests, resolutions and links.


class SupportAction(models.Model):
    """One thing a member of staff did in the support console: who, when, what, why. Append-only."""

    class Kind(models.TextChoices):
        QUERY_STK = "query_stk", _("Asked M-Pesa (STK Query)")
        QUERY_STATUS = "query_status", _("Asked M-Pesa (Transaction Status)")
        REFUND_REQUEST = "refund_request", _("Requested a refund")
        REFUND_APPROVE = "refund_approve", _("Approved a refund")
        LINK_CALLBACK = "link_callback", _("Linked an unmatched callback")
        RESOLVE = "resolve", _("Resolved an attention item")
        EXPORT = "export", _("Exported transactions")

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reason = models.CharField(max_length=500)
    details = models.JSONField(default=dict, blank=True)
    # The form's one-time key: a resubmitted form finds its action already recorded and records nothing.
    idempotency_key = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        default_permissions = ()
        # The support console's permissions, listed here only: the console's views and seed_demo read them from
        # this model.
        permissions = [
            ("view_transactions", "Can view transactions in the support console"),
            ("query_mpesa", "Can ask M-Pesa about a payment"),
            ("request_refund", "Can request refunds"),
            ("approve_refund", "Can approve refunds"),
            ("resolve_exception", "Can resolve attention items and link callbacks"),
            ("export_transactions", "Can export transactions"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["actor", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="support_action_once_per_form",
            )
        ]
        indexes = [models.Index(fields=["payment", "created_at"], name="support_action_payment")]

    def __str__(self) -> str:
        return f"{self.kind} by {self.actor_id} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class Refund(TimeStampedModel):
    """Money going back to the payer of one payment, by M-Pesa Reversal or as a recorded manual transfer."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        SENT = "sent", _("Sent to M-Pesa")
        # M-Pesa's result said the reversal failed. The money may still have gone back: the amount stays held until a
        # Transaction Status on the original receipt shows the payment was not reversed.
        FAILURE_REPORTED = "failure_reported", _("Failure reported: confirm with Transaction Status")
        SUCCEEDED = "succeeded", _("Refunded")
        FAILED = "failed", _("Failed")

    class Method(models.TextChoices):
        REVERSAL = "reversal", _("M-Pesa reversal to the payer")
        MANUAL = "manual", _("Manual transfer (recorded)")

    class Flag(models.TextChoices):
        NONE = "", _("None")
        SUCCESS_AFTER_FAILURE = "success_after_failure", _("Reversed after a reported failure: possible double refund")

    # Where a refund may go from each status. A failure M-Pesa reports is confirmed only by a Transaction Status;
    # a success that arrives after a failure is still applied (the money did go back), with a flag.
    TRANSITIONS = {
        Status.REQUESTED: {Status.APPROVED},
        Status.APPROVED: {Status.SENT, Status.SUCCEEDED},  # a manual transfer is recorded as done
        Status.SENT: {Status.SUCCEEDED, Status.FAILURE_REPORTED, Status.FAILED},  # failed: M-Pesa refused the request
        Status.FAILURE_REPORTED: {Status.SUCCEEDED, Status.FAILED},
        Status.FAILED: {Status.SUCCEEDED},
        Status.SUCCEEDED: set(),
    }
    # Refunds that hold part of the payment (Payment.refund_committed_kes): a new request may only use what is left.
    OPEN = {Status.REQUESTED, Status.APPROVED, Status.SENT, Status.FAILURE_REPORTED, Status.SUCCEEDED}

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    booking = models.ForeignKey("reservations.Booking", on_delete=models.PROTECT, related_name="refunds")
    amount_kes = models.PositiveIntegerField(_("amount (KES)"))
    method = models.CharField(max_length=10, choices=Method, default=Method.REVERSAL)
    manual_reference = models.CharField(max_length=60, blank=True)
    status = models.CharField(max_length=20, choices=Status, default=Status.REQUESTED)
    flag = models.CharField(max_length=30, choices=Flag, blank=True, default=Flag.NONE)
    reason = models.CharField(max_length=500)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    result_token = models.CharField(max_length=64, unique=True, editable=False)
    conversation_id = models.CharField(max_length=80, blank=True)
    originator_conversation_id = models.CharField(max_length=80, blank=True)
    result_code = models.CharField(max_length=20, blank=True)
    result_desc = models.CharField(max_length=300, blank=True)
    reversal_receipt = models.CharField(max_length=20, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # When the reversal call returned (acknowledged, refused, or no answer in time). A result that arrives before then
    # is kept and applied once the answer is recorded.
    reversal_answered_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="refund_status_created"),
            models.Index(fields=["settled_at"], name="refund_settled"),
        ]

    def __str__(self) -> str:
        return f"Refund {self.pk}: {self.amount_kes} KES ({self.status})"

    def can_move_to(self, new_status: str) -> bool:
        return new_status in self.TRANSITIONS.get(self.status, ())


class StatusRequest(models.Model):
    """A Transaction Status query sent by the console; M-Pesa answers later at its own result URL."""

    class Status(models.TextChoices):
        SENT = "sent", _("Waiting for M-Pesa")
        ANSWERED = "answered", _("Answered")
        FAILED = "failed", _("Not sent")

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="status_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    receipt = models.CharField(max_length=20)
    result_token = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(max_length=10, choices=Status, default=Status.SENT)
    conversation_id = models.CharField(max_length=80, blank=True)
    result_code = models.CharField(max_length=20, blank=True)
    result_desc = models.CharField(max_length=300, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Status of {self.receipt} ({self.status})"


class AttentionResolution(models.Model):
    """A person looked at an attention item and wrote down what was done. Append-only."""

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    kind = models.CharField(max_length=30)
    object_id = models.PositiveBigIntegerField()
    note = models.CharField(max_length=500)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="attention_resolved_once")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} resolved"


class UnmatchedCallbackLink(models.Model):
    """Staff tie a callback that named no known payment to its payment; the callback row itself is untouched."""

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    event = models.OneToOneField(PaymentEvent, on_delete=models.PROTECT, related_name="link")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="linked_callbacks")
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=500)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Callback {self.event_id} -> payment {self.payment_id}"
