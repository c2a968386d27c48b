"""Every change to a payment. Network calls to Daraja happen only outside transactions that hold locks.

One module per step of a payment's life; this package re-exports their services, so `mpesa.services` stays the
import path:
- status.py       the one way a payment's status changes, and the words for each M-Pesa result code
- start.py        the STK Push (payment_start)
- received.py     callbacks and results recorded raw, before anything else (callback_record, result_record)
- stk_callback.py applying a recorded STK callback (callback_apply)
- verdict.py      the one check that a verdict matches its request (verdict_problem)
- settle.py       STK Queries and what each verdict does: failed, unknown, held for support (payment_settle_query)
- counting.py     a payment M-Pesa confirmed: marked paid and counted towards its booking once (payment_succeed)
- guest_codes.py  the M-Pesa code a guest types from their SMS
"""

from mpesa.services.counting import payment_count_verified, payment_succeed
from mpesa.services.guest_codes import GUEST_CODES_PER_PAYMENT, GUEST_CODES_PER_USER_A_DAY, payment_record_guest_code
from mpesa.services.received import RAW_BODY_LIMIT, callback_record, callback_source_allowed, result_record
from mpesa.services.settle import (
    payment_check,
    payment_query,
    payment_release_nights,
    payment_settle_query,
    payment_verify,
    payments_reconcile,
)
from mpesa.services.start import _push_failed, callback_url, payment_start
from mpesa.services.status import RESULT_MESSAGES, PaymentError, payment_set_status, result_message
from mpesa.services.stk_callback import callback_apply
from mpesa.services.verdict import MISMATCH_FLAGS, phone_or_blank, receipt_taken, verdict_problem, whole_shillings

__all__ = [
    "GUEST_CODES_PER_PAYMENT",
    "GUEST_CODES_PER_USER_A_DAY",
    "MISMATCH_FLAGS",
    "RAW_BODY_LIMIT",
    "RESULT_MESSAGES",
    "PaymentError",
    "_push_failed",
    "callback_apply",
    "callback_record",
    "callback_source_allowed",
    "callback_url",
    "payment_check",
    "payment_count_verified",
    "payment_query",
    "payment_record_guest_code",
    "payment_release_nights",
    "payment_set_status",
    "payment_settle_query",
    "payment_start",
    "payment_succeed",
    "payment_verify",
    "payments_reconcile",
    "phone_or_blank",
    "receipt_taken",
    "result_message",
    "result_record",
    "verdict_problem",
    "whole_shillings",
]
