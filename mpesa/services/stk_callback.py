"""Applying a recorded STK callback: a failure settles the payment, a success only moves it to verifying, for an STK
Query to confirm (mpesa/callbacks.py queues it)."""

from django.db import transaction

from mpesa.ledger import ledger_decide
from mpesa.locks import payment_lock, payment_row_lock
from mpesa.models import Payment, PaymentEvent
from mpesa.services.settle import _fail
from mpesa.services.status import payment_set_status
from mpesa.services.verdict import _reported_problem, phone_or_blank, receipt_taken, verdict_problem, whole_shillings

Status = Payment.Status


def _items(callback: dict) -> dict:
    metadata = callback.get("CallbackMetadata") or {}
    items = metadata.get("Item") if isinstance(metadata, dict) else None
    found = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and "Name" in item:
            found[str(item["Name"])] = item.get("Value")
    return found


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
