"""Money going back to a payer: every change to a refund.

Refund.TRANSITIONS decides each status change (refund_set_status), and the payment's committed refunds follow it. A
reversal is saved and committed before Daraja is called, outside any transaction that holds a lock; only its result
callback (or, for a reported failure, a Transaction Status on the original receipt) settles it. A manual transfer is
recorded as done once approved. Callers lock through mpesa.locks (payment_lock, refund_lock), in the one order
(listing, booking, payment, refund). Raises PaymentError with a sentence an agent can read.
"""

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import User
from core.money import format_kes
from mpesa import client
from mpesa.client import DarajaError, new_token
from mpesa.ledger import ledger_decide, ledger_write
from mpesa.locks import refund_lock
from mpesa.models import Payment, PaymentEvent, Refund, StatusRequest
from mpesa.results import (
    result_names_another_conversation,
    result_of,
    result_urls,
    results_kept,
)
from mpesa.services import PaymentError
from reservations.models import Booking
from reservations.services import booking_record_refund

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


def refund_set_status(refund: Refund, to_status: str, *, payment: Payment) -> None:
    """The one way a refund's status changes: Refund.TRANSITIONS decides, and the payment's committed refunds follow
    (saved here). The caller holds the payment and refund locks and saves the refund with its own fields."""
    if refund.status == to_status:
        return
    if not refund.can_move_to(to_status):
        raise PaymentError(
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


# ---------------------------------------------------------------------------------------------------------------
# Requests and approvals.


def refund_terms_clean(*, amount_kes: int, method: str, manual_reference: str) -> str:
    """What a refund request must give whatever the payment: a method, a manual transfer's reference, a whole
    number of shillings. Returns the reference as kept. Raises PaymentError."""
    manual_reference = " ".join(str(manual_reference or "").split())[:60]
    if method not in Refund.Method.values:
        raise PaymentError(_("Choose how the money goes back."))
    if method == Refund.Method.MANUAL and len(manual_reference) < 4:
        raise PaymentError(_("Give the manual transfer's reference."))
    if not isinstance(amount_kes, int) or amount_kes < 1:
        raise PaymentError(_("Enter a whole number of shillings, at least KES 1."))
    return manual_reference


def refund_open(
    *, payment: Payment, amount_kes: int, method: str, manual_reference: str, reason: str, requested_by: User
) -> Refund:
    """Refund part or all of a payment to its payer: the amount is held on the payment at once. Once the booking's
    refunds (all its payments', succeeded or on their way) would pass SUPPORT_REFUND_APPROVAL_KES, a second agent
    must approve (the refund waits as requested); otherwise it is approved, for refund_send or
    refund_record_manual. The caller holds payment_lock. Raises PaymentError."""
    manual_reference = refund_terms_clean(amount_kes=amount_kes, method=method, manual_reference=manual_reference)
    if payment.status != Payment.Status.SUCCEEDED:
        raise PaymentError(_("Only a payment M-Pesa has confirmed can be refunded."))
    if method == Refund.Method.REVERSAL and not payment.receipt:
        raise PaymentError(_("This payment has no M-Pesa receipt yet: find it with Transaction Status first."))
    available = refundable_kes(payment)
    if amount_kes > available:
        raise PaymentError(
            _("At most {amount} can still be refunded on this payment.").format(amount=format_kes(available))
        )
    # Every refund path takes the booking lock first, so this total cannot change underneath.
    on_booking = Payment.objects.filter(booking_id=payment.booking_id).aggregate(total=Sum("refund_committed_kes"))[
        "total"
    ]
    needs_approval = (on_booking or 0) + amount_kes > settings.SUPPORT_REFUND_APPROVAL_KES
    refund = Refund.objects.create(
        payment=payment,
        booking_id=payment.booking_id,
        amount_kes=amount_kes,
        method=method,
        manual_reference=manual_reference if method == Refund.Method.MANUAL else "",
        status=Refund.Status.REQUESTED if needs_approval else Refund.Status.APPROVED,
        approved_at=None if needs_approval else timezone.now(),
        reason=reason,
        requested_by=requested_by,
        result_token=new_token(),
    )
    _commit(payment, amount_kes)
    return refund


def refund_approval_refusal(*, refund: Refund, user) -> str:
    """Why this agent cannot approve the refund, in a sentence; empty when they can (the permission aside)."""
    if refund.status != Refund.Status.REQUESTED:
        return _("This refund is no longer waiting for approval.")
    if refund.requested_by_id == user.pk:
        return _("Another agent must approve a refund you requested.")
    return ""


def refund_approve(*, refund: Refund, payment: Payment, approver: User) -> None:
    """A second agent approves a large refund, for refund_send or refund_record_manual. The caller holds
    refund_lock. Raises PaymentError."""
    refusal = refund_approval_refusal(refund=refund, user=approver)
    if refusal:
        raise PaymentError(refusal)
    refund_set_status(refund, Refund.Status.APPROVED, payment=payment)
    refund.approved_by = approver
    refund.approved_at = timezone.now()
    refund.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])


def refund_record_manual(*, refund: Refund, payment: Payment, actor: User, message: str) -> None:
    """An approved manual transfer is recorded as refunded; nothing happens for any other refund. The caller holds
    the booking, payment and refund locks."""
    if refund.method == Refund.Method.MANUAL and refund.status == Refund.Status.APPROVED:
        _refund_succeeded(refund, payment, actor=actor, message=message)


# ---------------------------------------------------------------------------------------------------------------
# Reversals.


def refund_send(*, refund_id: int) -> Refund:
    """Send an approved reversal to M-Pesa, once. Only its result callback can mark it refunded."""
    with transaction.atomic():
        locked = refund_lock(refund_id=refund_id)
        refund, payment = locked.refund, locked.payment
        if refund.status != Refund.Status.APPROVED or refund.method != Refund.Method.REVERSAL:
            return refund
        refund_set_status(refund, Refund.Status.SENT, payment=payment)
        refund.sent_at = timezone.now()
        refund.save(update_fields=["status", "sent_at", "updated_at"])
    result_url, timeout_url = result_urls(refund.result_token)
    try:
        accepted = client.daraja().reversal(
            receipt=payment.receipt,
            amount_kes=refund.amount_kes,
            result_url=result_url,
            timeout_url=timeout_url,
            remarks=f"Refund {refund.booking.ref}",
        )
    except DarajaError as error:
        with transaction.atomic():
            locked = refund_lock(refund_id=refund_id)
            refund, payment = locked.refund, locked.payment
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
            ledger_write(payment, PaymentEvent.Kind.DECISION, note, error.exchange)
            _apply_kept_results(refund)
        return Refund.objects.get(pk=refund_id)
    with transaction.atomic():
        locked = refund_lock(refund_id=refund_id)
        refund, payment = locked.refund, locked.payment
        refund.conversation_id = accepted.conversation_id[:80]
        refund.originator_conversation_id = accepted.originator_conversation_id[:80]
        refund.reversal_answered_at = timezone.now()
        refund.save(
            update_fields=["conversation_id", "originator_conversation_id", "reversal_answered_at", "updated_at"]
        )
        ledger_write(
            payment,
            PaymentEvent.Kind.DECISION,
            f"Reversal of {format_kes(refund.amount_kes)} (refund {refund.pk}) accepted by M-Pesa; waiting for the "
            "result.",
            accepted.exchange,
        )
        _apply_kept_results(refund)
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
        details={
            "refund_id": refund.pk,
            "payment_id": payment.pk,
            "receipt": refund.reversal_receipt,
            "phone": payment.phone,
        },
    )
    ledger_decide(payment, f"Refund {refund.pk} of {format_kes(refund.amount_kes)}: {message}")


# ---------------------------------------------------------------------------------------------------------------
# Reversal results. Each reaches this module only from an address M-Pesa calls from (mpesa.views.async_result, through
# mpesa.transaction_status.support_result_received), and applies only when it names the ConversationID M-Pesa
# acknowledged.


def _apply_kept_results(refund: Refund) -> None:
    """Results that arrived while the reversal call was still returning, applied now that its answer is recorded.
    The caller has just recorded that answer, holding the refund's locks."""
    for event in results_kept(token=refund.result_token):
        refund_result_apply(refund_id=refund.pk, event=event)


def refund_result_apply(*, refund_id: int, event: PaymentEvent) -> None:
    """Apply a recorded reversal result to the refund its token names."""
    result = result_of(event)
    with transaction.atomic():
        locked = refund_lock(refund_id=refund_id)
        refund, payment = locked.refund, locked.payment
        if result is None:
            ledger_decide(payment, f"Refund {refund.pk}: a notice without a result; no change.")
            return
        if refund.status in (Refund.Status.REQUESTED, Refund.Status.APPROVED):
            ledger_decide(payment, f"Refund {refund.pk} was never sent: result ignored.")
            return
        if refund.reversal_answered_at is None:
            ledger_decide(
                payment,
                f"Refund {refund.pk}: result arrived before M-Pesa's acknowledgement was recorded; kept, and applied "
                "once it is.",
            )
            return
        # A reversal that timed out has no ConversationID: its token and the source check are all there is.
        if refund.conversation_id and result_names_another_conversation(result, refund.conversation_id):
            ledger_decide(
                payment,
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
        ledger_decide(payment, f"Refund {refund.pk}: repeated result; nothing changed.")
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
    the original receipt tells (refund_failures_confirm)."""
    if refund.status != Refund.Status.SENT:
        ledger_decide(
            payment,
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
    ledger_decide(
        payment,
        f"Refund {refund.pk}: M-Pesa reports a failure ({code}): {refund.error_message} Its "
        f"{format_kes(refund.amount_kes)} stays held until a Transaction Status on receipt {payment.receipt} shows "
        "the payment was not reversed.",
    )


def refund_failures_confirm(payment: Payment, request: StatusRequest) -> None:
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
        ledger_decide(
            payment,
            f"Refund {refund.pk}: Transaction Status shows receipt {payment.receipt} completed, not reversed. The "
            f"failure is confirmed; {format_kes(refund.amount_kes)} can be refunded again.",
        )
