"""The payment ledger's one writer: every PaymentEvent row (what was said to M-Pesa and what it answered, what
arrived, every decision) is written here. The ledger is append-only; secrets are never in it."""

from mpesa.client import Exchange
from mpesa.models import Payment, PaymentEvent


def ledger_write(
    payment: Payment | None, kind: str, message: str = "", exchange: Exchange | None = None, **fields
) -> PaymentEvent:
    """Add one row to the payment's ledger (`payment` None: a message for no known payment). With an exchange, the
    request sent to M-Pesa and its answer are kept with it."""
    if exchange is not None:
        fields.update(
            body={"endpoint": exchange.endpoint, "request": exchange.request_body, "response": exchange.response_body},
            http_status=exchange.http_status,
        )
    return PaymentEvent.objects.create(payment=payment, kind=kind, message=message[:500], **fields)


def ledger_decide(payment: Payment, message: str, **details) -> PaymentEvent:
    """Record a decision taken about the payment, with the details it rests on (if any)."""
    return ledger_write(payment, PaymentEvent.Kind.DECISION, message, body=details or None)
