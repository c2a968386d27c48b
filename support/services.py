"""Everything the support console changes, each step audited in SupportAction.

Every action takes a reason and the form's idempotency key: a resubmitted form finds its action already recorded
and changes nothing. Transaction Status and Reversal requests are saved (with their own result token) and
committed before Daraja is called, outside any transaction that holds a lock; their outcome is applied only when
the result callback naming that token arrives.
"""

import hmac
import logging
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import User
from core.money import format_kes
from mpesa import services as payment_services
from mpesa.client import DarajaClient, DarajaError, Exchange, StkQueryAnswer, new_token
from mpesa.models import (
    AttentionResolution,
    Payment,
    PaymentEvent,
    Refund,
    StatusRequest,
    SupportAction,
    UnmatchedCallbackLink,
)
from reservations.models import Booking
from reservations.services import booking_lock, booking_record_refund

logger = logging.getLogger(__name__)

Kind = SupportAction.Kind
KEY_RE = re.compile(r"^[A-Za-z0-9-]{8,64}$")
RECEIPT_RE = re.compile(r"^[A-Z0-9]{10}$")

# The attention items a person can resolve, by the kind of row they name.
ATTENTION_KINDS = {"payment", "refund_due", "unmatched", "refund"}

# What an agent reads for a reversal's result code (decisions use the code, never M-Pesa's description).
REVERSAL_MESSAGES = {
    "R000001": "M-Pesa says this payment was already reversed.",
    "R000002": "M-Pesa does not know this receipt number.",
    "1": "The business account's balance is too low for the reversal.",
    "2": "M-Pesa refused the amount: more than the original payment.",
    "11": "The business account is not active.",
    "21": "Our M-Pesa initiator lacks the reversal role.",
    "2001": "M-Pesa refused our initiator credentials.",
    "2006": "The business account is not active.",
    "2028": "M-Pesa does not permit this reversal.",
    "8006": "Our M-Pesa initiator credential is locked.",
}


class SupportError(Exception):
    """A console action was refused. The message is safe to show to the agent."""


class _AlreadyRecorded(Exception):
    """This form was submitted before: its action is on record, so nothing is done again."""


def _client() -> DarajaClient:
    return DarajaClient()


def result_urls(token: str) -> tuple[str, str]:
    base = settings.MPESA_CALLBACK_BASE_URL.rstrip("/")
    return (
        base + reverse("mpesa:result", kwargs={"token": token}),
        base + reverse("mpesa:timeout", kwargs={"token": token}),
    )


def clean_reason(reason: str) -> str:
    reason = " ".join(str(reason or "").replace("\x00", " ").split())
    if len(reason) < 3:
        raise SupportError(_("Write a short reason (at least 3 characters)."))
    if len(reason) > 500:
        raise SupportError(_("Keep the reason under 500 characters."))
    return reason


def clean_receipt(receipt: str) -> str:
    receipt = str(receipt or "").strip().upper()
    if not RECEIPT_RE.match(receipt):
        raise SupportError(_("An M-Pesa receipt has 10 letters and digits, e.g. UKK4H7TQ2M."))
    return receipt


def _check_key(key: str) -> str:
    if not KEY_RE.match(str(key or "")):
        raise SupportError(_("This form has expired. Reload the page and try again."))
    return key


def _done_before(*, actor: User, key: str) -> SupportAction | None:
    return SupportAction.objects.filter(actor=actor, idempotency_key=key).first()


def _audit(*, actor: User, key: str, kind: str, reason: str, payment: Payment | None = None, **details):
    """Write the audit row. A concurrent resubmission of the same form loses on the unique key."""
    try:
        with transaction.atomic():
            return SupportAction.objects.create(
                actor=actor, kind=kind, payment=payment, reason=reason, details=details, idempotency_key=key
            )
    except IntegrityError:
        if key and _done_before(actor=actor, key=key):
            raise _AlreadyRecorded
        raise


def _ledger(payment: Payment | None, kind: str, message: str, exchange: Exchange | None = None, **fields) -> None:
    """Record what was said to M-Pesa and what it answered, on the payment's ledger (secrets are never in it)."""
    if exchange is not None:
        fields.update(
            body={"endpoint": exchange.endpoint, "request": exchange.request_body, "response": exchange.response_body},
            http_status=exchange.http_status,
        )
    PaymentEvent.objects.create(payment=payment, kind=kind, message=message[:500], **fields)


# ---------------------------------------------------------------------------------------------------------------
# Asking M-Pesa.


def payment_query_stk(*, actor: User, payment_id: int, reason: str, key: str) -> Payment:
    """Run an STK Query through the same settle service as a callback. Raises SupportError."""
    reason, key = clean_reason(reason), _check_key(key)
    try:
        with transaction.atomic():
            payment = Payment.objects.select_for_update().get(pk=payment_id)
            if _done_before(actor=actor, key=key):
                return payment
            if not payment.checkout_request_id:
                raise SupportError(
                    _("M-Pesa never acknowledged this payment's request: ask by receipt number (Transaction Status).")
                )
            _audit(actor=actor, key=key, kind=Kind.QUERY_STK, reason=reason, payment=payment)
    except _AlreadyRecorded:
        return Payment.objects.get(pk=payment_id)
    try:
        answer = _client().stk_query(checkout_request_id=payment.checkout_request_id)
    except DarajaError as error:
        answer = StkQueryAnswer(final=False, result_desc=error.message, exchange=error.exchange)
    return payment_services.payment_settle_query(payment_id=payment.pk, answer=answer)


def payment_query_status(*, actor: User, payment_id: int, receipt: str, reason: str, key: str) -> StatusRequest:
    """Ask M-Pesa about a receipt by Transaction Status; the answer lands at the request's own result URL.

    Raises SupportError when the input is wrong or M-Pesa refuses the request.
    """
    reason, key, receipt = clean_reason(reason), _check_key(key), clean_receipt(receipt)
    try:
        with transaction.atomic():
            payment = Payment.objects.select_for_update().get(pk=payment_id)
            previous = _done_before(actor=actor, key=key)
            if previous:
                return StatusRequest.objects.get(pk=previous.details["status_request_id"])
            request = StatusRequest.objects.create(
                payment=payment, requested_by=actor, receipt=receipt, result_token=new_token()
            )
            _audit(
                actor=actor,
                key=key,
                kind=Kind.QUERY_STATUS,
                reason=reason,
                payment=payment,
                receipt=receipt,
                status_request_id=request.pk,
            )
    except _AlreadyRecorded:
        previous = _done_before(actor=actor, key=key)
        return StatusRequest.objects.get(pk=previous.details["status_request_id"])
    result_url, timeout_url = result_urls(request.result_token)
    try:
        accepted = _client().transaction_status(
            receipt=receipt, result_url=result_url, timeout_url=timeout_url, remarks="Support status check"
        )
    except DarajaError as error:
        with transaction.atomic():
            request = StatusRequest.objects.select_for_update().get(pk=request.pk)
            request.status = StatusRequest.Status.FAILED
            request.result_desc = error.message[:300]
            request.save(update_fields=["status", "result_desc"])
            _ledger(payment, PaymentEvent.Kind.QUERY, f"Transaction Status for {receipt} refused: {error.message}")
        raise SupportError(_("M-Pesa did not take the request: {reason}").format(reason=error.message))
    with transaction.atomic():
        booking_lock(booking_id=payment.booking_id)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        request = StatusRequest.objects.select_for_update().get(pk=request.pk)
        request.conversation_id = accepted.conversation_id[:80]
        request.save(update_fields=["conversation_id"])
        _ledger(
            payment,
            PaymentEvent.Kind.QUERY,
            f"Transaction Status for {receipt} accepted; waiting for M-Pesa's result.",
            accepted.exchange,
        )
        _apply_kept_results(request.result_token)
    request.refresh_from_db()
    return request


# ---------------------------------------------------------------------------------------------------------------
# Refunds.


def refund_set_status(refund: Refund, to_status: str, *, payment: Payment) -> None:
    """The one way a refund's status changes: Refund.TRANSITIONS decides, and the payment's committed refunds follow
    (saved here). The caller holds the payment and refund locks and saves the refund with its own fields."""
    if refund.status == to_status:
        return
    if not refund.can_move_to(to_status):
        raise SupportError(
            _("Refund {id} cannot go from {old} to {new}.").format(
                id=refund.pk, old=refund.get_status_display(), new=Refund.Status(to_status).label
            )
        )
    was_open = refund.status in Refund.OPEN
    refund.status = to_status
    if was_open != (to_status in Refund.OPEN):
        _commit(payment, refund.amount_kes if not was_open else -refund.amount_kes)


def _commit(payment: Payment, change_kes: int) -> None:
    """Add to (or take from) what the payment's refunds hold. Only a success M-Pesa reports after a failure was
    confirmed can push past the payment; that money has gone, so the total stays at the payment's amount (the
    refund carries the flag)."""
    total = payment.refund_committed_kes + change_kes
    payment.refund_committed_kes = min(max(total, 0), payment.amount_kes)
    payment.save(update_fields=["refund_committed_kes", "updated_at"])


def refundable_kes(payment: Payment) -> int:
    """What may still be refunded on a payment: what it paid minus the refunds succeeded or on their way."""
    if payment.status != Payment.Status.SUCCEEDED:
        return 0
    return max(payment.amount_kes - payment.refund_committed_kes, 0)


def refund_request(
    *,
    actor: User,
    payment_id: int,
    amount_kes: int,
    method: str,
    reason: str,
    key: str,
    manual_reference: str = "",
) -> Refund:
    """Refund part or all of a payment to its payer. Checked with the booking and payment locked; once the booking's
    refunds (all its payments', succeeded or on their way) would pass SUPPORT_REFUND_APPROVAL_KES, a second agent
    must approve. Raises SupportError."""
    reason, key = clean_reason(reason), _check_key(key)
    manual_reference = " ".join(str(manual_reference or "").split())[:60]
    if method not in Refund.Method.values:
        raise SupportError(_("Choose how the money goes back."))
    if method == Refund.Method.MANUAL and len(manual_reference) < 4:
        raise SupportError(_("Give the manual transfer's reference."))
    if not isinstance(amount_kes, int) or amount_kes < 1:
        raise SupportError(_("Enter a whole number of shillings, at least KES 1."))
    try:
        with transaction.atomic():
            payment = Payment.objects.get(pk=payment_id)
            booking_lock(booking_id=payment.booking_id)
            payment = Payment.objects.select_for_update().get(pk=payment_id)
            previous = _done_before(actor=actor, key=key)
            if previous:
                return Refund.objects.get(pk=previous.details["refund_id"])
            if payment.status != Payment.Status.SUCCEEDED:
                raise SupportError(_("Only a payment M-Pesa has confirmed can be refunded."))
            if method == Refund.Method.REVERSAL and not payment.receipt:
                raise SupportError(_("This payment has no M-Pesa receipt yet: find it with Transaction Status first."))
            available = refundable_kes(payment)
            if amount_kes > available:
                raise SupportError(
                    _("At most {amount} can still be refunded on this payment.").format(amount=format_kes(available))
                )
            # Every refund path takes the booking lock first, so this total cannot change underneath.
            on_booking = Payment.objects.filter(booking_id=payment.booking_id).aggregate(
                total=Sum("refund_committed_kes")
            )["total"]
            needs_approval = (on_booking or 0) + amount_kes > settings.SUPPORT_REFUND_APPROVAL_KES
            now = timezone.now()
            refund = Refund.objects.create(
                payment=payment,
                booking_id=payment.booking_id,
                amount_kes=amount_kes,
                method=method,
                manual_reference=manual_reference if method == Refund.Method.MANUAL else "",
                status=Refund.Status.REQUESTED if needs_approval else Refund.Status.APPROVED,
                approved_at=None if needs_approval else now,
                reason=reason,
                requested_by=actor,
                result_token=new_token(),
            )
            _commit(payment, amount_kes)
            _audit(
                actor=actor,
                key=key,
                kind=Kind.REFUND_REQUEST,
                reason=reason,
                payment=payment,
                refund_id=refund.pk,
                amount_kes=amount_kes,
                method=method,
                needs_approval=needs_approval,
            )
            if not needs_approval and method == Refund.Method.MANUAL:
                _refund_succeeded(refund, payment, actor=actor, message="Manual transfer recorded.")
    except _AlreadyRecorded:
        return Refund.objects.get(pk=_done_before(actor=actor, key=key).details["refund_id"])
    if refund.status == Refund.Status.APPROVED:
        refund = refund_send(refund_id=refund.pk)
    return refund


def refund_approval_refusal(*, refund: Refund, user) -> str:
    """Why this agent cannot approve the refund, in a sentence; empty when they can (the permission aside)."""
    if refund.status != Refund.Status.REQUESTED:
        return _("This refund is no longer waiting for approval.")
    if refund.requested_by_id == user.pk:
        return _("Another agent must approve a refund you requested.")
    return ""


def refund_approve(*, actor: User, refund_id: int, reason: str, key: str) -> Refund:
    """A second agent approves a large refund, which is then sent. Raises SupportError."""
    reason, key = clean_reason(reason), _check_key(key)
    try:
        with transaction.atomic():
            refund = Refund.objects.get(pk=refund_id)
            booking_lock(booking_id=refund.booking_id)
            payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
            refund = Refund.objects.select_for_update().get(pk=refund_id)
            if _done_before(actor=actor, key=key):
                return refund
            refusal = refund_approval_refusal(refund=refund, user=actor)
            if refusal:
                raise SupportError(refusal)
            refund_set_status(refund, Refund.Status.APPROVED, payment=payment)
            refund.approved_by = actor
            refund.approved_at = timezone.now()
            refund.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
            _audit(actor=actor, key=key, kind=Kind.REFUND_APPROVE, reason=reason, payment=payment, refund_id=refund.pk)
            if refund.method == Refund.Method.MANUAL:
                _refund_succeeded(refund, payment, actor=actor, message="Manual transfer approved and recorded.")
    except _AlreadyRecorded:
        return Refund.objects.get(pk=refund_id)
    return refund_send(refund_id=refund.pk)


def _refund_locked(refund_id: int) -> tuple[Refund, Payment]:
    """Lock a refund's booking (and listing), payment and refund, in the one order. Call inside a transaction."""
    refund = Refund.objects.get(pk=refund_id)
    booking_lock(booking_id=refund.booking_id)
    payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
    refund = Refund.objects.select_for_update().select_related("booking").get(pk=refund_id)
    return refund, payment


def refund_send(*, refund_id: int) -> Refund:
    """Send an approved reversal to M-Pesa, once. Only its result callback can mark it refunded."""
    with transaction.atomic():
        refund, payment = _refund_locked(refund_id)
        if refund.status != Refund.Status.APPROVED or refund.method != Refund.Method.REVERSAL:
            return refund
        refund_set_status(refund, Refund.Status.SENT, payment=payment)
        refund.sent_at = timezone.now()
        refund.save(update_fields=["status", "sent_at", "updated_at"])
    result_url, timeout_url = result_urls(refund.result_token)
    try:
        accepted = _client().reversal(
            receipt=payment.receipt,
            amount_kes=refund.amount_kes,
            result_url=result_url,
            timeout_url=timeout_url,
            remarks=f"Refund {refund.booking.ref}",
        )
    except DarajaError as error:
        with transaction.atomic():
            refund, payment = _refund_locked(refund_id)
            refund.reversal_answered_at = timezone.now()
            fields = ["reversal_answered_at", "updated_at"]
            if error.code == "timeout":
                # The request may have reached M-Pesa: its result callback still decides.
                note = f"Reversal of refund {refund.pk}: no acknowledgement; waiting for M-Pesa's result."
            else:
                note = f"Reversal of refund {refund.pk} refused: {error.message}"
                if refund.status == Refund.Status.SENT:
                    refund_set_status(refund, Refund.Status.FAILED, payment=payment)
                    refund.error_message = error.message[:300]
                    refund.result_code = error.code[:20]
                    refund.settled_at = timezone.now()
                    fields += ["status", "error_message", "result_code", "settled_at"]
            refund.save(update_fields=fields)
            _ledger(payment, PaymentEvent.Kind.DECISION, note, error.exchange)
            _apply_kept_results(refund.result_token)
        return Refund.objects.get(pk=refund_id)
    with transaction.atomic():
        refund, payment = _refund_locked(refund_id)
        refund.conversation_id = accepted.conversation_id[:80]
        refund.originator_conversation_id = accepted.originator_conversation_id[:80]
        refund.reversal_answered_at = timezone.now()
        refund.save(
            update_fields=["conversation_id", "originator_conversation_id", "reversal_answered_at", "updated_at"]
        )
        _ledger(
            payment,
            PaymentEvent.Kind.DECISION,
            f"Reversal of {format_kes(refund.amount_kes)} (refund {refund.pk}) accepted by M-Pesa; waiting for the "
            "result.",
            accepted.exchange,
        )
        _apply_kept_results(refund.result_token)
    return Refund.objects.get(pk=refund_id)


def _refund_succeeded(refund: Refund, payment: Payment, *, actor: User | None, message: str) -> None:
    """Caller holds the booking, payment and refund locks."""
    refund_set_status(refund, Refund.Status.SUCCEEDED, payment=payment)
    refund.settled_at = timezone.now()
    refund.save(
        update_fields=["status", "flag", "settled_at", "reversal_receipt", "result_code", "result_desc", "updated_at"]
    )
    if payment.refund_due_kes:
        payment.refund_due_kes = max(payment.refund_due_kes - refund.amount_kes, 0)
        payment.save(update_fields=["refund_due_kes", "updated_at"])
    booking = Booking.objects.get(pk=refund.booking_id)
    booking_record_refund(
        booking=booking,
        amount_kes=refund.amount_kes,
        actor=actor,
        details={"refund_id": refund.pk, "payment_id": payment.pk, "receipt": refund.reversal_receipt},
    )
    _ledger(payment, PaymentEvent.Kind.DECISION, f"Refund {refund.pk} of {format_kes(refund.amount_kes)}: {message}")


# ---------------------------------------------------------------------------------------------------------------
# Result callbacks of the console's requests. Each reaches this module only from an address M-Pesa calls from
# (mpesa.views.async_result), and applies only when it names the ConversationID M-Pesa acknowledged.


def _result_of(event: PaymentEvent) -> dict | None:
    result = event.body.get("Result") if isinstance(event.body, dict) else None
    return result if isinstance(result, dict) and "ResultCode" in result else None


def _parameters(result: dict) -> dict:
    """ResultParameters.ResultParameter is a list, or a single object when there is one entry."""
    container = result.get("ResultParameters")
    items = container.get("ResultParameter") if isinstance(container, dict) else None
    if isinstance(items, dict):
        items = [items]
    found = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and "Key" in item:
            found[str(item["Key"])] = item.get("Value")
    return found


def support_result_received(*, event_id: int) -> None:
    """Apply a recorded Transaction Status or Reversal result to the request its token names, exactly once."""
    event = PaymentEvent.objects.get(pk=event_id)
    token = event.path_token
    if not token or "\x00" in token:
        return
    refund = Refund.objects.filter(result_token=token).only("pk", "result_token").first()
    if refund and hmac.compare_digest(refund.result_token.encode(), token.encode()):
        _refund_result(refund_id=refund.pk, event=event)
        return
    request = StatusRequest.objects.filter(result_token=token).only("pk", "result_token").first()
    if request and hmac.compare_digest(request.result_token.encode(), token.encode()):
        _status_result(request_id=request.pk, event=event)


def _apply_kept_results(token: str) -> None:
    """Results that arrived while their request's call was still returning, applied now that its answer is recorded.
    The caller has just recorded that answer, holding the request's locks."""
    for event in PaymentEvent.objects.filter(kind=PaymentEvent.Kind.RESULT, path_token=token).order_by("id"):
        if payment_services.callback_source_allowed(event.source_ip):
            support_result_received(event_id=event.pk)


def _names_another_conversation(result: dict, conversation_id: str) -> bool:
    return str(result.get("ConversationID") or "") != conversation_id


def _refund_result(*, refund_id: int, event: PaymentEvent) -> None:
    result = _result_of(event)
    with transaction.atomic():
        refund, payment = _refund_locked(refund_id)
        if result is None:
            _ledger(payment, PaymentEvent.Kind.DECISION, f"Refund {refund.pk}: a notice without a result; no change.")
            return
        if refund.status in (Refund.Status.REQUESTED, Refund.Status.APPROVED):
            _ledger(payment, PaymentEvent.Kind.DECISION, f"Refund {refund.pk} was never sent: result ignored.")
            return
        if refund.reversal_answered_at is None:
            _ledger(
                payment,
                PaymentEvent.Kind.DECISION,
                f"Refund {refund.pk}: result arrived before M-Pesa's acknowledgement was recorded; kept, and applied "
                "once it is.",
            )
            return
        # A reversal that timed out has no ConversationID: its token and the source check are all there is.
        if refund.conversation_id and _names_another_conversation(result, refund.conversation_id):
            _ledger(
                payment,
                PaymentEvent.Kind.DECISION,
                f"Refund {refund.pk}: the result names another ConversationID; nothing changed.",
            )
            return
        code = str(result.get("ResultCode")).strip()
        if code == "0":
            _reversal_succeeded(refund, payment, result)
        else:
            _reversal_failure_reported(refund, payment, code, str(result.get("ResultDesc", "")))


def _reversal_succeeded(refund: Refund, payment: Payment, result: dict) -> None:
    if refund.status == Refund.Status.SUCCEEDED:
        _ledger(payment, PaymentEvent.Kind.DECISION, f"Refund {refund.pk}: repeated result; nothing changed.")
        return
    after_failure = refund.status in (Refund.Status.FAILURE_REPORTED, Refund.Status.FAILED)
    refund.result_code = "0"
    refund.result_desc = str(result.get("ResultDesc", ""))[:300]
    refund.reversal_receipt = str(result.get("TransactionID", ""))[:20]
    message = "M-Pesa reversed it to the payer."
    if after_failure:
        refund.flag = Refund.Flag.SUCCESS_AFTER_FAILURE
        message += " M-Pesa had reported it failed: flagged as a possible double refund."
    _refund_succeeded(refund, payment, actor=None, message=message)


def _reversal_failure_reported(refund: Refund, payment: Payment, code: str, description: str) -> None:
    """A failure result keeps the amount held: the money may still have gone back, and only a Transaction Status on
    the original receipt tells (_confirm_reported_failures)."""
    if refund.status != Refund.Status.SENT:
        _ledger(
            payment,
            PaymentEvent.Kind.DECISION,
            f"Refund {refund.pk}: failure result ({code}) after the refund was {refund.get_status_display()}; "
            "nothing changed.",
        )
        return
    refund_set_status(refund, Refund.Status.FAILURE_REPORTED, payment=payment)
    refund.result_code = code[:20]
    refund.result_desc = description[:300]
    refund.error_message = REVERSAL_MESSAGES.get(code, "M-Pesa could not reverse the payment.")
    refund.settled_at = timezone.now()
    refund.save(update_fields=["status", "result_code", "result_desc", "error_message", "settled_at", "updated_at"])
    _ledger(
        payment,
        PaymentEvent.Kind.DECISION,
        f"Refund {refund.pk}: M-Pesa reports a failure ({code}): {refund.error_message} Its "
        f"{format_kes(refund.amount_kes)} stays held until a Transaction Status on receipt {payment.receipt} shows "
        "the payment was not reversed.",
    )


def _status_result(*, request_id: int, event: PaymentEvent) -> None:
    result = _result_of(event)
    with transaction.atomic():
        request = StatusRequest.objects.get(pk=request_id)
        payment = Payment.objects.get(pk=request.payment_id)
        booking_lock(booking_id=payment.booking_id)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        request = StatusRequest.objects.select_for_update().get(pk=request_id)
        if result is None or request.status != StatusRequest.Status.SENT:
            _ledger(payment, PaymentEvent.Kind.DECISION, f"Transaction Status for {request.receipt}: no change.")
            return
        if not request.conversation_id:
            _ledger(
                payment,
                PaymentEvent.Kind.DECISION,
                f"Transaction Status for {request.receipt}: result arrived before M-Pesa's acknowledgement was "
                "recorded; kept, and applied once it is.",
            )
            return
        if _names_another_conversation(result, request.conversation_id):
            _ledger(
                payment,
                PaymentEvent.Kind.DECISION,
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
            _ledger(
                payment,
                PaymentEvent.Kind.DECISION,
                f"Transaction Status: M-Pesa does not confirm {request.receipt} ({code}); nothing changed.",
            )
            return
        if _apply_status(payment, request, _parameters(result)):
            _confirm_reported_failures(payment, request)


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
        _ledger(
            payment,
            PaymentEvent.Kind.DECISION,
            f"Transaction Status for {receipt}: {'; '.join(problems)}. Nothing changed; left for support.",
        )
        return False
    fields = ["updated_at"]
    if not payment.receipt:
        payment.receipt = receipt
        fields.append("receipt")
    elif payment.receipt != receipt:
        _ledger(payment, PaymentEvent.Kind.DECISION, f"Transaction Status for {receipt}: another receipt; no change.")
        return False
    if payment.status in Payment.UNSETTLED:
        now = timezone.now()
        payment_services.payment_set_status(payment, Payment.Status.SUCCEEDED)
        payment.result_code = "0"
        payment.settled_at = now
        fields += ["status", "result_code", "settled_at"]
        payment.save(update_fields=fields)
        _ledger(payment, PaymentEvent.Kind.DECISION, f"Verified by Transaction Status: paid, receipt {receipt}.")
        payment_services.payment_count_verified(payment, now=now)
        return True
    payment.save(update_fields=fields)
    _ledger(payment, PaymentEvent.Kind.DECISION, f"Transaction Status confirms receipt {receipt}; receipt recorded.")
    return True


def _confirm_reported_failures(payment: Payment, request: StatusRequest) -> None:
    """A Transaction Status asked after M-Pesa reported a reversal failed shows the original payment still
    completed, not reversed: the failure is confirmed and the amount can be refunded again. Caller holds the
    booking and payment locks."""
    if request.receipt != payment.receipt:
        return
    reported = Refund.objects.select_for_update().filter(
        payment=payment, status=Refund.Status.FAILURE_REPORTED, settled_at__lte=request.created_at
    )
    for refund in reported.order_by("id"):
        refund_set_status(refund, Refund.Status.FAILED, payment=payment)
        refund.save(update_fields=["status", "updated_at"])
        _ledger(
            payment,
            PaymentEvent.Kind.DECISION,
            f"Refund {refund.pk}: Transaction Status shows receipt {payment.receipt} completed, not reversed. The "
            f"failure is confirmed; {format_kes(refund.amount_kes)} can be refunded again.",
        )


# ---------------------------------------------------------------------------------------------------------------
# Attention items and unmatched callbacks.


def unknown_token_callbacks() -> Q:
    """STK callbacks for no known payment, and results whose token names none of the console's requests."""
    known = Refund.objects.values("result_token").union(StatusRequest.objects.values("result_token"))
    return Q(kind=PaymentEvent.Kind.UNMATCHED) | (Q(kind=PaymentEvent.Kind.RESULT) & ~Q(path_token__in=known))


def attention_resolve(*, actor: User, kind: str, object_id: int, note: str, key: str) -> AttentionResolution:
    """Mark an item the attention list shows now as dealt with, with a note; the same form sent again returns the
    same resolution. Raises SupportError for an item the list does not show (one not there yet included)."""
    # Imported here: the selectors read this module's helpers.
    from support.selectors import attention_item_listed

    note, key = clean_reason(note), _check_key(key)
    if kind not in ATTENTION_KINDS:
        raise SupportError(_("There is no such attention item."))
    try:
        with transaction.atomic():
            previous = _done_before(actor=actor, key=key)
            if previous:
                return _resolution_of(previous, kind=kind, object_id=object_id)
            if AttentionResolution.objects.filter(kind=kind, object_id=object_id).exists():
                raise SupportError(_("Someone has already resolved this item."))
            item = attention_item_listed(kind=kind, object_id=object_id)
            if item is None:
                raise SupportError(_("This item is not on the attention list now, so there is nothing to resolve."))
            if not item.resolvable:
                raise SupportError(_("Only M-Pesa's answer to a Transaction Status can clear this item."))
            resolution = AttentionResolution.objects.create(
                kind=kind, object_id=object_id, note=note, resolved_by=actor
            )
            if kind == "payment" and item.payment is not None:
                # Support has decided: a booking held for them lets its nights go.
                payment_services.payment_release_nights(payment_id=item.payment.pk)
            _audit(
                actor=actor,
                key=key,
                kind=Kind.RESOLVE,
                reason=note,
                payment=item.payment,
                item=kind,
                object_id=object_id,
            )
            return resolution
    except _AlreadyRecorded:
        return _resolution_of(_done_before(actor=actor, key=key), kind=kind, object_id=object_id)
    except IntegrityError:
        raise SupportError(_("Someone has already resolved this item."))


def _resolution_of(action: SupportAction, *, kind: str, object_id: int) -> AttentionResolution:
    """The resolution an earlier submission of this form made; a key reused for anything else is refused."""
    details = action.details or {}
    if action.kind != Kind.RESOLVE or details.get("item") != kind or details.get("object_id") != object_id:
        raise SupportError(_("This form has expired. Reload the page and try again."))
    return AttentionResolution.objects.get(kind=kind, object_id=object_id)


def callback_link(*, actor: User, event_id: int, payment_id: int, note: str, key: str) -> UnmatchedCallbackLink:
    """Tie a callback that named no known payment to its payment. The callback row stays as it arrived."""
    note, key = clean_reason(note), _check_key(key)
    try:
        with transaction.atomic():
            event = PaymentEvent.objects.filter(unknown_token_callbacks(), pk=event_id).first()
            payment = Payment.objects.filter(pk=payment_id).first()
            if event is None:
                raise SupportError(_("There is no such unmatched callback."))
            if payment is None:
                raise SupportError(_("There is no payment with that number."))
            if _done_before(actor=actor, key=key):
                return UnmatchedCallbackLink.objects.get(event=event)
            if UnmatchedCallbackLink.objects.filter(event=event).exists():
                raise SupportError(_("This callback is already linked to a payment."))
            link = UnmatchedCallbackLink.objects.create(event=event, payment=payment, linked_by=actor, note=note)
            _audit(actor=actor, key=key, kind=Kind.LINK_CALLBACK, reason=note, payment=payment, event_id=event.pk)
            return link
    except _AlreadyRecorded:
        return UnmatchedCallbackLink.objects.get(event_id=event_id)
    except IntegrityError:
        raise SupportError(_("This callback is already linked to a payment."))


def export_record(*, actor: User, filters: dict) -> SupportAction:
    """Every export leaves an audit entry with the filters it used."""
    return SupportAction.objects.create(
        actor=actor, kind=Kind.EXPORT, reason="CSV export of the current search.", details={"filters": filters}
    )
