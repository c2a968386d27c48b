"""Everything the support console changes, each step audited in SupportAction.

Every action takes a reason and the form's idempotency key: a resubmitted form finds its action already recorded
and changes nothing. What an action does to a payment or a refund is decided in mpesa (mpesa.services,
mpesa.refunds, mpesa.transaction_status): this module checks the form, writes the audit row in the same transaction,
and turns mpesa's refusals into SupportError.
"""

import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.models import User
from mpesa import refunds, transaction_status
from mpesa.locks import payment_lock, payment_row_lock, refund_lock
from mpesa.models import (
    AttentionResolution,
    Payment,
    PaymentEvent,
    Refund,
    StatusRequest,
    SupportAction,
    UnmatchedCallbackLink,
)
from mpesa.services import PaymentError, payment_query, payment_release_nights
from support.selectors import attention_item_listed, unknown_token_callbacks

Kind = SupportAction.Kind
KEY_RE = re.compile(r"^[A-Za-z0-9-]{8,64}$")
RECEIPT_RE = re.compile(r"^[A-Z0-9]{10}$")

# The attention items a person can resolve, by the kind of row they name.
ATTENTION_KINDS = {"payment", "refund_due", "unmatched", "refund"}


class SupportError(Exception):
    """A console action was refused. The message is safe to show to the agent."""


class _AlreadyRecorded(Exception):
    """This form was submitted before: its action is on record, so nothing is done again."""


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


# ---------------------------------------------------------------------------------------------------------------
# Asking M-Pesa.


def payment_query_stk(*, actor: User, payment_id: int, reason: str, key: str) -> Payment:
    """Run an STK Query through the same settle service as a callback. Raises SupportError."""
    reason, key = clean_reason(reason), _check_key(key)
    try:
        with transaction.atomic():
            payment = payment_row_lock(payment_id=payment_id)
            if _done_before(actor=actor, key=key):
                return payment
            if not payment.checkout_request_id:
                raise SupportError(
                    _("M-Pesa never acknowledged this payment's request: ask by receipt number (Transaction Status).")
                )
            _audit(actor=actor, key=key, kind=Kind.QUERY_STK, reason=reason, payment=payment)
    except _AlreadyRecorded:
        return Payment.objects.get(pk=payment_id)
    return payment_query(payment=payment)


def payment_query_status(*, actor: User, payment_id: int, receipt: str, reason: str, key: str) -> StatusRequest:
    """Ask M-Pesa about a receipt by Transaction Status; the answer lands at the request's own result URL.

    Raises SupportError when the input is wrong or M-Pesa refuses the request.
    """
    reason, key, receipt = clean_reason(reason), _check_key(key), clean_receipt(receipt)
    try:
        with transaction.atomic():
            payment = payment_row_lock(payment_id=payment_id)
            previous = _done_before(actor=actor, key=key)
            if previous:
                return StatusRequest.objects.get(pk=previous.details["status_request_id"])
            request = transaction_status.status_request_open(payment=payment, receipt=receipt, requested_by=actor)
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
    try:
        return transaction_status.status_request_send(request_id=request.pk)
    except PaymentError as error:
        raise SupportError(str(error)) from None


# ---------------------------------------------------------------------------------------------------------------
# Refunds.


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
    """Refund part or all of a payment to its payer (mpesa.refunds decides what may be refunded and whether a second
    agent must approve), then send it or record the manual transfer. Raises SupportError."""
    reason, key = clean_reason(reason), _check_key(key)
    try:
        manual_reference = refunds.refund_terms_clean(
            amount_kes=amount_kes, method=method, manual_reference=manual_reference
        )
        with transaction.atomic():
            payment = payment_lock(payment_id=payment_id).payment
            previous = _done_before(actor=actor, key=key)
            if previous:
                return Refund.objects.get(pk=previous.details["refund_id"])
            refund = refunds.refund_open(
                payment=payment,
                amount_kes=amount_kes,
                method=method,
                manual_reference=manual_reference,
                reason=reason,
                requested_by=actor,
            )
            _audit(
                actor=actor,
                key=key,
                kind=Kind.REFUND_REQUEST,
                reason=reason,
                payment=payment,
                refund_id=refund.pk,
                amount_kes=amount_kes,
                method=method,
                needs_approval=refund.status == Refund.Status.REQUESTED,
            )
            refunds.refund_record_manual(
                refund=refund, payment=payment, actor=actor, message="Manual transfer recorded."
            )
    except _AlreadyRecorded:
        return Refund.objects.get(pk=_done_before(actor=actor, key=key).details["refund_id"])
    except PaymentError as error:
        raise SupportError(str(error)) from None
    if refund.status == Refund.Status.APPROVED:
        refund = refunds.refund_send(refund_id=refund.pk)
    return refund


def refund_approve(*, actor: User, refund_id: int, reason: str, key: str) -> Refund:
    """A second agent approves a large refund, which is then sent. Raises SupportError."""
    reason, key = clean_reason(reason), _check_key(key)
    try:
        with transaction.atomic():
            locked = refund_lock(refund_id=refund_id)
            refund, payment = locked.refund, locked.payment
            if _done_before(actor=actor, key=key):
                return refund
            refunds.refund_approve(refund=refund, payment=payment, approver=actor)
            _audit(actor=actor, key=key, kind=Kind.REFUND_APPROVE, reason=reason, payment=payment, refund_id=refund.pk)
            refunds.refund_record_manual(
                refund=refund, payment=payment, actor=actor, message="Manual transfer approved and recorded."
            )
    except _AlreadyRecorded:
        return Refund.objects.get(pk=refund_id)
    except PaymentError as error:
        raise SupportError(str(error)) from None
    return refunds.refund_send(refund_id=refund.pk)


# ---------------------------------------------------------------------------------------------------------------
# Attention items and unmatched callbacks.


def attention_resolve(*, actor: User, kind: str, object_id: int, note: str, key: str) -> AttentionResolution:
    """Mark an item the attention list shows now as dealt with, with a note; the same form sent again returns the
    same resolution. Raises SupportError for an item the list does not show (one not there yet included)."""
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
                payment_release_nights(payment_id=item.payment.pk)
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
