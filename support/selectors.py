"""Reads for the support console. Every page costs the same number of queries however much data there is."""

import datetime
import hashlib
import json
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from core.phone import mask_phone, normalise_phone
from core.redact import mask_payment_tokens, masked
from mpesa.models import (
    AttentionResolution,
    Payment,
    PaymentEvent,
    Refund,
    StatusRequest,
    SupportAction,
    UnmatchedCallbackLink,
)
from mpesa.refunds import refundable_kes
from mpesa.search_text import search_normalise
from reservations.models import Booking, BookingEvent

NAIROBI = ZoneInfo("Africa/Nairobi")
PAGE_SIZE = 25
ATTENTION_LIMIT = 50
SENT_WITHOUT_RESULT = "10 minutes"
RECEIPT_SHAPE = re.compile(r"^(?=.*[0-9])(?=.*[A-Z])[A-Z0-9]{10}$")
# M-Pesa receipts can be letters only ("UKPVCEVXHY"); so can a name fragment. Such a text is searched as both.
RECEIPT_OR_WORD_SHAPE = re.compile(r"^[A-Z]{10}$")
REF_SHAPE = re.compile(r"^NX-?([0-9A-Z]{6})$")
# Digits with the separators people read numbers out with: searched as a phone number, never as a name.
PHONE_SHAPE = re.compile(r"[\d\s+\-().]{9,20}")


def looks_like_phone(text: str) -> bool:
    return PHONE_SHAPE.fullmatch(text) is not None


@dataclass(frozen=True)
class SearchFilters:
    q: str = ""
    status: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    amount_min: int | None = None
    amount_max: int | None = None

    def as_dict(self) -> dict:
        values = {
            "q": self.q,
            "status": self.status,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "min": "" if self.amount_min is None else str(self.amount_min),
            "max": "" if self.amount_max is None else str(self.amount_max),
        }
        return {key: value for key, value in values.items() if value}


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=NAIROBI)


def _key_q(text: str) -> Q | None:
    """What a caller might read out that names a payment exactly: receipt (or the code a guest typed),
    CheckoutRequestID, phone number, booking reference. Answered through their own indexes."""
    upper = text.upper()
    if upper.startswith("WS_CO_"):
        return Q(checkout_request_id=text)
    if RECEIPT_SHAPE.match(upper):
        return Q(receipt=upper) | Q(guest_code=upper)
    ref = REF_SHAPE.match(upper.replace(" ", ""))
    if ref:
        return Q(booking__ref=f"NX-{ref.group(1)}")
    if looks_like_phone(text):
        try:
            return Q(phone=normalise_phone(text))
        except ValidationError:  # SearchForm refuses such text; a caller without the form finds nothing
            return Q(pk__in=[])
    return None


def _filter_text(payments: QuerySet[Payment], text: str) -> QuerySet[Payment]:
    key = _key_q(text)
    if key is not None:
        return payments.filter(key)
    # A fragment of a name, e-mail address or listing title: one column, lower-cased like the fragment, read through
    # its trigram index on PostgreSQL (mpesa.search_text). SQLite's LIKE reads every row (fine at make run sizes).
    by_name = payments.filter(search_text__contains=search_normalise(text))
    upper = text.upper()
    if RECEIPT_OR_WORD_SHAPE.match(upper):
        return payments.filter(Q(receipt=upper) | Q(guest_code=upper)) | by_name
    return by_name


def payment_search(*, filters: SearchFilters) -> QuerySet[Payment]:
    """Payments matching the filters, newest first (dates are Nairobi days)."""
    payments = Payment.objects.all()
    if filters.q:
        payments = _filter_text(payments, filters.q)
    if filters.status:
        payments = payments.filter(status=filters.status)
    if filters.date_from:
        payments = payments.filter(created_at__gte=_local_midnight(filters.date_from))
    if filters.date_to:
        payments = payments.filter(created_at__lt=_local_midnight(filters.date_to + datetime.timedelta(days=1)))
    if filters.amount_min is not None:
        payments = payments.filter(amount_kes__gte=filters.amount_min)
    if filters.amount_max is not None:
        payments = payments.filter(amount_kes__lte=filters.amount_max)
    return payments.order_by("-created_at", "-id")


@dataclass(frozen=True)
class SearchRow:
    """One line of the results, read as plain values: a page builds no model instances."""

    pk: int
    ref: str
    guest: str  # the booker's name, or their e-mail address when they gave no name
    amount_kes: int
    status: str
    status_label: str
    phone: str
    receipt: str | None
    listing: str
    created_at: datetime.datetime
    url: str  # the payment's console page

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)


@dataclass(frozen=True)
class SearchPage:
    rows: list[SearchRow]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def _rows_sql(ids_sql: str) -> str:
    """The page's rows with their booking, booker and listing, for the ids the search's own query picks. Written
    out: on every search, composing it through the ORM took four times as long as PostgreSQL took to answer it."""
    payment, booking = Payment._meta.db_table, Booking._meta.db_table
    user = Booking._meta.get_field("booker").related_model._meta.db_table
    listing = Booking._meta.get_field("listing").related_model._meta.db_table
    return f"""
        SELECT p.id, b.ref, u.full_name, u.email, p.amount_kes, p.status, p.phone, p.receipt, l.title, p.created_at
          FROM {payment} p
          JOIN {booking} b ON b.id = p.booking_id
          JOIN {user} u ON u.id = b.booker_id
          JOIN {listing} l ON l.id = b.listing_id
         WHERE p.id IN ({ids_sql})
         ORDER BY p.created_at DESC, p.id DESC
    """


def payment_search_page(*, filters: SearchFilters, page: int = 1) -> SearchPage:
    """One query: the page's payments with their booking, listing and booker (one more row tells if there is
    a next page, so no COUNT over the whole table)."""
    page = max(page, 1)
    start = (page - 1) * PAGE_SIZE
    # The page's ids first, then their bookings, listings and bookers: the joins are made for one page only.
    page_ids = payment_search(filters=filters).values("pk")[start : start + PAGE_SIZE + 1]
    try:
        ids_sql, params = page_ids.query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing, such as an empty list of ids
        return SearchPage(rows=[], number=page, has_next=False)
    with connection.cursor() as cursor:
        cursor.execute(_rows_sql(ids_sql), params)
        values = cursor.fetchall()
    labels = {value: str(label) for value, label in Payment.Status.choices}
    # One reverse() a page, not one a row (it cost as much as the rest of a row): the rows' links differ only by id.
    head, _, tail = reverse("support:payment", kwargs={"payment_id": 0}).rpartition("0")
    rows = [
        SearchRow(
            pk=pk,
            ref=ref,
            guest=full_name or email,
            amount_kes=amount_kes,
            status=status,
            status_label=labels.get(status, status),
            phone=phone,
            receipt=receipt,
            listing=title,
            # SQLite hands back the stored UTC time without its zone
            created_at=created_at if timezone.is_aware(created_at) else timezone.make_aware(created_at, datetime.UTC),
            url=f"{head}{pk}{tail}",
        )
        for pk, ref, full_name, email, amount_kes, status, phone, receipt, title, created_at in values[:PAGE_SIZE]
    ]
    return SearchPage(rows=rows, number=page, has_next=len(values) > PAGE_SIZE)


@dataclass(frozen=True)
class TodayFigures:
    started: int
    succeeded: int
    failed: int
    pending: int
    unknown: int
    collected_kes: int
    refunded_kes: int


def support_today(*, now: datetime.datetime | None = None) -> TodayFigures:
    """Today's payments (Nairobi day) by outcome, money collected and refunded. One query, written out: it is on
    every console page, and the ORM spent longer composing the two aggregates than PostgreSQL took to answer."""
    now = now or timezone.now()
    start = connection.ops.adapt_datetimefield_value(_local_midnight(timezone.localtime(now, NAIROBI).date()))
    S = Payment.Status
    in_flight = sorted(status.value for status in Payment.IN_FLIGHT)
    sql = f"""
        SELECT COUNT(*),
               COUNT(CASE WHEN status = %s THEN 1 END),
               COUNT(CASE WHEN status = %s THEN 1 END),
               COUNT(CASE WHEN status IN ({", ".join(["%s"] * len(in_flight))}) THEN 1 END),
               COUNT(CASE WHEN status = %s THEN 1 END),
               COALESCE(SUM(CASE WHEN status = %s THEN amount_kes END), 0),
               (SELECT COALESCE(SUM(amount_kes), 0) FROM {Refund._meta.db_table}
                 WHERE status = %s AND settled_at >= %s)
          FROM {Payment._meta.db_table}
         WHERE created_at >= %s
    """
    params = [S.SUCCEEDED.value, S.FAILED.value, *in_flight, S.UNKNOWN.value, S.SUCCEEDED.value]
    params += [Refund.Status.SUCCEEDED.value, start, start]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        started, succeeded, failed, pending, unknown, collected, refunded = cursor.fetchone()
    return TodayFigures(
        started=started,
        succeeded=succeeded,
        failed=failed,
        pending=pending,
        unknown=unknown,
        collected_kes=int(collected),
        refunded_kes=int(refunded),
    )


# ---------------------------------------------------------------------------------------------------------------
# Attention.


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
    items: list[AttentionItem] = []
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
    for payment in payments:
        items.append(
            AttentionItem("payment", payment.pk, payment.created_at, _payment_reasons(payment), payment=payment)
        )
    # Cancelled by anyone, or expired with money paid (an instalment, a payment that landed late): money is owed.
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
    for booking in bookings:
        why = "Cancelled" if booking.status == Booking.Status.CANCELLED else "Hold ran out"
        reason = f"{why}: {booking.refund_due_kes:,} KES due back to the guest"
        items.append(
            AttentionItem(
                "refund_due", booking.pk, booking.cancelled_at or booking.updated_at, [reason], booking=booking
            )
        )
    # A reported reversal failure stays listed, resolved or not, until a Transaction Status confirms it.
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
    in_flight = awaiting = False
    stale = timezone.now() - datetime.timedelta(minutes=10)
    for refund in refunds:
        awaiting = awaiting or refund.status == Refund.Status.REQUESTED
        if refund.status == Refund.Status.SENT:
            in_flight = True
            if refund.sent_at and refund.sent_at > stale:
                continue  # on its way: it needs nobody unless it fails or its result never comes
            items.append(
                AttentionItem(
                    "refund",
                    refund.pk,
                    refund.created_at,
                    [f"Refund of {refund.amount_kes:,} KES sent to M-Pesa; no result after {SENT_WITHOUT_RESULT}"],
                    refund=refund,
                )
            )
            continue
        if refund.status == Refund.Status.FAILURE_REPORTED:
            reason = (
                f"Refund of {refund.amount_kes:,} KES: M-Pesa reported a failure ({refund.error_message}). The amount "
                f"stays held until a Transaction Status on receipt {refund.payment.receipt} shows the payment was not "
                "reversed"
            )
            items.append(
                AttentionItem("refund", refund.pk, refund.created_at, [reason], refund=refund, resolvable=False)
            )
            continue
        if refund.flag:
            reason = f"Refund of {refund.amount_kes:,} KES: {refund.get_flag_display()}"
        elif refund.status == Refund.Status.REQUESTED:
            reason = f"Refund of {refund.amount_kes:,} KES awaiting a second agent's approval"
        else:
            reason = f"Refund of {refund.amount_kes:,} KES failed: {refund.error_message}"
        items.append(AttentionItem("refund", refund.pk, refund.created_at, [reason], refund=refund))
    events = (
        PaymentEvent.objects.filter(unknown_token_callbacks())
        .exclude(Exists(UnmatchedCallbackLink.objects.filter(event=OuterRef("pk"))))
        .exclude(pk__in=_unresolved("unmatched"))
        .filter(_only("unmatched", only))
        .order_by("-created_at", "-id")[:ATTENTION_LIMIT]
    )
    for event in events:
        why = (
            "Callback with an unknown token"
            if event.kind == PaymentEvent.Kind.UNMATCHED
            else "Result callback with an unknown token"
        )
        items.append(AttentionItem("unmatched", event.pk, event.created_at, [why], event=event))
    items.sort(key=lambda item: item.created_at, reverse=True)
    return Attention(items=items, refunds_in_flight=in_flight, refunds_awaiting_approval=awaiting)


def attention_item_listed(*, kind: str, object_id: int) -> AttentionItem | None:
    """The item the attention list shows now under this kind and id, or None. Read through attention_items
    itself, so that whatever the list shows, and only that, can be resolved."""
    key = f"{kind}-{object_id}"
    return next((item for item in attention_items(only=(kind, object_id)).items if item.key == key), None)


# ---------------------------------------------------------------------------------------------------------------
# One payment.


@dataclass
class TimelineEntry:
    at: datetime.datetime
    source: str  # mpesa, booking, staff
    title: str
    message: str
    body: object = None
    raw_body: str = ""
    who: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def pretty(self) -> str:
        """The raw M-Pesa body, pretty-printed when it is JSON, else as it arrived; URL tokens masked."""
        if self.body is not None:
            return json.dumps(masked(self.body), indent=2, ensure_ascii=False, sort_keys=False)
        return mask_payment_tokens(self.raw_body)


@dataclass(frozen=True)
class PaymentDetail:
    payment: Payment
    booking: Booking
    timeline: list[TimelineEntry]
    refunds: list[Refund]
    status_requests: list[StatusRequest]
    refundable_kes: int

    @property
    def awaiting_result(self) -> bool:
        return any(r.status == Refund.Status.SENT for r in self.refunds) or any(
            s.status == StatusRequest.Status.SENT for s in self.status_requests
        )


def payment_detail(*, payment_id: int) -> PaymentDetail:
    """The payment, its booking and one timeline of M-Pesa's messages, the booking's history and staff actions.
    A fixed number of queries however long the history. Http404 for an unknown id."""
    payment = (
        Payment.objects.select_related("booking", "booking__listing", "booking__booker", "initiated_by")
        .filter(pk=payment_id)
        .first()
    )
    if payment is None:
        raise Http404
    booking = payment.booking
    refunds = list(payment.refunds.select_related("requested_by", "approved_by").order_by("created_at", "id"))
    requests = list(payment.status_requests.select_related("requested_by").order_by("created_at", "id"))
    tokens = [r.result_token for r in refunds] + [s.result_token for s in requests]
    events = PaymentEvent.objects.filter(
        Q(payment=payment)
        | Q(kind=PaymentEvent.Kind.RESULT, path_token__in=tokens)
        | Q(pk__in=UnmatchedCallbackLink.objects.filter(payment=payment).values("event_id"))
    ).order_by("created_at", "id")
    timeline = [
        TimelineEntry(
            at=event.created_at,
            source="mpesa",
            title=event.get_kind_display(),
            message=event.message,
            body=event.body,
            raw_body=event.raw_body,
            meta={"kind": event.kind, "ip": event.source_ip or "", "http_status": event.http_status, "id": event.pk},
        )
        for event in events
    ]
    for event in BookingEvent.objects.filter(booking=booking).select_related("actor").order_by("created_at", "id"):
        timeline.append(
            TimelineEntry(
                at=event.created_at,
                source="booking",
                title=f"Booking: {event.action.replace('_', ' ')}",
                message=event.message,
                who=str(event.actor or event.get_actor_kind_display()),
            )
        )
    for action in SupportAction.objects.filter(payment=payment).select_related("actor").order_by("created_at", "id"):
        timeline.append(
            TimelineEntry(
                at=action.created_at,
                source="staff",
                title=action.get_kind_display(),
                message=action.reason,
                who=action.actor.email,
                meta=action.details,
            )
        )
    timeline.sort(key=lambda entry: entry.at)
    return PaymentDetail(
        payment=payment,
        booking=booking,
        timeline=timeline,
        refunds=refunds,
        status_requests=requests,
        refundable_kes=refundable_kes(payment),
    )


def refund_get(*, refund_id: int) -> Refund:
    refund = Refund.objects.filter(pk=refund_id).first()
    if refund is None:
        raise Http404
    return refund
