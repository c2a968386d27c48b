"""Transaction Status: asking M-Pesa about a receipt, and applying the results of asynchronous requests.

A request is saved (with its own result token) and committed before Daraja is called, outside any transaction that
holds a lock. Its result lands at the request's own URL (mpesa.views.async_result), which hands every recorded result
to support_result_received: a reversal's to mpesa.refunds, a Transaction Status's to this module. A Transaction
Status that confirms the receipt fills in a missing receipt and settles a payment still unsettled, through the same
verdict checks as a callback; it also confirms the reversal failures M-Pesa reported on that receipt.
"""

import hmac

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import User
from mpesa import client
from mpesa import services as payment_services
from mpesa.client import DarajaError, new_token
from mpesa.ledger import ledger_decide, ledger_write
from mpesa.locks import payment_lock
from mpesa.models import Payment, PaymentEvent, Refund, StatusRequest
from mpesa.refunds import refund_failures_confirm, refund_result_apply
from mpesa.results import (
    result_names_another_conversation,
    result_of,
    result_parameters,
    result_urls,
    results_kept,
)
from mpesa.services import PaymentError


def status_request_open(*, payment: Payment, receipt: str, requested_by: User) -> StatusRequest:
    """Save a Transaction Status request about this receipt, to be sent once committed (status_request_send)."""
    return StatusRequest.objects.create(
        payment=payment, requested_by=requested_by, receipt=receipt, result_token=new_token()
    )


def status_request_send(*, request_id: int) -> StatusRequest:
    """Ask M-Pesa about the request's receipt by Transaction Status; the answer lands at the request's own result URL.

    Raises PaymentError when M-Pesa refuses the request (which is then marked not sent).
    """
    request = StatusRequest.objects.select_related("payment").get(pk=request_id)
    payment, receipt = request.payment, request.receipt
    result_url, timeout_url = result_urls(request.result_token)
    try:
        accepted = client.daraja().transaction_status(
            receipt=receipt, result_url=result_url, timeout_url=timeout_url, remarks="Support status check"
        )
    except DarajaError as error:
        with transaction.atomic():
            request = StatusRequest.objects.select_for_update().get(pk=request.pk)
            request.status = StatusRequest.Status.FAILED
            request.result_desc = error.message[:300]
            request.save(update_fields=["status", "result_desc"])
            ledger_write(payment, PaymentEvent.Kind.QUERY, f"Transaction Status for {receipt} refused: {error.message}")
        raise PaymentError(_("M-Pesa did not take the request: {reason}").format(reason=error.message))
    with transaction.atomic():
        payment = payment_lock(payment_id=payment.pk, booking_id=payment.booking_id).payment
        request = StatusRequest.objects.select_for_update().get(pk=request.pk)
        request.conversation_id = accepted.conversation_id[:80]
        request.save(update_fields=["conversation_id"])
        ledger_write(
            payment,
            PaymentEvent.Kind.QUERY,
            f"Transaction Status for {receipt} accepted; waiting for M-Pesa's result.",
            accepted.exchange,
        )
        _apply_kept_results(request)
    request.refresh_from_db()
    return request


# ---------------------------------------------------------------------------------------------------------------
# Results of Transaction Status and Reversal requests. Each reaches this module only from an address M-Pesa calls
# from (mpesa.views.async_result), and applies only when it names the ConversationID M-Pesa acknowledged.


def support_result_received(*, event_id: int) -> None:
    """Apply a recorded Transaction Status or Reversal result to the request its token names, exactly once."""
    event = PaymentEvent.objects.get(pk=event_id)
    token = event.path_token
    if not token or "\x00" in token:
        return
    refund = Refund.objects.filter(result_token=token).only("pk", "result_token").first()
    if refund and hmac.compare_digest(refund.result_token.encode(), token.encode()):
        refund_result_apply(refund_id=refund.pk, event=event)
        return
    request = StatusRequest.objects.filter(result_token=token).only("pk", "result_token").first()
    if request and hmac.compare_digest(request.result_token.encode(), token.encode()):
        _status_result(request_id=request.pk, event=event)


def _apply_kept_results(request: StatusRequest) -> None:
    """Results that arrived while the request's call was still returning, applied now that its answer is recorded.
    The caller has just recorded that answer, holding the request's locks."""
    for event in results_kept(token=request.result_token):
        _status_result(request_id=request.pk, event=event)


def _status_result(*, request_id: int, event: PaymentEvent) -> None:
    result = result_of(event)
    with transaction.atomic():
        request = StatusRequest.objects.get(pk=request_id)
        payment = payment_lock(payment_id=request.payment_id).payment
        request = StatusRequest.objects.select_for_update().get(pk=request_id)
        if result is None or request.status != StatusRequest.Status.SENT:
            ledger_decide(payment, f"Transaction Status for {request.receipt}: no change.")
            return
        if not request.conversation_id:
            ledger_decide(
                payment,
                f"Transaction Status for {request.receipt}: result arrived before M-Pesa's acknowledgement was "
                "recorded; kept, and applied once it is.",
            )
            return
        if result_names_another_conversation(result, request.conversation_id):
            ledger_decide(
                payment,
                f"Transaction Status for {request.receipt}: the result names another ConversationID; nothing changed.",
            )
            return
        code = str(result.get("ResultCode")).strip()
        request.status = StatusRequest.Status.ANSWERED
        request.result_code = code[:20]
        request.result_desc = str(result.get("ResultDesc", ""))[:300]
        request.answered_at = timezone.now()
        request.save(update_fields=["status", "result_code", "result_desc", "answered_at"])
        if code != "0":
            ledger_decide(
                payment,
                f"Transaction Status: M-Pesa does not confirm {request.receipt} ({code}); nothing changed.",
            )
            return
        if _apply_status(payment, request, result_parameters(result)):
            refund_failures_confirm(payment, request)


def _apply_status(payment: Payment, request: StatusRequest, parameters: dict) -> bool:
    """M-Pesa confirmed a receipt: fill in a missing receipt, and settle an unsettled payment when it matches.
    Returns whether the result matched the payment: completed, its amount, its payer, its receipt."""
    receipt = str(parameters.get("ReceiptNo") or request.receipt).strip().upper()[:20]
    debit_party = str(parameters.get("DebitPartyName") or "").split(" - ")[0]
    problems = []
    if str(parameters.get("TransactionStatus") or "") != "Completed":
        problems.append("not completed")
    problem = payment_services.verdict_problem(
        payment,
        amount_kes=payment_services.whole_shillings(parameters.get("Amount")),
        phone=payment_services.phone_or_blank(debit_party),
        receipt=receipt,
    )
    if problem:
        problems.append(problem[1])
    if problems:
        ledger_decide(
            payment,
            f"Transaction Status for {receipt}: {'; '.join(problems)}. Nothing changed; left for support.",
        )
        return False
    changed = []
    if not payment.receipt:
        payment.receipt = receipt
        changed.append("receipt")
    elif payment.receipt != receipt:
        ledger_decide(payment, f"Transaction Status for {receipt}: another receipt; no change.")
        return False
    if payment.status in Payment.UNSETTLED:
        payment_services.payment_succeed(
            payment,
            now=timezone.now(),
            decision=f"Verified by Transaction Status: paid, receipt {receipt}.",
            changed=changed,
        )
        return True
    payment.save(update_fields=[*changed, "updated_at"])
    ledger_decide(payment, f"Transaction Status confirms receipt {receipt}; receipt recorded.")
    return True
