"""Every state change of the emulator: tokens, pushes and their outcomes, result requests, deliveries."""

import datetime
import json
import logging
import secrets

import requests
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.money import MPESA_MAX_PAYMENT_KES
from mpesa.client import EMULATOR_CONSUMER_KEY, EMULATOR_CONSUMER_SECRET, SANDBOX_PASSKEY, SANDBOX_SHORTCODE

from . import ids, wire
from .models import AccessToken, ApiCall, AsyncRequest, Clock, Delivery, PlannedOutcome, StkPush
from .wire import DarajaFault

logger = logging.getLogger(__name__)

TOKEN_LIFETIME = datetime.timedelta(seconds=3600)
BUSINESS_NAME = "NEXUS STAYS"
CUSTOMER_NAME = "MPESA CUSTOMER"
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
QUEUE_TIMEOUT_REFERENCE = "https://internalsandbox.safaricom.co.ke/mpesa/reversalresults/v1/submit"


class PromptError(Exception):
    """The virtual phone could not act on a prompt; the message is safe to show."""


def seconds(name: str) -> datetime.timedelta:
    return datetime.timedelta(seconds=float(getattr(settings, name)))


# -- the clock ------------------------------------------------------------------------------------------


def emulator_now() -> datetime.datetime:
    """The emulator's clock: real time plus the offset the test hook set."""
    offset = Clock.objects.filter(pk=1).values_list("offset_seconds", flat=True).first() or 0
    return timezone.now() + datetime.timedelta(seconds=offset)


def clock_advance(*, by_seconds: float) -> datetime.datetime:
    """Move the emulator's clock forward (tokens expire, prompts time out, deliveries fall due)."""
    with transaction.atomic():
        clock, _ = Clock.objects.select_for_update().get_or_create(pk=1)
        clock.offset_seconds += by_seconds
        clock.save(update_fields=["offset_seconds"])
        transaction.on_commit(_wake_dispatcher)
    return emulator_now()


# -- merchant configuration --------------------------------------------------------------------------------


def known_shortcode() -> str:
    return settings.MPESA_SHORTCODE or SANDBOX_SHORTCODE


def known_passkey() -> str:
    return settings.MPESA_PASSKEY or SANDBOX_PASSKEY


def known_credentials() -> tuple[str, str]:
    if settings.MPESA_CONSUMER_KEY or settings.MPESA_CONSUMER_SECRET:
        return settings.MPESA_CONSUMER_KEY, settings.MPESA_CONSUMER_SECRET
    return EMULATOR_CONSUMER_KEY, EMULATOR_CONSUMER_SECRET


# -- OAuth --------------------------------------------------------------------------------------------------


def token_issue(*, authorization: str, grant_type: str | None) -> AccessToken:
    """A new access token. Raises DarajaFault (400.008.02, 400.008.01) or EmptyBadRequest."""
    if grant_type != "client_credentials":
        raise DarajaFault(400, "400.008.02", "Invalid grant type passed")
    credentials = wire.basic_credentials(authorization)
    if credentials is None:
        raise DarajaFault(400, "400.008.01", "Invalid Authentication passed")
    key, secret = known_credentials()
    if not (secrets.compare_digest(credentials[0], key) and secrets.compare_digest(credentials[1], secret)):
        if settings.MPESA_EMULATOR_OAUTH_ERROR_JSON:
            raise DarajaFault(400, "400.008.01", "Invalid Authentication passed")
        raise wire.EmptyBadRequest()
    now = emulator_now()
    with transaction.atomic():
        if settings.MPESA_EMULATOR_SINGLE_TOKEN:
            AccessToken.objects.filter(consumer_key=key).delete()
        return AccessToken.objects.create(
            token=ids.access_token(), consumer_key=key, issued_at=now, expires_at=now + TOKEN_LIFETIME
        )


def token_check(*, authorization: str, code: str = "404.001.03", http_status: int | None = None) -> None:
    """Raises DarajaFault "Invalid Access Token" unless the Bearer token is known and unexpired."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    valid = (
        scheme == "Bearer"
        and 0 < len(token) <= 28
        and AccessToken.objects.filter(token=token, expires_at__gt=emulator_now()).exists()
    )
    if not valid:
        raise DarajaFault(http_status or settings.MPESA_EMULATOR_TOKEN_ERROR_STATUS, code, "Invalid Access Token")


# -- STK push -----------------------------------------------------------------------------------------------


def _check_merchant(*, shortcode: str, password: str, stamp: str) -> None:
    if shortcode != known_shortcode():
        raise DarajaFault(500, "500.001.1001", "Merchant does not exist")
    expected = wire.stk_password(shortcode, known_passkey(), stamp)
    if not secrets.compare_digest(password.encode(), expected.encode()):
        raise DarajaFault(500, "500.001.1001", "[MerchantValidate] - Wrong credentials")


def _validate_push(body: dict) -> dict:
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
    url = wire.callback_url(body.get("CallBackURL"))
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
    if amount_kes > MPESA_MAX_PAYMENT_KES:
        return {"settle_at": now + delay, "planned_result_code": "3"}
    return {"settle_at": now + delay, "planned_result_code": "0"}


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
        )
    return outcome


def _plan_from_hook(push, *, now, code: str, delay: float | None, callbacks: int, callback_delay: float | None):
    push.awaits_phone = False
    push.planned_result_code = code
    push.planned_result_desc = ""
    push.planned_callbacks = callbacks
    push.settle_at = now + (
        datetime.timedelta(seconds=delay) if delay is not None else seconds("MPESA_EMULATOR_CALLBACK_DELAY_SECONDS")
    )
    push.callback_not_before = (
        push.settle_at + datetime.timedelta(seconds=callback_delay) if callback_delay is not None else None
    )


def _settle_overdue(queryset) -> None:
    now = emulator_now()
    for pk in queryset.filter(status=StkPush.Status.PENDING, settle_at__lte=now).values_list("pk", flat=True):
        push_settle(push_id=pk)


def stk_push_accept(*, body: dict) -> StkPush:
    """Validate like Daraja and record a pending push. Raises DarajaFault with Daraja's code and message."""
    fields = _validate_push(body)
    _check_merchant(
        shortcode=fields.pop("business_short_code"), password=fields.pop("password"), stamp=fields.pop("timestamp")
    )
    phone = fields["phone"]
    _settle_overdue(StkPush.objects.filter(phone=phone))
    with transaction.atomic():
        if StkPush.objects.select_for_update().filter(phone=phone, status=StkPush.Status.PENDING).exists():
            raise DarajaFault(
                500,
                "500.001.1001",
                "Unable to lock subscriber, a transaction is already in process for the current subscriber",
            )
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
        transaction.on_commit(_wake_dispatcher)
    return push


def _unique_receipt(now: datetime.datetime) -> str:
    while True:
        receipt = ids.receipt_number(now)
        if not (
            StkPush.objects.filter(receipt=receipt).exists() or AsyncRequest.objects.filter(receipt=receipt).exists()
        ):
            return receipt


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
        Delivery.objects.bulk_create(
            Delivery(
                kind=Delivery.Kind.STK_CALLBACK,
                push=push,
                url=push.callback_url,
                headers=wire.stk_callback_headers(push),
                body=body,
                due_at=due,
            )
            for _ in range(push.planned_callbacks)
        )
        transaction.on_commit(_wake_dispatcher)
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


def prompts_pending(*, phone: str | None = None):
    """Prompts waiting on the virtual phone (timed-out ones are settled first), oldest first."""
    queryset = StkPush.objects.filter(awaits_phone=True)
    if phone:
        queryset = queryset.filter(phone=phone)
    _settle_overdue(queryset)
    return queryset.filter(status=StkPush.Status.PENDING).order_by("created_at", "pk")


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
    *, checkout_request_id: str, code: str, delay: float | None, callbacks: int, callback_delay: float | None
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
            push, now=emulator_now(), code=code, delay=delay, callbacks=callbacks, callback_delay=callback_delay
        )
        push.save()
        transaction.on_commit(_wake_dispatcher)
    return push


def outcome_set_for_phone(
    *, phone: str, code: str, delay: float | None, callbacks: int, callback_delay: float | None
) -> PlannedOutcome:
    """Plan the outcome of the next push to a number. Raises PromptError for numbers on the number table."""
    if phone in NUMBER_OUTCOMES or phone == VIRTUAL_PHONE_NUMBER:
        raise PromptError("This number's outcome is fixed by the number table.")
    return PlannedOutcome.objects.create(
        phone=phone, result_code=code, delay_seconds=delay, callbacks=callbacks, callback_delay_seconds=callback_delay
    )


@transaction.atomic
def emulator_reset() -> None:
    """Forget everything: tokens, pushes, outcomes, result requests, deliveries, calls, the clock offset."""
    for model in (Delivery, PlannedOutcome, AsyncRequest, StkPush, AccessToken, ApiCall, Clock):
        model.objects.all().delete()


def api_call_record(*, method: str, path: str, request_body: bytes, status: int, response_body: bytes) -> None:
    ApiCall.objects.create(
        method=method[:10],
        path=wire.printable(path[:200]),
        request_body=wire.printable(request_body[:20_000].decode("utf-8", errors="replace")),
        response_status=status,
        response_body=wire.printable(response_body[:20_000].decode("utf-8", errors="replace")),
    )


# -- Transaction Status and Reversal ------------------------------------------------------------------------


def _initiator_valid(initiator: str, credential: str) -> bool:
    expected_name = settings.MPESA_INITIATOR_NAME or "testapi"
    expected_credential = settings.MPESA_SECURITY_CREDENTIAL
    return initiator == expected_name and (not expected_credential or credential == expected_credential)


def _validate_async(body: dict, *, command: str, code: str, fields: list[str]) -> dict:
    values = {}
    for name in ["Initiator", "SecurityCredential", "CommandID", "TransactionID", *fields]:
        value = body.get(name)
        if name == "CommandID":
            ok = value == command
        elif name == "Amount":
            value = wire.amount(value)
            ok = value is not None
        elif name in {"PartyA", "ReceiverParty"}:
            value = wire.digits(value, min_length=5, max_length=12)
            ok = value is not None
        elif name in {"IdentifierType", "RecieverIdentifierType"}:
            value = wire.digits(value, min_length=1, max_length=2)
            ok = value is not None
        elif name in {"ResultURL", "QueueTimeOutURL"}:
            value = wire.callback_url(value)
            ok = value is not None
        elif name == "Remarks":
            value = wire.text_value(value, min_length=2, max_length=100)
            ok = value is not None
        else:
            value = wire.text_value(value, max_length=2000)
            ok = value is not None
        if not ok:
            raise wire.bad_request(name, code=code)
        values[name] = value
    occasion = body.get("Occasion", "")
    values["Occasion"] = occasion if isinstance(occasion, str) else ""
    return values


def _result_envelope(request: AsyncRequest, *, transaction_id: str, parameters: list | None, reference: dict) -> dict:
    result = {
        "ResultType": 0,
        "ResultCode": wire.result_code_value(request.result_code),
        "ResultDesc": request.result_desc,
        "OriginatorConversationID": request.originator_conversation_id,
        "ConversationID": request.conversation_id,
        "TransactionID": transaction_id,
    }
    if parameters is not None:
        result["ResultParameters"] = {"ResultParameter": parameters}
    result["ReferenceData"] = {"ReferenceItem": reference}
    return {"Result": result}


def _schedule_result(request: AsyncRequest, body: dict, now: datetime.datetime) -> None:
    Delivery.objects.create(
        kind=Delivery.Kind.RESULT,
        async_request=request,
        url=request.result_url,
        headers=wire.result_headers(),
        body=json.dumps(body),
        due_at=now + seconds("MPESA_EMULATOR_RESULT_DELAY_SECONDS"),
    )
    transaction.on_commit(_wake_dispatcher)


def transaction_status_accept(*, body: dict) -> AsyncRequest:
    """Acknowledge a Transaction Status query and schedule its result (§5.3) for ResultURL."""
    values = _validate_async(
        body,
        command="TransactionStatusQuery",
        code="400.003.02",
        fields=["PartyA", "IdentifierType", "ResultURL", "QueueTimeOutURL", "Remarks"],
    )
    now = emulator_now()
    with transaction.atomic():
        payment = StkPush.objects.filter(receipt=values["TransactionID"], result_code="0").first()
        request = AsyncRequest(
            kind=AsyncRequest.Kind.STATUS,
            originator_conversation_id=ids.merchant_request_id(),
            conversation_id=ids.conversation_id(now),
            transaction_id=values["TransactionID"],
            payment=payment,
            result_url=values["ResultURL"],
            created_at=now,
        )
        parameters = None
        if not _initiator_valid(values["Initiator"], values["SecurityCredential"]):
            request.result_code, request.result_desc = "2001", wire.CALLBACK_DESC["2001"]
        elif payment is None:
            # Modelled: Daraja documents no code for an unknown receipt here; the reversal's is the closest.
            request.result_code, request.result_desc = "R000002", "The OriginalTransactionID is invalid."
        else:
            request.result_code, request.result_desc = "0", wire.CALLBACK_DESC["0"]
            local_phone = "0" + payment.phone[3:]
            completed = int(ids.daraja_time(payment.completed_at))
            parameters = [
                {"Key": "DebitPartyName", "Value": f"{local_phone} - {CUSTOMER_NAME}"},
                {"Key": "CreditPartyName", "Value": f"{payment.business_short_code} - {BUSINESS_NAME}"},
                {"Key": "OriginatorConversationID", "Value": payment.merchant_request_id},
                {"Key": "InitiatedTime", "Value": completed},
                {"Key": "CreditPartyCharges"},
                {"Key": "DebitAccountType", "Value": "MMF Account For Customer"},
                {"Key": "TransactionReason"},
                {
                    "Key": "ReasonType",
                    "Value": "Pay Bill Online"
                    if payment.transaction_type == "CustomerPayBillOnline"
                    else "Buy Goods Online",
                },
                {"Key": "TransactionStatus", "Value": "Completed"},
                {"Key": "FinalisedTime", "Value": completed},
                {"Key": "Amount", "Value": float(payment.amount_kes)},
                {"Key": "ConversationID", "Value": ids.conversation_id(payment.completed_at)},
                {"Key": "ReceiptNo", "Value": payment.receipt},
            ]
        request.save()
        envelope = _result_envelope(
            request,
            transaction_id=ids.placeholder_receipt(now),
            parameters=parameters,
            reference={"Key": "Occasion", "Value": values["Occasion"]},
        )
        _schedule_result(request, envelope, now)
    return request


def reversal_accept(*, body: dict) -> AsyncRequest:
    """Acknowledge a reversal and schedule its result: R000001 when already reversed, R000002 for a receipt
    this emulator did not issue to that shortcode, 2 for more than was paid."""
    values = _validate_async(
        body,
        command="TransactionReversal",
        code="400.002.02",
        fields=["Amount", "ReceiverParty", "RecieverIdentifierType", "ResultURL", "QueueTimeOutURL", "Remarks"],
    )
    now = emulator_now()
    request = AsyncRequest(
        kind=AsyncRequest.Kind.REVERSAL,
        originator_conversation_id=ids.merchant_request_id(),
        conversation_id=ids.conversation_id(now),
        transaction_id=values["TransactionID"],
        amount_kes=values["Amount"],
        result_url=values["ResultURL"],
        created_at=now,
    )
    try:
        with transaction.atomic():
            payment = (
                StkPush.objects.select_for_update()
                .filter(receipt=values["TransactionID"], result_code="0", business_short_code=values["ReceiverParty"])
                .first()
            )
            request.payment = payment
            if not _initiator_valid(values["Initiator"], values["SecurityCredential"]):
                request.result_code, request.result_desc = "2001", wire.CALLBACK_DESC["2001"]
            elif payment is None:
                request.result_code, request.result_desc = "R000002", "The OriginalTransactionID is invalid."
            elif AsyncRequest.objects.filter(
                kind=AsyncRequest.Kind.REVERSAL, payment=payment, result_code="0"
            ).exists():
                request.result_code, request.result_desc = "R000001", "The transaction has already been reversed."
            elif values["Amount"] > payment.amount_kes:
                request.result_code, request.result_desc = "2", wire.CALLBACK_DESC["2"]
            else:
                request.result_code, request.result_desc = "0", wire.CALLBACK_DESC["0"]
                request.receipt = _unique_receipt(now)
            request.save()
            _schedule_reversal_result(request, payment, now)
    except IntegrityError:
        # Another reversal of the same payment won the race.
        request.pk = None
        request.receipt = None
        request.result_code, request.result_desc = "R000001", "The transaction has already been reversed."
        with transaction.atomic():
            request.save()
            _schedule_reversal_result(request, request.payment, now)
    return request


def _schedule_reversal_result(request: AsyncRequest, payment: StkPush | None, now: datetime.datetime) -> None:
    parameters = None
    if request.result_code == "0":
        parameters = [
            {"Key": "DebitAccountBalance", "Value": "Utility Account|KES|245500.00|245500.00|0.00|0.00"},
            {"Key": "Amount", "Value": float(request.amount_kes)},
            {"Key": "TransCompletedTime", "Value": int(ids.daraja_time(now))},
            {"Key": "OriginalTransactionID", "Value": payment.receipt},
            {"Key": "Charge", "Value": 0.0},
            {"Key": "CreditPartyPublicName", "Value": f"{payment.phone} - {CUSTOMER_NAME}"},
            {"Key": "DebitPartyPublicName", "Value": f"{payment.business_short_code} - {BUSINESS_NAME}"},
        ]
    envelope = _result_envelope(
        request,
        transaction_id=request.receipt or ids.placeholder_receipt(now),
        parameters=parameters,
        reference={"Key": "QueueTimeoutURL", "Value": QUEUE_TIMEOUT_REFERENCE},
    )
    _schedule_result(request, envelope, now)


# -- delivering callbacks -----------------------------------------------------------------------------------


def _claim_due(now: datetime.datetime) -> list[Delivery]:
    """Take due deliveries for this process; a row another worker holds or took is skipped."""
    with transaction.atomic():
        queryset = Delivery.objects.filter(status=Delivery.Status.SCHEDULED, due_at__lte=now).order_by("due_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            queryset = queryset.select_for_update(skip_locked=True)
        claimed = []
        for delivery in list(queryset[:20]):
            taken = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SCHEDULED).update(
                status=Delivery.Status.SENDING, attempted_at=timezone.now()
            )
            if taken:
                claimed.append(delivery)
        return claimed


def delivery_send(*, delivery: Delivery) -> Delivery:
    """POST once and record what happened; the receiver's answer changes nothing and nothing is retried."""
    session = requests.Session()
    session.trust_env = False  # callbacks go straight to the merchant, never through a proxy from the environment
    try:
        response = session.post(
            delivery.url,
            data=delivery.body.encode("utf-8"),
            headers=delivery.headers,
            timeout=float(settings.MPESA_EMULATOR_DELIVERY_TIMEOUT_SECONDS),
            allow_redirects=False,
        )
        delivery.status = Delivery.Status.SENT
        delivery.response_status = response.status_code
        delivery.response_body = wire.printable(response.text[:2000])
    except requests.RequestException as error:
        delivery.status = Delivery.Status.FAILED
        delivery.error = wire.printable(str(error)[:2000])
    finally:
        session.close()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=delivery.status,
        response_status=delivery.response_status,
        response_body=delivery.response_body,
        error=delivery.error,
    )
    return delivery


def run_due() -> float | None:
    """Settle pushes whose time has come and send due deliveries. Returns seconds until the next piece of
    work, or None when nothing is outstanding."""
    _settle_overdue(StkPush.objects.all())
    for delivery in _claim_due(emulator_now()):
        delivery_send(delivery=delivery)
    now = emulator_now()
    upcoming = [
        StkPush.objects.filter(status=StkPush.Status.PENDING).order_by("settle_at").values_list("settle_at").first(),
        Delivery.objects.filter(status=Delivery.Status.SCHEDULED).order_by("due_at").values_list("due_at").first(),
    ]
    moments = [row[0] for row in upcoming if row]
    if not moments:
        return None
    return max(0.0, (min(moments) - now).total_seconds())


def _wake_dispatcher() -> None:
    from . import dispatcher

    dispatcher.wake()
