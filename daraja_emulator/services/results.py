"""Transaction Status and Reversal: acknowledged at once, answered later at ResultURL."""

import datetime
import json

from django.conf import settings
from django.db import IntegrityError, transaction

from core.daraja_wire import REVERSAL_COMMAND, SANDBOX_INITIATOR_NAME, TRANSACTION_STATUS_COMMAND, daraja_timestamp

from .. import dispatcher, ids, wire
from ..models import AsyncRequest, Delivery, StkPush
from .base import BUSINESS_NAME, CUSTOMER_NAME, _unique_receipt, emulator_now, seconds

QUEUE_TIMEOUT_REFERENCE = "https://internalsandbox.safaricom.co.ke/mpesa/reversalresults/v1/submit"


def _initiator_valid(initiator: str, credential: str) -> bool:
    expected_name = settings.MPESA_INITIATOR_NAME or SANDBOX_INITIATOR_NAME
    expected_credential = settings.MPESA_SECURITY_CREDENTIAL
    return initiator == expected_name and (not expected_credential or credential == expected_credential)


def _validate_async(body: dict, *, command: str, code: str, fields: list[str], reached_at: str) -> dict:
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
            value = wire.callback_url(value, reached_at=reached_at)
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
    transaction.on_commit(dispatcher.wake, robust=True)


def transaction_status_accept(*, body: dict, reached_at: str) -> AsyncRequest:
    """Acknowledge a Transaction Status query and schedule its result (§5.3) for ResultURL."""
    values = _validate_async(
        body,
        command=TRANSACTION_STATUS_COMMAND,
        code="400.003.02",
        fields=["PartyA", "IdentifierType", "ResultURL", "QueueTimeOutURL", "Remarks"],
        reached_at=reached_at,
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
            completed = int(daraja_timestamp(payment.completed_at))
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


def reversal_accept(*, body: dict, reached_at: str) -> AsyncRequest:
    """Acknowledge a reversal and schedule its result: R000001 when already reversed, R000002 for a receipt
    this emulator did not issue to that shortcode, 2 for more than was paid."""
    values = _validate_async(
        body,
        command=REVERSAL_COMMAND,
        code="400.002.02",
        fields=["Amount", "ReceiverParty", "RecieverIdentifierType", "ResultURL", "QueueTimeOutURL", "Remarks"],
        reached_at=reached_at,
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
            {"Key": "TransCompletedTime", "Value": int(daraja_timestamp(now))},
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
