import json

from django.contrib import admin

from core.admin_readonly import ReadOnlyAdmin, ReadOnlyTabularInline
from notifications.models import Notification, NotificationEvent


@admin.display(description="fields")
def event_body(event: NotificationEvent) -> str:
    return "" if event.body is None else json.dumps(event.body, ensure_ascii=False)


class NotificationEventInline(ReadOnlyTabularInline):
    model = NotificationEvent
    fields = ["created_at", "kind", "message", "from_status", "to_status", "http_status", event_body, "raw_body"]
    readonly_fields = fields


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "channel", "address", "status", "booking_ref", "attempts"]
    list_filter = ["status", "channel", "kind"]
    search_fields = ["booking_ref", "address", "provider_message_id", "object_key"]
    # The body as any page may show it: a code's never.
    fields = [
        "created_at",
        "kind",
        "object_key",
        "booking_ref",
        "channel",
        "address",
        "recipient",
        "language",
        "status",
        "attempts",
        "provider_message_id",
        "provider_status",
        "failure_reason",
        "cost",
        "error",
        "sent_at",
        "finished_at",
        "subject",
        "shown_body",
        "secret",
    ]
    readonly_fields = fields
    inlines = [NotificationEventInline]


@admin.register(NotificationEvent)
class NotificationEventAdmin(ReadOnlyAdmin):
    """Every event, delivery reports for no message of ours included."""

    list_display = ["created_at", "kind", "notification", "message", "source_ip"]
    list_filter = ["kind"]
    fields = [
        "created_at",
        "kind",
        "notification",
        "message",
        "from_status",
        "to_status",
        "http_status",
        event_body,
        "raw_body",
        "raw_size",
        "source_ip",
    ]
    readonly_fields = fields
