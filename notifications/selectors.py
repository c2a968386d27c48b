from django.db.models import QuerySet

from notifications.models import Notification


def notification_timeline(*, booking_ref: str) -> QuerySet:
    """A booking's notifications as its timeline shows them, oldest first: kind, channel, status, times and what
    Africa's Talking reported. Never a body (a sign-in code's least of all)."""
    return (
        Notification.objects.filter(booking_ref=booking_ref)
        .order_by("created_at", "id")
        .values(
            "id",
            "kind",
            "channel",
            "address",
            "status",
            "attempts",
            "created_at",
            "sent_at",
            "finished_at",
            "provider_status",
            "failure_reason",
            "error",
        )
    )
