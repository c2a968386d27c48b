"""What M-Pesa sends us, built from the wire vectors and addressed to our rows: STK callbacks, Transaction Status
and Reversal results."""

import copy

from mpesa.models import Payment, Refund, StatusRequest
from tests.vectors import vector


def success_callback(payment: Payment, *, amount=None, phone=None, receipt="UKK4H7TQ2M") -> dict:
    """The success vector, addressed to this payment."""
    body = copy.deepcopy(vector("stk_callback_success"))
    callback = body["Body"]["stkCallback"]
    callback["CheckoutRequestID"] = payment.checkout_request_id
    items = {item["Name"]: item for item in callback["CallbackMetadata"]["Item"]}
    items["Amount"]["Value"] = payment.amount_kes if amount is None else amount
    items["PhoneNumber"]["Value"] = int(payment.phone) if phone is None else phone
    items["MpesaReceiptNumber"]["Value"] = receipt
    return body


def failure_callback(payment: Payment, vector_name: str) -> dict:
    body = copy.deepcopy(vector(vector_name))
    body["Body"]["stkCallback"]["CheckoutRequestID"] = payment.checkout_request_id
    return body


def status_result(request: StatusRequest, *, receipt: str, amount, phone_local: str = "0708374149", code=0) -> dict:
    """M-Pesa's result for this Transaction Status request (it names the ConversationID of the acknowledgement)."""
    body = copy.deepcopy(vector("transaction_status_result_success"))
    body["Result"]["ResultCode"] = code
    body["Result"]["ConversationID"] = request.conversation_id
    params = {p["Key"]: p for p in body["Result"]["ResultParameters"]["ResultParameter"]}
    params["ReceiptNo"]["Value"] = receipt
    params["Amount"]["Value"] = float(amount)
    params["DebitPartyName"]["Value"] = f"{phone_local} - GRACE GUEST"
    return body


def reversal_success(amount: int, refund: Refund | None = None) -> dict:
    """M-Pesa's success result, for this refund's reversal when one is given."""
    body = copy.deepcopy(vector("reversal_result_success"))
    if refund is not None:
        body["Result"]["ConversationID"] = refund.conversation_id
    for item in body["Result"]["ResultParameters"]["ResultParameter"]:
        if item["Key"] == "Amount":
            item["Value"] = float(amount)
    return body


def reversal_failure(refund: Refund) -> dict:
    """M-Pesa's R000002 failure result for this refund's reversal."""
    body = copy.deepcopy(vector("reversal_result_failed_R000002"))
    body["Result"]["ConversationID"] = refund.conversation_id
    return body
