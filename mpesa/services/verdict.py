"""The one check that a verdict matches its request, and how M-Pesa's reported values are read for it."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from core.phone import normalise_phone
from mpesa.models import Payment

MISMATCH_FLAGS = {Payment.Flag.AMOUNT_MISMATCH, Payment.Flag.PHONE_MISMATCH, Payment.Flag.RECEIPT_REUSED}


def whole_shillings(value) -> int | None:
    """An amount M-Pesa reported ("4500", 4500.0, "4500.00") as whole shillings; None for fractions or garbage."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if amount != amount.to_integral_value() or amount < 0:
        return None
    return int(amount)


def phone_or_blank(value) -> str:
    try:
        return normalise_phone(str(value))
    except ValidationError:
        return ""


def verdict_problem(payment: Payment, *, amount_kes: int | None, phone: str, receipt: str) -> tuple[str, str] | None:
    """The one check that a verdict matches its request, for success callbacks, STK queries (through what the
    callback reported) and Transaction Status results alike: the amount asked for, the payer asked, and a receipt
    no other payment holds. Returns (flag, reason) for the first difference, None when it matches."""
    if amount_kes != payment.amount_kes:
        return Payment.Flag.AMOUNT_MISMATCH, "amount differs from the request"
    if phone != payment.phone:
        return Payment.Flag.PHONE_MISMATCH, "payer's phone differs from the request"
    if receipt_taken(payment, receipt):
        return Payment.Flag.RECEIPT_REUSED, "receipt already used on another payment"
    return None


def receipt_taken(payment: Payment, receipt: str) -> bool:
    """Whether another payment already holds this M-Pesa receipt: one receipt pays for one payment."""
    return bool(receipt) and Payment.objects.filter(receipt=receipt).exclude(pk=payment.pk).exists()


def _reported_problem(payment: Payment) -> tuple[str, str] | None:
    """The verdict check on what the last success callback reported; None when none came (a query alone decides)."""
    if not isinstance(payment.reported, dict):
        return None
    report = payment.reported
    return verdict_problem(
        payment,
        amount_kes=report.get("amount_kes"),
        phone=str(report.get("phone") or ""),
        receipt=str(report.get("receipt") or ""),
    )
