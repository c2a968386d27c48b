from django.contrib import admin

from mpesa.models import Payment, PaymentEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Payments change only through mpesa.services, which writes the ledger."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class PaymentEventInline(admin.TabularInline):
    model = PaymentEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "message", "http_status", "source_ip", "body"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


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
