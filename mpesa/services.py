"""Every change to a payment. Network calls to Daraja happen only outside transactions that hold locks."""

import datetime
import json
import logging
import math
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import User
from core.money import MPESA_MAX_PAYMENT_KES, format_kes
from core.phone import normalise_phone
from core.rate_limits import rate_limit_increment
from mpesa import client
from mpesa.client import DarajaError, StkQueryAnswer, new_token
from mpesa.ledger import ledger_decide, ledger_write
from mpesa.locks import payment_lock, payment_row_lock, payments_in_flight_lock
from mpesa.models import Payment, PaymentEvent
from mpesa.search_text import booking_search_texts
from reservations.models import Booking
from reservations.services import (
    BookingError,
    booking_hold_for_support,
    booking_lock,
    booking_payment_ended,
    booking_payment_started,
    booking_record_payment,
    booking_record_refund_due,
)

logger = logging.getLogger(__name__)

Status = Payment.Status
Kind = PaymentEvent.Kind
RAW_BODY_LIMIT = 64 * 1024  # bytes of an incoming body kept; past it the body is cut, counted and not parsed
GUEST_CODES_PER_PAYMENT = 3
GUEST_CODES_PER_USER_A_DAY = 10
RECORDED_HEADERS = {"content-type", "content-length", "user-agent", "x-forwarded-for", "businessshortcode"}

# What a guest reads for each M-Pesa result code (decisions use the code, never M-Pesa's description).
RESULT_MESSAGES = {
    "1": "Not enough M-Pesa balance. Top up and try again.",
    "2": "M-Pesa declined the amount as below its minimum.",
    "3": "M-Pesa declined the amount as above its maximum.",
    "4": "This would pass your M-Pesa daily limit.",
    "17": "M-Pesa refused a repeat of the same payment so soon. Wait two minutes and try again.",
    "26": "M-Pesa is busy. Please try again in a minute.",
    "1001": "Your phone already has an M-Pesa request open. Finish it, then try again.",
    "1019": "The M-Pesa request expired before it was completed. Try again.",
    "1025": "M-Pesa could not send the prompt to your phone. Try again.",
    "1032": "You cancelled the request on your phone.",
    "1036": "Your phone could not be reached. Check it is on and try again.",
    "1037": "Your phone did not answer — try again.",
    "2001": "Wrong PIN. Try again.",
    "8006": "Your M-Pesa PIN is locked. Contact Safaricom, then try again.",
}


class PaymentError(Exception):
    """A payment could not be started or changed. The message is safe to show."""


def payment_set_status(payment: Payment, to_status: str) -> None:
    """The one way a payment's status changes: Payment.TRANSITIONS decides. The caller saves, with its own fields."""
    if payment.status == to_status:
        return
    if not payment.can_move_to(to_status):
        raise PaymentError(
            _("Payment {id} cannot go from {old} to {new}.").format(
                id=payment.pk, old=payment.get_status_display(), new=Payment.Status(to_status).label
            )
        )
    payment.status = to_status


def result_message(code: str) -> str:
    return _(RESULT_MESSAGES.get(code, "M-Pesa could not complete the payment. Try again."))


def _seconds(seconds: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=seconds)


def callback_url(token: str) -> str:
    base = settings.MPESA_CALLBACK_BASE_URL.rstrip("/")
    return base + reverse("mpesa:stk-callback", kwargs={"token": token})


# ---------------------------------------------------------------------------------------------------------------
# Starting a payment.


def _check_push_limits(*, user: User, phone: str, ip: str | None) -> None:
    """Nobody can flood a phone with PIN prompts. Call inside the transaction that saves the payment: the counts
    roll back with a refusal, so they count pushes admitted, and racing pushes queue on the counters' rows."""
    limits = [
        (f"push:phone:{phone}", settings.MPESA_PUSHES_PER_PHONE),
        (f"push:user:{user.pk}", settings.MPESA_PUSHES_PER_USER),
    ]
    if ip:
        limits.append((f"push:ip:{ip}", settings.MPESA_PUSHES_PER_IP))
    window = settings.MPESA_PUSH_LIMIT_WINDOW_SECONDS
    for key, limit in limits:  # always in this order, so that two pushes never wait for each other's counters
        if rate_limit_increment(key=key, window_seconds=window) > limit:
            raise PaymentError(_("Too many payment requests. Please wait a few minutes and try again."))


def payment_start(*, booking: Booking, user: User, phone: str, ip: str | None = None) -> Payment:
    """Send an STK push for the booking's next amount due. Raises PaymentError with a sentence to show.

    The payment row is committed before Daraja is called, and the answer is recorded in a new transaction.
    """
    try:
        phone = normalise_phone(phone)
    except ValidationError as error:
        raise PaymentError(error.messages[0])
    now = timezone.now()
    with transaction.atomic():
        booking = booking_lock(booking_id=booking.pk)
        if booking.booker_id != user.pk:
            raise PaymentError(_("Only the person who made the booking can pay for it."))
        if payments_in_flight_lock(booking=booking):
            raise PaymentError(_("A payment is already in progress for this booking. Check your phone."))
        if booking.status != Booking.Status.HELD or not booking.holds_nights(now=now):
            raise PaymentError(_("This booking is no longer waiting for payment."))
        amount = min(booking.balance_due_kes, MPESA_MAX_PAYMENT_KES)
        if amount < 1:
            raise PaymentError(_("Nothing is left to pay on this booking."))
        _check_push_limits(user=user, phone=phone, ip=ip)
        payment = Payment.objects.create(
            booking=booking,
            initiated_by=user,
            callback_token=new_token(),
            phone=phone,
            amount_kes=amount,
            search_text=booking_search_texts(booking_ids=[booking.pk]).get(booking.pk, ""),
        )
        blocks_until = now + _seconds(settings.MPESA_PROMPT_SECONDS) + _seconds(settings.MPESA_PAYMENT_GRACE_SECONDS)
        booking_payment_started(
            booking=booking, blocks_until=blocks_until, details={"payment_id": payment.pk, "amount_kes": amount}
        )
    try:
        accepted = client.daraja().stk_push(
            amount_kes=amount,
            phone=phone,
            callback_url=callback_url(payment.callback_token),
            account_reference=booking.ref.replace("-", ""),
            description=f"Booking {booking.ref[-6:]}",
        )
    except DarajaError as error:
        _push_failed(payment_id=payment.pk, error=error)
        raise PaymentError(error.message)
    with transaction.atomic():
        payment = payment_lock(payment_id=payment.pk, booking_id=booking.pk).payment
        ledger_write(payment, Kind.PUSH_RESPONSE, "M-Pesa accepted the request.", accepted.exchange)
        payment.merchant_request_id = accepted.merchant_request_id
        payment.checkout_request_id = payment.checkout_request_id or accepted.checkout_request_id
        payment.push_answered_at = timezone.now()
        fields = ["merchant_request_id", "checkout_request_id", "push_answered_at", "updated_at"]
        if payment.status == Status.STARTING:  # a callback may already have answered
            payment_set_status(payment, Status.PENDING)
            fields.append("status")
        payment.save(update_fields=fields)
    return payment


def _push_failed(*, payment_id: int, error: DarajaError) -> None:
    with transaction.atomic():
        locked = payment_lock(payment_id=payment_id)
        booking, payment = locked.booking, locked.payment
        ledger_write(payment, Kind.PUSH_ERROR, f"{error.code}: {error.message}", error.exchange)
        if payment.status not in (Status.STARTING, Status.PENDING):
            # The push reached the phone after all: a callback (and maybe a query) has decided since.
            ledger_decide(
                payment, f"Push error ({error.code}) after M-Pesa had answered: the payment stays {payment.status}."
            )
            return
        # A push that timed out may still have reached the phone: only a person can tell.
        payment_set_status(payment, Status.UNKNOWN if error.code == "timeout" else Status.FAILED)
        payment.result_code = error.code[:20]
        payment.error_message = error.message[:300]
        payment.settled_at = timezone.now()
        payment.save(update_fields=["status", "result_code", "error_message", "settled_at", "updated_at"])
        booking_payment_ended(
            booking=booking, message=_("The payment request did not go through."), details={"payment_id": payment.pk}
        )


# ---------------------------------------------------------------------------------------------------------------
# Callbacks: recorded raw first, answered, then processed with the payment row locked.


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


def _items(callback: dict) -> dict:
    metadata = callback.get("CallbackMetadata") or {}
    items = metadata.get("Item") if isinstance(metadata, dict) else None
    found = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and "Name" in item:
            found[str(item["Name"])] = item.get("Value")
    return found


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


def callback_apply(*, event: PaymentEvent) -> bool:
    """Apply a recorded STK callback. Duplicates and contradictions change nothing but are recorded. Returns True
    when a success callback moved the payment to verifying: an STK Query must now give the verdict (queued by
    mpesa/callbacks.py, which the callback view calls)."""
    if event.payment_id is None:
        return False
    body = event.body.get("Body") if isinstance(event.body, dict) else None
    callback = body.get("stkCallback") if isinstance(body, dict) else None
    if not isinstance(callback, dict) or "ResultCode" not in callback:
        ledger_decide(event.payment, "Not an STK callback: nothing changed.", event_id=event.pk)
        return False
    code = str(callback.get("ResultCode")).strip()
    verify = False
    with transaction.atomic():
        if code != "0":
            # A failure may release the booking's nights: take the locks in the one order (listing, booking,
            # payment). A success only moves the payment to verifying; its row lock is enough.
            payment = payment_lock(payment_id=event.payment_id, booking_id=event.payment.booking_id).payment
        else:
            payment = payment_row_lock(payment_id=event.payment_id)
        checkout_id = str(callback.get("CheckoutRequestID", ""))
        if payment.checkout_request_id and checkout_id != payment.checkout_request_id:
            ledger_decide(payment, "CheckoutRequestID does not match this payment: nothing changed.", got=checkout_id)
            return False
        if not payment.checkout_request_id and checkout_id:
            # The callback beat the push response: it names the request we are waiting for.
            if Payment.objects.filter(checkout_request_id=checkout_id).exclude(pk=payment.pk).exists():
                ledger_decide(
                    payment, "CheckoutRequestID belongs to another payment: nothing changed.", got=checkout_id
                )
                return False
            payment.checkout_request_id = checkout_id
            payment.merchant_request_id = str(callback.get("MerchantRequestID", ""))[:80]
            payment.save(update_fields=["checkout_request_id", "merchant_request_id", "updated_at"])
        if code == "0":
            verify = _callback_success(payment, callback)
        else:
            _callback_failure(payment, code, str(callback.get("ResultDesc", "")))
    return verify


MISMATCH_FLAGS = {Payment.Flag.AMOUNT_MISMATCH, Payment.Flag.PHONE_MISMATCH, Payment.Flag.RECEIPT_REUSED}


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


def _callback_success(payment: Payment, callback: dict) -> bool:
    """Record what a success callback reports and check it against the request. Returns True when a query must now
    give the verdict: a callback alone confirms nothing, and one that does not match is flagged for support."""
    items = _items(callback)
    receipt = str(items.get("MpesaReceiptNumber") or "").strip().upper()[:20]
    report = {
        "amount_kes": whole_shillings(items.get("Amount")),
        "phone": phone_or_blank(items.get("PhoneNumber")),
        "receipt": receipt,
    }
    if payment.status == Status.SUCCEEDED:
        if receipt and not payment.receipt and not receipt_taken(payment, receipt):
            payment.receipt = receipt
            payment.save(update_fields=["receipt", "updated_at"])
            ledger_decide(payment, "Late callback: receipt filled in; nothing else changed.", receipt=receipt)
        else:
            ledger_decide(payment, "Duplicate success callback: nothing changed.")
        return False
    problem = verdict_problem(payment, **report)
    earlier_problem = _reported_problem(payment)
    if payment.status == Status.VERIFYING and (problem or not earlier_problem):
        ledger_decide(payment, "Duplicate success callback while verifying: nothing changed.")
        return False
    payment.reported = report
    payment.amount_reported = str(items.get("Amount", ""))[:20]
    payment.phone_reported = str(items.get("PhoneNumber", ""))[:20]
    payment.transaction_date = str(items.get("TransactionDate", ""))[:20]
    fields = ["reported", "amount_reported", "phone_reported", "transaction_date", "status", "updated_at"]
    payment_set_status(payment, Status.VERIFYING)
    if problem:
        payment.flag = problem[0]
        payment.save(update_fields=[*fields, "flag"])
        ledger_decide(
            payment,
            f"Success callback does not match the request: {problem[1]}. Flagged; M-Pesa's query decides, and a "
            "payment it calls paid goes to support.",
        )
        return True
    if receipt:
        payment.receipt = receipt
        fields.append("receipt")
    payment.save(update_fields=fields)
    message = "Success callback matches the request; verifying with M-Pesa."
    if earlier_problem:
        message += f" An earlier callback did not ({earlier_problem[1]}); the flag stays on record."
    ledger_decide(payment, message, receipt=receipt)
    return True


def _callback_failure(payment: Payment, code: str, description: str) -> None:
    if payment.status in (Status.SUCCEEDED, Status.VERIFYING):
        ledger_decide(payment, f"Failure callback ({code}) after a success: M-Pesa's query decides; nothing changed.")
        return
    if payment.status == Status.FAILED:
        ledger_decide(payment, f"Duplicate failure callback ({code}): nothing changed.")
        return
    _fail(payment, code=code, description=description, decision=f"Failed by callback: {code}.")


def _fail(payment: Payment, *, code: str, description: str, decision: str) -> None:
    payment_set_status(payment, Status.FAILED)
    payment.result_code = code[:20]
    payment.result_desc = description[:300]
    payment.error_message = result_message(code)
    payment.settled_at = timezone.now()
    payment.save(update_fields=["status", "result_code", "result_desc", "error_message", "settled_at", "updated_at"])
    ledger_decide(payment, decision)
    booking_payment_ended(
        booking=payment.booking,
        message=_("M-Pesa payment failed: {reason}").format(reason=payment.error_message),
        details={"payment_id": payment.pk, "result_code": code},
    )


# ---------------------------------------------------------------------------------------------------------------
# Queries: the verdict that counts.


def payment_verify(*, payment_id: int) -> Payment:
    """Confirm a success callback with an STK Query (an outbound call a forger cannot answer)."""
    payment = Payment.objects.get(pk=payment_id)
    if payment.status != Status.VERIFYING or not payment.checkout_request_id:
        return payment
    return _query_and_settle(payment)


def payment_query(*, payment: Payment) -> Payment:
    """Ask M-Pesa about a payment now, whatever its status and however recently it was asked (support's STK Query),
    and settle the answer through the same path as the panel's check. A payment without a CheckoutRequestID is
    returned as it is: only Transaction Status can find it."""
    if not payment.checkout_request_id:
        return payment
    return _query_and_settle(payment)


def payment_check(*, payment: Payment, now: datetime.datetime | None = None) -> Payment:
    """Ask M-Pesa about a payment still pending, at most once per MPESA_QUERY_EVERY_SECONDS (kept in the database)."""
    now = now or timezone.now()
    with transaction.atomic():
        payment = payment_row_lock(payment_id=payment.pk)
        if payment.status not in (Status.PENDING, Status.VERIFYING, Status.STARTING):
            return payment
        if (
            now - payment.created_at < _seconds(settings.MPESA_QUERY_AFTER_SECONDS)
            and payment.status != Status.VERIFYING
        ):
            return payment
        if payment.last_query_at and now - payment.last_query_at < _seconds(settings.MPESA_QUERY_EVERY_SECONDS):
            return payment
        payment.last_query_at = now
        payment.query_count += 1
        payment.save(update_fields=["last_query_at", "query_count", "updated_at"])
    if not payment.checkout_request_id:
        if now - payment.created_at > _seconds(settings.MPESA_QUERY_WINDOW_SECONDS):
            with transaction.atomic():
                payment = payment_lock(payment_id=payment.pk, booking_id=payment.booking_id).payment
                _mark_unknown(payment, "No answer to the push within the query window.")
        return payment
    return _query_and_settle(payment, now=now)


def _query_and_settle(payment: Payment, *, now: datetime.datetime | None = None) -> Payment:
    try:
        answer = client.daraja().stk_query(checkout_request_id=payment.checkout_request_id)
    except DarajaError as error:
        answer = StkQueryAnswer(final=False, result_desc=error.message, exchange=error.exchange)
    return payment_settle_query(payment_id=payment.pk, answer=answer, now=now)


@transaction.atomic
def payment_settle_query(*, payment_id: int, answer: StkQueryAnswer, now: datetime.datetime | None = None) -> Payment:
    """Apply an STK Query answer. Only a final answer decides; "still processing" never does."""
    now = now or timezone.now()
    payment = payment_lock(payment_id=payment_id).payment
    ledger_write(
        payment, Kind.QUERY, f"Query: {answer.result_code or 'no verdict'} {answer.result_desc}"[:500], answer.exchange
    )
    if payment.status not in (Status.PENDING, Status.VERIFYING, Status.STARTING, Status.UNKNOWN):
        return payment
    if not answer.final:
        if payment.status != Status.UNKNOWN and now - payment.created_at > _seconds(
            settings.MPESA_QUERY_WINDOW_SECONDS
        ):
            _mark_unknown(payment, "No verdict from M-Pesa within the query window.")
        return payment
    if answer.result_code != "0":
        if payment.status == Status.VERIFYING:
            payment.flag = Payment.Flag.CONTRADICTED
            payment.save(update_fields=["flag", "updated_at"])
        _fail(
            payment,
            code=answer.result_code,
            description=answer.result_desc,
            decision=f"M-Pesa's query says the payment did not go through ({answer.result_code}).",
        )
        return payment
    problem = _reported_problem(payment)
    if problem:
        _hold_for_support(payment, flag=problem[0], reason=problem[1])
        return payment
    message = "Verified by M-Pesa's query: paid."
    if payment.flag in MISMATCH_FLAGS:
        message += f" An earlier callback did not match the request ({payment.get_flag_display()}); kept on record."
    payment.result_desc = answer.result_desc[:300]
    payment_succeed(payment, now=now, decision=message, changed=["result_desc"], receipt=payment.receipt or "")
    return payment


def _hold_for_support(payment: Payment, *, flag: str, reason: str) -> None:
    """M-Pesa says paid but the callback did not match the request: unknown, flagged, and the booking keeps its nights
    until support decides. The caller holds the locks (listing, booking, payment)."""
    payment_set_status(payment, Status.UNKNOWN)
    payment.flag = flag
    payment.save(update_fields=["status", "flag", "updated_at"])
    ledger_decide(
        payment,
        f"M-Pesa's query says paid, but the callback did not match the request: {reason}. Marked unknown for "
        "support; the booking keeps its nights until support decides.",
    )
    booking_hold_for_support(
        booking=payment.booking,
        message=_("M-Pesa says a payment arrived that does not match the request; support will check."),
        details={"payment_id": payment.pk},
    )


def payment_release_nights(*, payment_id: int) -> None:
    """Support has decided about a payment that was held for them: its booking stops holding the nights without end
    and waits for payment again within a fresh hold. Nothing happens for any other payment."""
    with transaction.atomic():
        locked = payment_lock(payment_id=payment_id)
        booking, payment = locked.booking, locked.payment
        if payment.status != Status.UNKNOWN or booking.status != Booking.Status.AWAITING_PAYMENT:
            return
        if booking.blocks_until is not None:
            return
        ledger_decide(payment, "Support decided: the booking no longer holds its nights for this payment.")
        booking_payment_ended(
            booking=booking,
            message=_("Support checked the M-Pesa payment; the booking waits for payment again."),
            details={"payment_id": payment.pk},
        )


def _mark_unknown(payment: Payment, reason: str) -> None:
    payment_set_status(payment, Status.UNKNOWN)
    payment.save(update_fields=["status", "updated_at"])
    ledger_decide(payment, reason + " Marked unknown; support will check.")
    booking_payment_ended(
        booking=payment.booking,
        message=_("We could not yet confirm the M-Pesa payment; support will check."),
        details={"payment_id": payment.pk},
    )


def payment_succeed(
    payment: Payment, *, now: datetime.datetime, decision: str, changed: Iterable[str] = (), **details
) -> None:
    """M-Pesa's verdict says paid (an STK Query, a Transaction Status): the one way a payment is marked succeeded
    (result code 0, settled now), the decision put on the ledger, and the payment counted towards its booking.
    `changed` names other fields the caller set on the payment, saved with it. The caller holds payment_lock and
    has checked the verdict (verdict_problem)."""
    payment_set_status(payment, Status.SUCCEEDED)
    payment.result_code = "0"
    payment.settled_at = now
    payment.save(update_fields=[*changed, "status", "result_code", "settled_at", "updated_at"])
    ledger_decide(payment, decision, **details)
    payment_count_verified(payment, now=now)


def payment_count_verified(payment: Payment, *, now: datetime.datetime) -> None:
    """Add a verified payment to its booking exactly once; money the booking cannot keep becomes a refund due.

    The caller holds payment_lock (the payment's booking is the locked row) and has marked the payment succeeded."""
    if payment.counted_kes or payment.refund_due_kes:
        return
    booking = payment.booking
    details = {"payment_id": payment.pk, "receipt": payment.receipt or ""}
    if booking.status in (Booking.Status.CONFIRMED, Booking.Status.CANCELLED) or booking.balance_due_kes == 0:
        _refund_due(payment, booking, Payment.Flag.OVERPAID, _("paid after the booking was settled"), details)
        return
    try:
        with transaction.atomic():
            booking_record_payment(booking=booking, amount_kes=payment.amount_kes, details=details, now=now)
            payment.counted_kes = payment.amount_kes
            payment.save(update_fields=["counted_kes", "updated_at"])
    except BookingError as error:
        # The savepoint rolled back what was counted: read the booking again.
        booking = payment.booking = Booking.objects.get(pk=booking.pk)
        _refund_due(payment, booking, Payment.Flag.DATES_TAKEN, str(error), details)
        return
    ledger_decide(payment, f"Counted {format_kes(payment.amount_kes)} towards booking {booking.ref}.")


def _refund_due(payment: Payment, booking: Booking, flag: str, reason: str, details: dict) -> None:
    payment.flag = flag
    payment.refund_due_kes = payment.amount_kes
    payment.save(update_fields=["flag", "refund_due_kes", "updated_at"])
    booking_record_refund_due(booking=booking, amount_kes=payment.amount_kes, reason=reason, details=details)
    ledger_decide(payment, f"Not counted: {reason}. Refund of {format_kes(payment.amount_kes)} due.")


def payment_record_guest_code(*, payment: Payment, user: User, code: str) -> Payment:
    """Keep the M-Pesa code a guest typed from their SMS, for support to verify. Raises PaymentError."""
    code = code.strip().upper()
    if len(code) != 10 or not code.isalnum() or not code.isascii():
        raise PaymentError(_("An M-Pesa code has 10 letters and digits, e.g. UKK4H7TQ2M."))
    with transaction.atomic():
        payment = payment_row_lock(payment_id=payment.pk)
        if payment.booking.booker_id != user.pk:
            raise PaymentError(_("Only the person who made the booking can do this."))
        if payment.status not in Payment.UNSETTLED:
            raise PaymentError(_("This payment is already settled: M-Pesa has told us how it ended."))
        # Counted under the payment's lock, from the codes kept: exact however many arrive at once.
        if payment.events.filter(kind=Kind.GUEST_CODE).count() >= GUEST_CODES_PER_PAYMENT:
            raise PaymentError(
                _("You have sent {count} M-Pesa codes for this payment. Support will check them.").format(
                    count=GUEST_CODES_PER_PAYMENT
                )
            )
        # Counted inside this transaction, so a refused code is not counted.
        if rate_limit_increment(key=f"guest-codes:user:{user.pk}", window_seconds=86_400) > GUEST_CODES_PER_USER_A_DAY:
            raise PaymentError(
                _("You have sent {count} M-Pesa codes today. Please try again tomorrow.").format(
                    count=GUEST_CODES_PER_USER_A_DAY
                )
            )
        payment.guest_code = code
        payment.save(update_fields=["guest_code", "updated_at"])
        ledger_write(payment, Kind.GUEST_CODE, f"The guest typed the M-Pesa code {code}.", body={"code": code})
    return payment


def payments_reconcile(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Settle every pending or verifying payment through the same path as the panel's check."""
    now = now or timezone.now()
    checked = settled = 0
    for payment in Payment.objects.filter(status__in=[Status.STARTING, Status.PENDING, Status.VERIFYING]):
        after = payment_check(payment=payment, now=now)
        checked += 1
        settled += after.status not in Payment.IN_FLIGHT
    return {"checked": checked, "settled": settled}


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
