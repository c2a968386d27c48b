import json

from django.contrib import admin

from core.admin_readonly import ReadOnlyAdmin, ReadOnlyTabularInline
from core.redact import mask_payment_tokens, masked
from mpesa.models import (
    AttentionResolution,
    Payment,
    PaymentEvent,
    Refund,
    StatusRequest,
    SupportAction,
    UnmatchedCallbackLink,
)


@admin.display(description="body")
def masked_body(event: PaymentEvent) -> str:
    """The parsed body with the tokens of our callback and result URLs masked."""
    return "" if event.body is None else json.dumps(masked(event.body), ensure_ascii=False)


@admin.display(description="raw body")
def masked_raw_body(event: PaymentEvent) -> str:
    return mask_payment_tokens(event.raw_body)


class PaymentEventInline(ReadOnlyTabularInline):
    model = PaymentEvent
    fields = ["created_at", "kind", "message", "http_status", "source_ip", masked_body]
    readonly_fields = fields


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "booking", "phone", "amount_kes", "status", "receipt", "flag"]
    list_filter = ["status", "flag"]
    search_fields = ["receipt", "checkout_request_id", "phone", "booking__ref"]
    inlines = [PaymentEventInline]


@admin.register(PaymentEvent)
class PaymentEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "payment", "kind", "message", "source_ip"]
    list_filter = ["kind"]
    search_fields = ["payment__booking__ref"]
    # The token a callback's path named, and bodies that may hold our URLs, are never shown as they are.
    fields = [
        "payment",
        "created_at",
        "kind",
        "message",
        "http_status",
        "source_ip",
        "headers",
        masked_body,
        masked_raw_body,
    ]
    readonly_fields = fields


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "payment", "amount_kes", "method", "status", "requested_by", "approved_by"]
    list_filter = ["status", "method"]
    search_fields = ["payment__receipt", "booking__ref", "reversal_receipt", "manual_reference"]


@admin.register(StatusRequest)
class StatusRequestAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "payment", "receipt", "status", "result_code"]
    list_filter = ["status"]


@admin.register(SupportAction)
class SupportActionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "kind", "payment", "reason"]
    list_filter = ["kind"]
    search_fields = ["actor__email", "reason"]


@admin.register(AttentionResolution)
class AttentionResolutionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "object_id", "resolved_by", "note"]


@admin.register(UnmatchedCallbackLink)
class UnmatchedCallbackLinkAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "event", "payment", "linked_by", "note"]
