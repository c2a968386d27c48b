"""Callbacks and results as they arrived: recorded raw first, each in its own committed INSERT, before anything
else is done with them."""

import json
import math
import re

from django.conf import settings
from django.db import transaction

from mpesa.ledger import ledger_write
from mpesa.models import Payment, PaymentEvent

Kind = PaymentEvent.Kind
RAW_BODY_LIMIT = 64 * 1024  # bytes of an incoming body kept; past it the body is cut, counted and not parsed
RECORDED_HEADERS = {"content-type", "content-length", "user-agent", "x-forwarded-for", "businessshortcode"}


def callback_source_allowed(ip: str | None) -> bool:
    """Whether a callback or result from this address may change anything: it is on MPESA_CALLBACK_ALLOWED_IPS, or
    no allow-list is set. From elsewhere, messages are recorded and answered, never applied."""
    allowed = settings.MPESA_CALLBACK_ALLOWED_IPS
    return not allowed or ip in allowed


def _headers_kept(headers: dict) -> dict:
    return {name: str(value)[:200] for name, value in headers.items() if name.lower() in RECORDED_HEADERS}


def _without_nul(value):
    """PostgreSQL text cannot hold NUL: keep what arrived, with NUL shown as U+FFFD."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    return value


# Lone UTF-16 surrogates: Python's json parser turns "\ud800" into one, PostgreSQL's jsonb refuses it.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# M-Pesa's bodies nest six deep; far deeper ones would break the recursive code that prints a body for staff.
JSON_DEPTH_LIMIT = 32


def _unstorable_json(value) -> str:
    """Why a parsed body cannot be kept as JSON, or "" when it can. Python's parser accepts NaN, Infinity and
    -Infinity (and reads 1e999 as infinity) and lone surrogate escapes; PostgreSQL's jsonb refuses all of them.
    Walked without recursion: the parser accepts nesting deeper than Python's recursion limit."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return "its JSON holds NaN or Infinity, which cannot be stored as JSON"
        if isinstance(item, str) and LONE_SURROGATE.search(item):
            return "its JSON holds a lone surrogate (such as \\ud800), which cannot be stored as JSON"
        if isinstance(item, dict | list) and depth > JSON_DEPTH_LIMIT:
            return f"its JSON nests deeper than {JSON_DEPTH_LIMIT} levels"
        if isinstance(item, dict):
            stack.extend((key, depth) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return ""


def _received(raw_body: bytes, headers: dict, *, size: int | None = None) -> dict:
    """The fields that keep an incoming body: its first RAW_BODY_LIMIT bytes exactly (`raw_bytes`) and how many
    arrived (`raw_size`, `size` when the caller read only the start of it), their text with invalid UTF-8 and NUL
    shown as U+FFFD (`raw_body`), and the parsed JSON (`body`).

    `body` holds the JSON only when the whole body was kept and PostgreSQL can store it as it is; otherwise it is
    NULL and `message` says why. No storable form is made up: a verdict is read only from `body`, so a body with
    NaN, Infinity or a lone surrogate decides nothing, and staff read what arrived in `raw_body` and `raw_bytes`."""
    kept = raw_body[:RAW_BODY_LIMIT]
    size = max(size or 0, len(raw_body))
    text = _without_nul(kept.decode("utf-8", errors="replace"))
    if size > len(kept):
        body, note = None, f"Body cut: the first {len(kept):,} of {size:,} bytes are kept; it was not read as JSON."
    else:
        body, note = _json_kept(text)
    return {
        "raw_bytes": kept,
        "raw_size": size,
        "raw_body": text,
        "body": body,
        "headers": _without_nul(_headers_kept(headers)),
        "message": note,
    }


def _json_kept(text: str) -> tuple[dict | list | None, str]:
    """The parsed JSON object or array when PostgreSQL can store it (NUL shown as U+FFFD), or None and why not."""
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):
        return None, ""
    if not isinstance(body, dict | list):
        return None, ""
    if problem := _unstorable_json(body):
        return None, f"Body kept as received only: {problem}."
    return _without_nul(body), ""


def _record_received(
    payment: Payment | None,
    kind: str,
    message: str,
    *,
    token: str,
    raw_body: bytes,
    size: int | None,
    source_ip: str | None,
    headers: dict,
) -> PaymentEvent:
    received = _received(raw_body, headers, size=size)
    message = " ".join(part for part in (message, received.pop("message")) if part)
    with transaction.atomic(durable=True):
        return ledger_write(
            payment, kind, message, source_ip=source_ip, path_token=_without_nul(token[:80]), **received
        )


def callback_record(
    *,
    payment: Payment | None,
    token: str,
    raw_body: bytes,
    source_ip: str | None,
    headers: dict,
    size: int | None = None,
) -> PaymentEvent:
    """Keep exactly what arrived, before anything else: one INSERT, committed on its own before any processing.
    Callbacks for a token we do not know (`payment` None) are kept too, for staff. `raw_body` is the body or its
    first RAW_BODY_LIMIT bytes, `size` how many bytes arrived in all."""
    return _record_received(
        payment,
        Kind.CALLBACK if payment else Kind.UNMATCHED,
        "" if payment else "Callback for a token we do not know.",
        token=token,
        raw_body=raw_body,
        size=size,
        source_ip=source_ip,
        headers=headers,
    )


def result_record(
    *,
    token: str,
    raw_body: bytes,
    source_ip: str | None,
    headers: dict,
    size: int | None = None,
    trusted: bool = True,
) -> PaymentEvent:
    """Keep a Transaction Status or Reversal result as it arrived (as callback_record does), for
    mpesa.transaction_status.support_result_received to apply. An untrusted one (from an address off the allow-list)
    is recorded and never applied."""
    return _record_received(
        None,
        Kind.RESULT,
        "Result callback."
        if trusted
        else "Result callback from an address not on MPESA_CALLBACK_ALLOWED_IPS: recorded, not applied.",
        token=token,
        raw_body=raw_body,
        size=size,
        source_ip=source_ip,
        headers=headers,
    )
