"""Daraja's identifier shapes: request ids, checkout ids, conversation ids, tokens and M-Pesa receipts."""

import datetime
import secrets
import string

from core.daraja_wire import EAT

_ALPHANUMERIC = string.ascii_letters + string.digits
_RECEIPT_CHARS = string.ascii_uppercase + string.digits
_DAY_CHARS = "123456789ABCDEFGHIJKLMNOPQRSTUV"  # 1-9, then A=10 ... V=31


def eat(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(EAT)


def access_token() -> str:
    """28 alphanumerics, like Daraja's tokens."""
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(28))


def merchant_request_id() -> str:
    """The 2024+ shape: 4hex-4hex-4hex- then 12 hex and 7 digits."""
    return "-".join(
        [
            secrets.token_hex(2),
            secrets.token_hex(2),
            secrets.token_hex(2),
            secrets.token_hex(6) + "".join(secrets.choice(string.digits) for _ in range(7)),
        ]
    )


def checkout_request_id(moment: datetime.datetime, phone: str) -> str:
    """ws_CO_ + DDMMYYYY HHmmss (EAT) + milliseconds + the payer's 9-digit national number."""
    local = eat(moment)
    return f"ws_CO_{local:%d%m%Y%H%M%S}{local.microsecond // 1000:03d}{phone[-9:]}"


def conversation_id(moment: datetime.datetime) -> str:
    """AG_ + YYYYMMDD (EAT) + _ + 20 hex."""
    return f"AG_{eat(moment):%Y%m%d}_{secrets.token_hex(10)}"


def receipt_prefix(moment: datetime.datetime) -> str:
    """Year letter (L=2017 ... U=2026), month letter (A=January), day character (1-9, A=10 ... V=31)."""
    local = eat(moment)
    year = chr(ord("A") + min(max(local.year - 2006, 0), 25))
    return f"{year}{chr(ord('A') + local.month - 1)}{_DAY_CHARS[local.day - 1]}"


def receipt_number(moment: datetime.datetime) -> str:
    return receipt_prefix(moment) + "".join(secrets.choice(_RECEIPT_CHARS) for _ in range(7))


def placeholder_receipt(moment: datetime.datetime) -> str:
    """What result callbacks carry when there is no transaction of their own: the date prefix and zeros."""
    return receipt_prefix(moment) + "0000000"
