"""Whole Kenyan shillings. Percentages are applied in integers and rounded once."""

# M-Pesa accepts at most this much in one payment; a larger total is paid in instalments.
MPESA_MAX_PAYMENT_KES = 250_000


def percent_of(amount_kes: int, percent: int) -> int:
    """percent% of amount_kes, rounded half up to a whole shilling."""
    return (amount_kes * percent + 50) // 100


def format_kes(amount_kes: int) -> str:
    return f"KES {amount_kes:,}"


def percent_of_rounded_up(amount_kes: int, percent: int) -> int:
    """percent% of amount_kes, rounded up to a whole shilling: for sums owed to the guest, such as refunds."""
    return (amount_kes * percent + 99) // 100
