"""Reads for the virtual phone."""

from django.db.models import QuerySet

from .models import StkPush
from .services import emulator_now


def prompts_pending(*, phone: str | None = None) -> QuerySet[StkPush]:
    """Prompts still open on the virtual phone, oldest first (a timed-out prompt is not shown; the sender
    settles it)."""
    queryset = StkPush.objects.filter(awaits_phone=True, status=StkPush.Status.PENDING, settle_at__gt=emulator_now())
    if phone:
        queryset = queryset.filter(phone=phone)
    return queryset.order_by("created_at", "pk")
