"""STK push and query: validation in Daraja's order, the outcome plan, settling, the virtual phone, hooks."""

import datetime
import json
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction

from core.daraja_wire import stk_password
from core.money import MPESA_MAX_PAYMENT_KES

from .. import dispatcher, ids, wire
from ..models import Delivery, PlannedOutcome, StkPush
from ..wire import DarajaFault
from .base import PromptError, _unique_receipt, emulator_now, known_passkey, known_shortcode, seconds

# The phone that waits for a person on the virtual phone, and numbers with a fixed outcome (issue 6).
VIRTUAL_PHONE_NUMBER = "254708374149"
NUMBER_OUTCOMES = {
    "254700000001": {"code": "0"},
    "254700000002": {"code": "1"},
    "254700000003": {"code": "1032"},
    "254700000004": {"code": "1037", "delay": "MPESA_EMULATOR_TIMEOUT_SECONDS"},
    "254700000005": {"code": "0", "callbacks": 0},
    "254700000006": {"code": "0", "callbacks": 3},
    "254700000007": {"code": "0", "late": True},
}
# Switches (off by default, so that retrying after a cancel is not refused): outcomes by the amount's last two
# digits, and code 17 for the same amount from the same payer within two minutes.
AMOUNT_RULES = {"01": "1", "32": "1032", "37": "1037", "19": "1019", "21": "2001"}
RULE_LIMITED_WINDOW = datetime.timedelta(seconds=120)


def _check_merchant(*, shortcode: str, password: str, stamp: str) -> None:
    if shortcode != known_shortcode():
        raise DarajaFault(500, "500.001.1001", "Merchant does not exist")
    expected = stk_password(shortcode=shortcode, passkey=known_passkey(), timestamp=stamp)
    if not secrets.compare_digest(password.encode(), expected.encode()):
        raise DarajaFault(500, "500.001.1001", "[MerchantValidate] - Wrong credentials")


def _validate_push(body: dict, *, reached_at: str) -> dict:
    """The request's fields in Daraja's order (§9); the first bad one names itself in the error."""
    strict = settings.MPESA_EMULATOR_STRICT
    shortcode = wire.digits(body.get("BusinessShortCode"), min_length=5, max_length=7)
    if shortcode is None:
        raise wire.bad_request("BusinessShortCode")
    password = body.get("Password")
    if not isinstance(password, str) or not password:
        raise wire.bad_request("Password")
    stamp = wire.timestamp(body.get("Timestamp"))
    if stamp is None:
        raise wire.bad_request("Timestamp")
    transaction_type = body.get("TransactionType")
    if not isinstance(transaction_type, str) or transaction_type not in wire.TRANSACTION_TYPES:
        raise wire.bad_request("TransactionType")
    amount = wire.amount(body.get("Amount"))
    if amount is None:
        raise wire.bad_request("Amount")
    phone = wire.phone_number(body.get("PhoneNumber"))
    if phone is None:
        raise wire.bad_request("PhoneNumber")
    party_a = wire.phone_number(body.get("PartyA"))
    if party_a is None:
        raise wire.bad_request("PartyA")
    party_b = wire.digits(body.get("PartyB"), min_length=5, max_length=7)
    if party_b is None:
        raise wire.bad_request("PartyB")
    url = wire.callback_url(body.get("CallBackURL"), reached_at=reached_at)
    if url is None:
        raise wire.bad_request("CallBackURL")
    reference = wire.text_value(body.get("AccountReference"), max_length=12 if strict else 100)
    if reference is None:
        raise wire.bad_request("AccountReference")
    description = wire.text_value(body.get("TransactionDesc"), max_length=13 if strict else 100)
    if description is None:
        raise wire.bad_request("Remarks")
    return {
        "business_short_code": shortcode,
        "password": password,
        "timestamp": str(body["Timestamp"]),
        "transaction_type": body["TransactionType"],
        "amount_kes": amount,
        "phone": phone,
        "party_a": party_a,
        "party_b": party_b,
        "callback_url": url,
        "account_reference": reference,
        "transaction_desc": description,
    }


def _plan(*, phone: str, amount_kes: int, now: datetime.datetime) -> dict:
    """What will happen to a new push: the payer's number first, then a hook outcome, then success."""
    delay = seconds("MPESA_EMULATOR_CALLBACK_DELAY_SECONDS")
    if phone == VIRTUAL_PHONE_NUMBER:
        return {
            "awaits_phone": True,
            "settle_at": now + seconds("MPESA_EMULATOR_PROMPT_TIMEOUT_SECONDS"),
            "planned_result_code": "1037",
            "planned_result_desc": wire.NO_RESPONSE_DESC,
        }
    rule = NUMBER_OUTCOMES.get(phone)
    if rule is not None:
        plan = {
            "settle_at": now + (seconds(rule["delay"]) if "delay" in rule else delay),
            "planned_result_code": rule["code"],
            "planned_callbacks": rule.get("callbacks", 1),
        }
        if rule.get("late"):
            plan["callback_not_before"] = now + seconds("MPESA_EMULATOR_LATE_CALLBACK_SECONDS")
        return plan
    code = "0"
    if amount_kes > MPESA_MAX_PAYMENT_KES:
        code = "3"
    elif settings.MPESA_EMULATOR_AMOUNT_RULES and f"{amount_kes % 100:02d}" in AMOUNT_RULES:
        code = AMOUNT_RULES[f"{amount_kes % 100:02d}"]
    elif (
        settings.MPESA_EMULATOR_RULE_LIMITED
        and StkPush.objects.filter(
            phone=phone, amount_kes=amount_kes, created_at__gte=now - RULE_LIMITED_WINDOW
        ).exists()
    ):
        code = "17"
    if code in {"1037", "1019"}:
        delay = seconds("MPESA_EMULATOR_TIMEOUT_SECONDS")
    return {"settle_at": now + delay, "planned_result_code": code}


def _apply_planned_outcome(push: StkPush, now: datetime.datetime) -> PlannedOutcome | None:
    outcome = (
        PlannedOutcome.objects.select_for_update()
        .filter(phone=push.phone, used_by__isnull=True)
        .order_by("created_at", "pk")
        .first()
    )
    if outcome is not None:
        _plan_from_hook(
            push,
            now=now,
            code=outcome.result_code,
            delay=outcome.delay_seconds,
            callbacks=outcome.callbacks,
            callback_delay=outcome.callback_delay_seconds,
            spoofed_source=outcome.spoofed_source,
        )
    return outcome


def _plan_from_hook(
    push,
    *,
    now,
    code: str,
    delay: float | None,
    callbacks: int,
    callback_delay: float | None,
    spoofed_source: bool = False,
):
    """A hook's outcome; an empty code means: wait for the virtual phone, as 254708374149 does. With
    spoofed_source the callbacks come from MPESA_EMULATOR_SPOOFED_SOURCE_IP, a source no allow-list names."""
    default_delay = "MPESA_EMULATOR_PROMPT_TIMEOUT_SECONDS" if not code else "MPESA_EMULATOR_CALLBACK_DELAY_SECONDS"
    push.awaits_phone = not code
    push.planned_result_code = code or "1037"
    push.planned_result_desc = "" if code else wire.NO_RESPONSE_DESC
    push.planned_callbacks = callbacks
    push.planned_spoofed_source = spoofed_source
    push.settle_at = now + (datetime.timedelta(seconds=delay) if delay is not None else seconds(default_delay))
    push.callback_not_before = (
        push.settle_at + datetime.timedelta(seconds=callback_delay) if callback_delay is not None else None
    )


def _settle_overdue(queryset) -> None:
    now = emulator_now()
    for pk in queryset.filter(status=StkPush.Status.PENDING, settle_at__lte=now).values_list("pk", flat=True):
        push_settle(push_id=pk)


def stk_push_accept(*, body: dict, reached_at: str) -> StkPush:
    """Validate like Daraja and record a pending push. `reached_at` is the authority (Host) the request came to.
    Raises DarajaFault with Daraja's code and message."""
    fields = _validate_push(body, reached_at=reached_at)
    _check_merchant(
        shortcode=fields.pop("business_short_code"), password=fields.pop("password"), stamp=fields.pop("timestamp")
    )
    phone = fields["phone"]
    _settle_overdue(StkPush.objects.filter(phone=phone))
    try:
        return _push_create(phone=phone, fields=fields)
    except IntegrityError:
        # Another push to this phone won the race (one pending push per phone is a database constraint).
        raise _subscriber_locked()


def _subscriber_locked() -> DarajaFault:
    return DarajaFault(
        500, "500.001.1001", "Unable to lock subscriber, a transaction is already in process for the current subscriber"
    )


def _push_create(*, phone: str, fields: dict) -> StkPush:
    with transaction.atomic():
        if StkPush.objects.select_for_update().filter(phone=phone, status=StkPush.Status.PENDING).exists():
            raise _subscriber_locked()
        now = emulator_now()
        checkout_moment = now
        while StkPush.objects.filter(checkout_request_id=ids.checkout_request_id(checkout_moment, phone)).exists():
            checkout_moment += datetime.timedelta(milliseconds=1)
        push = StkPush(
            merchant_request_id=ids.merchant_request_id(),
            checkout_request_id=ids.checkout_request_id(checkout_moment, phone),
            business_short_code=known_shortcode(),
            created_at=now,
            **fields,
            **_plan(phone=phone, amount_kes=fields["amount_kes"], now=now),
        )
        outcome = None
        if phone not in NUMBER_OUTCOMES and phone != VIRTUAL_PHONE_NUMBER:
            outcome = _apply_planned_outcome(push, now)
        push.save()
        if outcome is not None:
            outcome.used_by = push
            outcome.save(update_fields=["used_by"])
        transaction.on_commit(dispatcher.wake, robust=True)
    return push


def push_settle(*, push_id: int, result_code: str | None = None, result_desc: str = "") -> StkPush | None:
    """Give a pending push its result (the planned one, or the phone's answer) and schedule its callbacks.

    Idempotent: a push that is already settled is returned unchanged. Returns None for an unknown id.
    """
    with transaction.atomic():
        push = StkPush.objects.select_for_update().filter(pk=push_id).first()
        if push is None or push.status != StkPush.Status.PENDING:
            return push
        now = emulator_now()
        if result_code is None:
            code, desc = push.planned_result_code, push.planned_result_desc
        else:
            code, desc = result_code, result_desc
        push.status = StkPush.Status.COMPLETED
        push.result_code = code
        push.result_desc = desc or wire.CALLBACK_DESC.get(code, "")
        push.query_result_desc = wire.QUERY_DESC.get(code) or wire.CALLBACK_DESC.get(code) or push.result_desc
        push.completed_at = now
        if code == "0":
            push.receipt = _unique_receipt(now)
        push.save()
        due = max(now, push.callback_not_before or now)
        body = json.dumps(wire.stk_callback_body(push))
        source_address = str(settings.MPESA_EMULATOR_SPOOFED_SOURCE_IP)[:64] if push.planned_spoofed_source else ""
        Delivery.objects.bulk_create(
            Delivery(
                kind=Delivery.Kind.STK_CALLBACK,
                push=push,
                url=push.callback_url,
                headers=wire.stk_callback_headers(push),
                body=body,
                source_address=source_address,
                due_at=due,
            )
            for _ in range(push.planned_callbacks)
        )
        transaction.on_commit(dispatcher.wake, robust=True)
    return push


def stk_query(*, body: dict) -> tuple[int, dict]:
    """The STK Query answer as (HTTP status, body). Raises DarajaFault for bad requests and unknown ids."""
    shortcode = wire.digits(body.get("BusinessShortCode"), min_length=5, max_length=7)
    if shortcode is None:
        raise wire.bad_request("BusinessShortCode")
    password = body.get("Password")
    if not isinstance(password, str) or not password:
        raise wire.bad_request("Password")
    if wire.timestamp(body.get("Timestamp")) is None:
        raise wire.bad_request("Timestamp")
    checkout_request_id = body.get("CheckoutRequestID")
    if wire.text_value(checkout_request_id, max_length=64) is None or not isinstance(checkout_request_id, str):
        raise wire.bad_request("CheckoutRequestID")
    _check_merchant(shortcode=shortcode, password=password, stamp=str(body["Timestamp"]))
    push = StkPush.objects.filter(checkout_request_id=checkout_request_id, business_short_code=shortcode).first()
    now = emulator_now()
    if push is None or now - push.created_at < seconds("MPESA_EMULATOR_QUERY_NOT_FOUND_SECONDS"):
        raise DarajaFault(500, "500.001.1001", "The transaction does not Exist", request_id=checkout_request_id)
    if push.status == StkPush.Status.PENDING and push.settle_at <= now:
        push = push_settle(push_id=push.pk)
    if push.status == StkPush.Status.PENDING and settings.MPESA_EMULATOR_LEGACY_PENDING:
        raise DarajaFault(500, "500.001.1001", "The transaction is being processed", request_id=checkout_request_id)
    return 200, wire.query_answer(push)


# -- the virtual phone --------------------------------------------------------------------------------------


def prompt_answer(*, checkout_request_id: str, approve: bool) -> StkPush:
    """The payer approved (with a PIN) or cancelled a prompt. Raises PromptError when it is no longer open."""
    push = StkPush.objects.filter(checkout_request_id=wire.printable(checkout_request_id), awaits_phone=True).first()
    if push is None:
        raise PromptError("There is no such prompt on this phone.")
    if push.status == StkPush.Status.PENDING and push.settle_at <= emulator_now():
        push_settle(push_id=push.pk)
        raise PromptError("This prompt timed out before it was answered.")
    if push.status != StkPush.Status.PENDING:
        raise PromptError("This prompt has already been answered.")
    settled = push_settle(push_id=push.pk, result_code="0" if approve else "1032")
    if settled.result_code != ("0" if approve else "1032"):
        raise PromptError("This prompt has already been answered.")
    return settled


# -- the test hooks -----------------------------------------------------------------------------------------


def outcome_set_for_push(
    *,
    checkout_request_id: str,
    code: str,
    delay: float | None,
    callbacks: int,
    callback_delay: float | None,
    spoofed_source: bool = False,
) -> StkPush:
    """Change what a pending push will do. Raises PromptError when the push is unknown, settled or on the
    number table (those outcomes are a contract)."""
    with transaction.atomic():
        push = (
            StkPush.objects.select_for_update().filter(checkout_request_id=wire.printable(checkout_request_id)).first()
        )
        if push is None:
            raise PromptError("Unknown CheckoutRequestID.")
        if push.status != StkPush.Status.PENDING:
            raise PromptError("This push is already settled.")
        if push.phone in NUMBER_OUTCOMES or push.phone == VIRTUAL_PHONE_NUMBER:
            raise PromptError("This number's outcome is fixed by the number table.")
        _plan_from_hook(
            push,
            now=emulator_now(),
            code=code,
            delay=delay,
            callbacks=callbacks,
            callback_delay=callback_delay,
            spoofed_source=spoofed_source,
        )
        push.save()
        transaction.on_commit(dispatcher.wake, robust=True)
    return push


def outcome_set_for_phone(
    *,
    phone: str,
    code: str,
    delay: float | None,
    callbacks: int,
    callback_delay: float | None,
    spoofed_source: bool = False,
) -> PlannedOutcome:
    """Plan the outcome of the next push to a number. Raises PromptError for numbers on the number table."""
    if phone in NUMBER_OUTCOMES or phone == VIRTUAL_PHONE_NUMBER:
        raise PromptError("This number's outcome is fixed by the number table.")
    return PlannedOutcome.objects.create(
        phone=phone,
        result_code=code,
        delay_seconds=delay,
        callbacks=callbacks,
        callback_delay_seconds=callback_delay,
        spoofed_source=spoofed_source,
    )
