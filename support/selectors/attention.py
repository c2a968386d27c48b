"""The attention list: everything that needs a person, each with why, in a fixed number of queries."""

import datetime
import hashlib
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.redact import mask_payment_tokens
from mpesa.models import AttentionResolution, Payment, PaymentEvent, Refund, StatusRequest, UnmatchedCallbackLink
from reservations.models import Booking

ATTENTION_LIMIT = 50
SENT_WITHOUT_RESULT = "10 minutes"


def unknown_token_callbacks() -> Q:
    """STK callbacks for no known payment, and results whose token names none of the console's requests."""
    known = Refund.objects.values("result_token").union(StatusRequest.objects.values("result_token"))
    return Q(kind=PaymentEvent.Kind.UNMATCHED) | (Q(kind=PaymentEvent.Kind.RESULT) & ~Q(path_token__in=known))


@dataclass
class AttentionItem:
    kind: str  # payment, refund_due, unmatched, refund
    object_id: int
    created_at: datetime.datetime
    reasons: list[str]
    payment: Payment | None = None
    booking: Booking | None = None
    refund: Refund | None = None
    event: PaymentEvent | None = None
    resolvable: bool = True  # False while only M-Pesa's answer to a check can clear the item

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.object_id}"

    @property
    def raw_body(self) -> str:
        return mask_payment_tokens(self.event.raw_body) if self.event else ""

    @property
    def token_hint(self) -> str:
        """The start of the token the callback named, enough to tell callbacks apart; never the token."""
        return (self.event.path_token[:6] + "…") if self.event and self.event.path_token else ""


PAYMENT_FLAGS_ALWAYS = [
    Payment.Flag.AMOUNT_MISMATCH,
    Payment.Flag.PHONE_MISMATCH,
    Payment.Flag.CONTRADICTED,
    Payment.Flag.RECEIPT_REUSED,
]
PAYMENT_FLAGS_REFUND = [Payment.Flag.DATES_TAKEN, Payment.Flag.OVERPAID]


def _unresolved(kind: str):
    return AttentionResolution.objects.filter(kind=kind).values("object_id")


def _payment_reasons(payment: Payment) -> list[str]:
    reasons = []
    if payment.flag:
        reason = payment.get_flag_display()
        if payment.flag in PAYMENT_FLAGS_REFUND:
            reason = f"{reason} ({payment.refund_due_kes:,} KES)"
        reasons.append(reason)
    if payment.status == Payment.Status.UNKNOWN:
        reasons.append("No verdict from M-Pesa after the query window")
    if payment.guest_code and not payment.receipt:
        reasons.append(f"The guest typed the M-Pesa code {payment.guest_code}")
    return reasons


@dataclass(frozen=True)
class Attention:
    items: list[AttentionItem]
    refunds_in_flight: bool  # sent to M-Pesa, result not yet in
    refunds_awaiting_approval: bool

    @property
    def polling(self) -> bool:
        """The list refreshes itself while a refund waits on someone else: the approver or M-Pesa."""
        return self.refunds_in_flight or self.refunds_awaiting_approval

    @property
    def signature(self) -> str:
        """What the list shows, in short: a poll that finds it unchanged leaves the page (and notes being typed)."""
        shown = [(item.key, item.reasons, item.refund.status if item.refund else "") for item in self.items] + [
            self.refunds_in_flight,
            self.refunds_awaiting_approval,
        ]
        return hashlib.sha256(repr(shown).encode()).hexdigest()[:16]


def _only(kind: str, only: tuple[str, int] | None) -> Q:
    """Every row of the kind, or just the one item asked about (a kind not asked about reads nothing)."""
    if only is None:
        return Q()
    wanted_kind, object_id = only
    return Q(pk=object_id) if wanted_kind == kind else Q(pk__in=[])


def attention_items(*, only: tuple[str, int] | None = None) -> Attention:
    """Everything that needs a person, each with why. Four queries whatever the sizes (each list capped).

    With `only` (kind, object id), the same rules read just that item: see attention_item_listed."""
    items = _payment_items(only) + _refund_due_items(only)
    refund_items, in_flight, awaiting = _refund_items(only)
    items += refund_items + _unmatched_items(only)
    items.sort(key=lambda item: item.created_at, reverse=True)
    return Attention(items=items, refunds_in_flight=in_flight, refunds_awaiting_approval=awaiting)


def _payment_items(only: tuple[str, int] | None) -> list[AttentionItem]:
    """Payments flagged, without a verdict, or with a code the guest typed: one query."""
    payments = (
        Payment.objects.filter(
            Q(flag__in=PAYMENT_FLAGS_ALWAYS)
            | Q(flag__in=PAYMENT_FLAGS_REFUND, refund_due_kes__gt=0)
            | Q(status=Payment.Status.UNKNOWN)
            | (~Q(guest_code="") & Q(receipt__isnull=True))
        )
        .exclude(pk__in=_unresolved("payment"))
        .filter(_only("payment", only))
        .select_related("booking")
        .order_by("-created_at", "-id")[:ATTENTION_LIMIT]
    )
    return [
        AttentionItem("payment", payment.pk, payment.created_at, _payment_reasons(payment), payment=payment)
        for payment in payments
    ]


def _refund_due_items(only: tuple[str, int] | None) -> list[AttentionItem]:
    """Cancelled by anyone, or expired with money paid (an instalment, a payment that landed late): money is owed.
    One query."""
    bookings = (
        Booking.objects.filter(status__in=[Booking.Status.CANCELLED, Booking.Status.EXPIRED], refund_due_kes__gt=0)
        .exclude(pk__in=_unresolved("refund_due"))
        .filter(_only("refund_due", only))
        .annotate(
            payment_id=(
                Payment.objects.filter(booking=OuterRef("pk"), status=Payment.Status.SUCCEEDED)
                .order_by("-created_at")
                .values("pk")[:1]
            )
        )
        .order_by(Coalesce("cancelled_at", "updated_at").desc(), "-id")[:ATTENTION_LIMIT]
    )
    items = []
    for booking in bookings:
        why = "Cancelled" if booking.status == Booking.Status.CANCELLED else "Hold ran out"
        reason = f"{why}: {booking.refund_due_kes:,} KES due back to the guest"
        items.append(
            AttentionItem(
                "refund_due", booking.pk, booking.cancelled_at or booking.updated_at, [reason], booking=booking
            )
        )
    return items


def _refund_items(only: tuple[str, int] | None) -> tuple[list[AttentionItem], bool, bool]:
    """Refunds that need a person, and whether any is in flight (sent, result not yet in) or awaiting approval.
    One query. A reported reversal failure stays listed, resolved or not, until a Transaction Status confirms it."""
    refunds = (
        Refund.objects.filter(
            (
                Q(status__in=[Refund.Status.REQUESTED, Refund.Status.FAILED, Refund.Status.SENT])
                | ~Q(flag=Refund.Flag.NONE)
            )
            & ~Q(pk__in=_unresolved("refund"))
            | Q(status=Refund.Status.FAILURE_REPORTED)
        )
        .filter(_only("refund", only))
        .select_related("booking", "requested_by", "payment")
        .order_by("-created_at", "-id")[:ATTENTION_LIMIT]
    )
    items = []
    in_flight = awaiting = False
    stale = timezone.now() - datetime.timedelta(minutes=10)
    for refund in refunds:
        awaiting = awaiting or refund.status == Refund.Status.REQUESTED
        if refund.status == Refund.Status.SENT:
            in_flight = True
            if refund.sent_at and refund.sent_at > stale:
                continue  # on its way: it needs nobody unless it fails or its result never comes
        items.append(_refund_item(refund))
    return items, in_flight, awaiting


def _refund_item(refund: Refund) -> AttentionItem:
    """Why a refund needs a person: no result long after it was sent, a reported failure, a flag, an approval
    awaited, or a failure."""
    if refund.status == Refund.Status.SENT:
        return AttentionItem(
            "refund",
            refund.pk,
            refund.created_at,
            [f"Refund of {refund.amount_kes:,} KES sent to M-Pesa; no result after {SENT_WITHOUT_RESULT}"],
            refund=refund,
        )
    if refund.status == Refund.Status.FAILURE_REPORTED:
        reason = (
            f"Refund of {refund.amount_kes:,} KES: M-Pesa reported a failure ({refund.error_message}). The amount "
            f"stays held until a Transaction Status on receipt {refund.payment.receipt} shows the payment was not "
            "reversed"
        )
        return AttentionItem("refund", refund.pk, refund.created_at, [reason], refund=refund, resolvable=False)
    if refund.flag:
        reason = f"Refund of {refund.amount_kes:,} KES: {refund.get_flag_display()}"
    elif refund.status == Refund.Status.REQUESTED:
        reason = f"Refund of {refund.amount_kes:,} KES awaiting a second agent's approval"
    else:
        reason = f"Refund of {refund.amount_kes:,} KES failed: {refund.error_message}"
    return AttentionItem("refund", refund.pk, refund.created_at, [reason], refund=refund)


def _unmatched_items(only: tuple[str, int] | None) -> list[AttentionItem]:
    """Callbacks and results with an unknown token, not yet linked to a payment: one query."""
    events = (
        PaymentEvent.objects.filter(unknown_token_callbacks())
        .exclude(Exists(UnmatchedCallbackLink.objects.filter(event=OuterRef("pk"))))
        .exclude(pk__in=_unresolved("unmatched"))
        .filter(_only("unmatched", only))
        .order_by("-created_at", "-id")[:ATTENTION_LIMIT]
    )
    items = []
    for event in events:
        why = (
            "Callback with an unknown token"
            if event.kind == PaymentEvent.Kind.UNMATCHED
            else "Result callback with an unknown token"
        )
        items.append(AttentionItem("unmatched", event.pk, event.created_at, [why], event=event))
    return items


def attention_item_listed(*, kind: str, object_id: int) -> AttentionItem | None:
    """The item the attention list shows now under this kind and id, or None. Read through attention_items
    itself, so that whatever the list shows, and only that, can be resolved."""
    key = f"{kind}-{object_id}"
    return next((item for item in attention_items(only=(kind, object_id)).items if item.key == key), None)
