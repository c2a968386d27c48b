"""One payment as the console shows it: its booking and one timeline of M-Pesa's messages, the booking's history and
staff actions."""

import datetime
import json
from dataclasses import dataclass, field

from django.db.models import Q
from django.http import Http404

from core.clock import local_time
from core.phone import mask_phone
from core.redact import mask_payment_tokens, masked
from mpesa.models import Payment, PaymentEvent, Refund, StatusRequest, SupportAction, UnmatchedCallbackLink
from mpesa.refunds import refundable_kes
from notifications.models import Notification
from notifications.selectors import notification_timeline
from reservations.models import Booking, BookingEvent


@dataclass
class TimelineEntry:
    at: datetime.datetime
    source: str  # mpesa, booking, staff, message
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
    timeline = (
        _mpesa_entries(payment, refunds=refunds, requests=requests)
        + _booking_entries(booking)
        + _staff_entries(payment)
        + _message_entries(booking)
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


def _mpesa_entries(payment: Payment, *, refunds: list[Refund], requests: list[StatusRequest]) -> list[TimelineEntry]:
    """M-Pesa's messages about the payment: its own ledger, the results of its refunds and status requests, and
    the unmatched callbacks staff linked to it. One query."""
    tokens = [r.result_token for r in refunds] + [s.result_token for s in requests]
    events = PaymentEvent.objects.filter(
        Q(payment=payment)
        | Q(kind=PaymentEvent.Kind.RESULT, path_token__in=tokens)
        | Q(pk__in=UnmatchedCallbackLink.objects.filter(payment=payment).values("event_id"))
    ).order_by("created_at", "id")
    return [
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


def _booking_entries(booking: Booking) -> list[TimelineEntry]:
    """The booking's history: one query."""
    return [
        TimelineEntry(
            at=event.created_at,
            source="booking",
            title=f"Booking: {event.action.replace('_', ' ')}",
            message=event.message,
            who=str(event.actor or event.get_actor_kind_display()),
        )
        for event in BookingEvent.objects.filter(booking=booking).select_related("actor").order_by("created_at", "id")
    ]


def _staff_entries(payment: Payment) -> list[TimelineEntry]:
    """What staff did about the payment in the console: one query."""
    return [
        TimelineEntry(
            at=action.created_at,
            source="staff",
            title=action.get_kind_display(),
            message=action.reason,
            who=action.actor.email,
            meta=action.details,
        )
        for action in SupportAction.objects.filter(payment=payment).select_related("actor").order_by("created_at", "id")
    ]


def _message_entries(booking: Booking) -> list[TimelineEntry]:
    """Every e-mail and SMS about the booking: kind, channel, to whom (a number masked), status and times, never a
    body (a sign-in code's least of all). One query."""
    entries = []
    for row in notification_timeline(booking_ref=booking.ref):
        channel = Notification.Channel(row["channel"])
        address = row["address"]
        if channel == Notification.Channel.SMS:
            address = mask_phone(address.lstrip("+"))
        status = Notification.Status(row["status"])
        outcome = ""
        if status == Notification.Status.FAILED:  # Africa's Talking's words first, else ours (a cap, a refusal)
            outcome = row["failure_reason"] or row["provider_status"] or row["error"]
        elif status == Notification.Status.UNKNOWN:
            outcome = row["error"]
        times = [f"queued {_hms(row['created_at'])}"]
        if row["sent_at"]:
            times.append(f"sent {_hms(row['sent_at'])}")
        if row["finished_at"] and status != Notification.Status.SENT:
            times.append(f"{status.label.lower()} {_hms(row['finished_at'])}")
        entries.append(
            TimelineEntry(
                at=row["created_at"],
                source="message",
                title=f"{channel.label}: {row['kind'].replace('_', ' ')}",
                message=f"To {address}: {status.label}"
                + (f" ({outcome})" if outcome else "")
                + ". "
                + ", ".join(times),
                meta={"kind": "notification", "status": status.value, "channel": channel.value, "id": row["id"]},
            )
        )
    return entries


def _hms(moment: datetime.datetime) -> str:
    return local_time(moment).strftime("%H:%M:%S")


def refund_get(*, refund_id: int) -> Refund:
    refund = Refund.objects.filter(pk=refund_id).first()
    if refund is None:
        raise Http404
    return refund
