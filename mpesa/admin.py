from django.contrib import admin

from core.admin_readonly import ReadOnlyAdmin, ReadOnlyTabularInline
from mpesa.models import Payment, PaymentEvent


class PaymentEventInline(ReadOnlyTabularInline):
    model = PaymentEvent
    fields = ["created_at", "kind", "message", "http_status", "source_ip", "body"]
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
    search_fields = ["payment__booking__ref", "path_token", "raw_body"]
