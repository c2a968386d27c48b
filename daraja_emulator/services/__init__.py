"""Every state change of the emulator: tokens, pushes and their outcomes, result requests, deliveries."""

from .base import (
    BUSINESS_NAME,
    PromptError,
    _unique_receipt,
    api_call_record,
    clock_advance,
    emulator_now,
    emulator_reset,
    known_credentials,
    known_passkey,
    known_shortcode,
    token_check,
    token_issue,
)
from .delivery import delivery_send, run_due
from .results import reversal_accept, transaction_status_accept
from .stk import (
    NUMBER_OUTCOMES,
    VIRTUAL_PHONE_NUMBER,
    _settle_overdue,
    outcome_set_for_phone,
    outcome_set_for_push,
    prompt_answer,
    push_settle,
    stk_push_accept,
    stk_query,
)

__all__ = [
    "BUSINESS_NAME",
    "NUMBER_OUTCOMES",
    "VIRTUAL_PHONE_NUMBER",
    "PromptError",
    "_settle_overdue",
    "_unique_receipt",
    "api_call_record",
    "clock_advance",
    "delivery_send",
    "emulator_now",
    "emulator_reset",
    "known_credentials",
    "known_passkey",
    "known_shortcode",
    "outcome_set_for_phone",
    "outcome_set_for_push",
    "prompt_answer",
    "push_settle",
    "reversal_accept",
    "run_due",
    "stk_push_accept",
    "stk_query",
    "token_check",
    "token_issue",
    "transaction_status_accept",
]
