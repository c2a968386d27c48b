"""Daraja's asynchronous requests (Reversal, Transaction Status): where their results are sent, how a result is read,
and the results kept for a request.

M-Pesa acknowledges such a request at once and posts its result later to the request's own URL, where
mpesa.views.async_result records it raw. A result applies only once the acknowledgement is recorded and only when it
names the ConversationID M-Pesa acknowledged; one that arrives before the acknowledgement is recorded is kept, and
applied when it is (results_kept).
"""

from django.conf import settings
from django.urls import reverse

from mpesa.models import PaymentEvent
from mpesa.services import callback_source_allowed


def result_urls(token: str) -> tuple[str, str]:
    base = settings.MPESA_CALLBACK_BASE_URL.rstrip("/")
    return (
        base + reverse("mpesa:result", kwargs={"token": token}),
        base + reverse("mpesa:timeout", kwargs={"token": token}),
    )


def result_of(event: PaymentEvent) -> dict | None:
    result = event.body.get("Result") if isinstance(event.body, dict) else None
    return result if isinstance(result, dict) and "ResultCode" in result else None


def result_parameters(result: dict) -> dict:
    """ResultParameters.ResultParameter is a list, or a single object when there is one entry."""
    container = result.get("ResultParameters")
    items = container.get("ResultParameter") if isinstance(container, dict) else None
    if isinstance(items, dict):
        items = [items]
    found = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and "Key" in item:
            found[str(item["Key"])] = item.get("Value")
    return found


def result_names_another_conversation(result: dict, conversation_id: str) -> bool:
    return str(result.get("ConversationID") or "") != conversation_id


def results_kept(*, token: str) -> list[PaymentEvent]:
    """The results recorded for this request's token from an address M-Pesa calls from, oldest first: those that
    arrived while the request's call was still returning."""
    events = PaymentEvent.objects.filter(kind=PaymentEvent.Kind.RESULT, path_token=token).order_by("id")
    return [event for event in events if callback_source_allowed(event.source_ip)]
