"""The tokens in M-Pesa's callback and result URLs, and the one in the SMS delivery-report URL, are secrets: whoever
knows one can post to it. They are masked wherever we show or log text that may hold them (pages, the admin, our
logs, gunicorn's access log).

No Django imports here: gunicorn loads this before Django is set up.
"""

import logging
import re

MASK = "…"
# /payments/stk-callback/<token>/, /payments/result/<token>/, /payments/timeout/<token>/ (and without the slash), and
# /notifications/sms/delivery/<token>/.
PAYMENT_TOKEN = re.compile(r"(/payments/[a-z-]+/|/notifications/sms/delivery/)[^/?#\s\"'<>\\]+")


def mask_payment_tokens(text: str) -> str:
    """The text with the token segment of every /payments/<kind>/<token>/ and /notifications/sms/delivery/<token>/
    path replaced by an ellipsis."""
    return PAYMENT_TOKEN.sub(r"\g<1>" + MASK, text)


def masked(value):
    """A JSON value with every string in it masked (keys too)."""
    if isinstance(value, str):
        return mask_payment_tokens(value)
    if isinstance(value, list):
        return [masked(item) for item in value]
    if isinstance(value, dict):
        return {masked(key): masked(item) for key, item in value.items()}
    return value


class TokenMaskingFormatter(logging.Formatter):
    """Formats a record as usual (traceback included), then masks payment tokens in the whole line."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_payment_tokens(super().format(record))
