"""Every message a booking sends, e-mail and SMS, queued in the outbox (notifications) in the transaction of the
event that causes it and sent once that commits: once per kind, event and recipient.

Who hears what follows the disclosure rule (payment details to the booker only; the address, directions, check-in
instructions and the host's phone to the booker and linked guests with a verified account once confirmed; any other
typed contact only the reference, listing, dates and a link). The texts are templates: e-mails in
templates/reservations/email/, SMS per language in templates/reservations/sms/<language>/.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.africastalking_wire import e164
from core.clock import NAIROBI, local_date
from core.models import User
from core.money import format_kes
from core.phone import normalise_phone
from core.selectors import user_email_verified
from core.site import absolute_url
from listings.models import CancellationPolicy
from listings.policies import policy_terms
from notifications.outbox import email_queue, sms_queue
from notifications.recipients import language_for, sms_number_for
from notifications.rendering import masked_number, sms_ascii, sms_date, sms_stay
from reservations.models import Booking, BookingEvent, BookingGuest
from reservations.selectors import (
    BookingDisclosure,
    booking_disclosure,
    booking_refund_due_on_cancel,
    booking_refund_today,
)

# What each kind of message is called in the outbox, and who gets it on which channel.
EMAIL_SUBJECTS = {
    "booking_confirmed": "Booking {ref} is confirmed: {title}",
    "booking_cancelled": "Booking {ref} was cancelled: {title}",
    "refund_due": "Booking {ref}: money is due back to you ({title})",
    "refunded": "Booking {ref}: your refund is on its way ({title})",
}
# E-mails every guest with an address and the host get; the others go to the booker alone.
EMAIL_TO_EVERYONE = {"booking_confirmed", "booking_cancelled"}
# SMS to the host of the place.
SMS_TO_HOST = {"booking_confirmed", "booking_cancelled"}
# SMS to linked guests with a number (no payment details in them).
SMS_TO_GUESTS = {"booking_confirmed", "checkin_reminder"}
SMS_KINDS = {
    "hold_created",
    "payment_failed",
    "instalment_due",
    "booking_confirmed",
    "booking_cancelled",
    "refund_due",
    "refunded",
    "checkin_reminder",
}
# What an M-Pesa result code means, in words a payer can act on (the SMS templates spell each per language).
PAYMENT_FAILURE_REASONS = {"1": "balance", "1032": "cancelled", "1037": "unreachable", "2001": "pin"}
# When support sends a refund due: the promise the messages make.
REFUND_WITHIN_DAYS = 3
SMS_PLACE_CHARS = 24  # a listing's title in an SMS, at most


@dataclass(frozen=True)
class Recipient:
    role: str  # "booker", "guest" (a linked account), "contact" (a typed address, no account), "host"
    name: str
    account: User | None
    show: BookingDisclosure | None  # None for the host


def _email_recipients(booking: Booking, guests: list[BookingGuest], kind: str) -> dict[str, Recipient]:
    """address -> recipient, once per address: the booker, each guest with an address and the host (the booker
    alone for the kinds only the booker hears of)."""
    booker = booking.booker
    recipients = {}
    # The booker's own address only once verified (it is optional since sign-up by mobile number).
    if user_email_verified(user=booker):
        recipients[booker.email.lower()] = Recipient("booker", booker.get_full_name(), booker, None)
    if kind in EMAIL_TO_EVERYONE:
        for guest in guests:
            address = guest.email.lower()
            if address and address not in recipients and guest.user_id != booker.pk:
                account = guest.user if guest.user_id and guest.user_id != booker.pk else None
                role = "guest" if account else "contact"
                recipients[address] = Recipient(role, guest.full_name, account, None)
        host = booking.listing.host
        if host.email:
            recipients.setdefault(host.email.lower(), Recipient("host", host.get_full_name(), host, None))
    return {
        address: Recipient(
            r.role, r.name, r.account, booking_disclosure(booking=booking, user=r.account, guests=guests)
        )
        if r.role != "host"
        else r
        for address, r in recipients.items()
    }


def _payments(booking: Booking) -> list[dict]:
    """Each M-Pesa payment counted towards the booking: receipt and amount, oldest first."""
    events = booking.events.filter(action="payment_received").order_by("created_at", "pk")
    return [
        {"receipt": e.details.get("receipt", ""), "amount_kes": e.details.get("amount_kes", 0), "at": e.created_at}
        for e in events
    ]


def _trip_url(booking: Booking) -> str:
    return absolute_url(booking.get_absolute_url())


def _email_context(
    booking: Booking, guests: list[BookingGuest], recipient: Recipient, *, details: dict, now: datetime.datetime
) -> dict:
    show = recipient.show
    context = {
        "booking": booking,
        "listing": booking.listing,
        "guests": guests,
        "role": recipient.role,
        "name": recipient.name,
        "show": show,
        "trip_url": _trip_url(booking),
        "signup_url": absolute_url(reverse("account_signup")) + "?next=" + booking.get_absolute_url(),
        "login_url": absolute_url(reverse("account_login")) + "?next=" + booking.get_absolute_url(),
        "host_bookings_url": absolute_url(reverse("reservations:host-bookings")),
        "refund_within_days": REFUND_WITHIN_DAYS,
        "by_host": details.get("by_host", False),
    }
    if show and show.payment_details:
        phone = details.get("phone", "")
        context |= {
            "refund_kes": details.get("refund_due_kes", 0),
            "amount_kes": details.get("amount_kes", 0),
            "receipt": details.get("receipt", ""),
            "number": masked_number(phone) if phone else "",
            "reason": details.get("reason", ""),
        }
        refund = booking_refund_today(booking=booking, now=now)
        context |= {
            "payments": _payments(booking),
            "policy_name": CancellationPolicy(booking.cancellation_policy).label,
            "policy_terms": policy_terms(booking.cancellation_policy),
            "refund_percent_today": refund.nights_percent,
            "refund_today_kes": booking_refund_due_on_cancel(booking=booking, now=now),
        }
    return context


def _emails_queue(booking: Booking, *, kind: str, object_key: str, details: dict, now: datetime.datetime) -> None:
    guests = list(booking.guests.select_related("user").order_by("position"))
    subject = EMAIL_SUBJECTS[kind].format(ref=booking.ref, title=booking.listing.title)
    for address, recipient in _email_recipients(booking, guests, kind).items():
        email_queue(
            kind=kind,
            object_key=object_key,
            address=address,
            recipient=recipient.account,
            booking_ref=booking.ref,
            subject=subject,
            template=f"reservations/email/{kind}",
            context=_email_context(booking, guests, recipient, details=details, now=now),
        )


# -- SMS --------------------------------------------------------------------------------------------------------


def _local(moment: datetime.datetime | None) -> datetime.datetime | None:
    return moment.astimezone(NAIROBI) if moment else None


def _sms_context(booking: Booking, *, language: str, details: dict) -> dict:
    pay_by = _local(booking.blocks_until)
    phone = details.get("phone", "")
    return {
        "ref": booking.ref,
        "place": _short(booking.listing.title),
        "stay": sms_stay(booking.check_in, booking.check_out, language=language),
        "check_in_day": sms_date(booking.check_in, language=language),
        "check_in_time": booking.listing.check_in_time.strftime("%H:%M"),
        "guest_count": booking.guest_count,
        "link": _trip_url(booking),
        "host_link": absolute_url(reverse("reservations:host-bookings")),
        "total": format_kes(booking.total_kes),
        "paid": format_kes(booking.paid_kes),
        "due": format_kes(max(booking.total_kes - booking.paid_kes, 0)),
        "refund_due": format_kes(details.get("refund_due_kes", booking.refund_due_kes)),
        "refund_due_amount": details.get("refund_due_kes", 0),
        "amount_due": format_kes(details.get("refund_due_kes", booking.refund_due_kes)),
        "refund_within_days": REFUND_WITHIN_DAYS,
        "amount": format_kes(details.get("amount_kes", 0)),
        "receipt": details.get("receipt", ""),
        "number": masked_number(phone) if phone else "",
        "pay_by_time": pay_by.strftime("%H:%M") if pay_by else "",
        "pay_by_day": sms_date(pay_by.date(), language=language) if pay_by else "",
        "reason": PAYMENT_FAILURE_REASONS.get(str(details.get("result_code", "")), "other"),
        "by_host": details.get("by_host", False),
        "booker_first": _short(booking.booker.get_short_name(), 16),
    }


def _short(text: str, limit: int = SMS_PLACE_CHARS) -> str:
    text = sms_ascii(text)
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _sms_one(booking: Booking, *, kind: str, role: str, object_key: str, account: User | None, number: str, details):
    language = language_for(account)
    sms_queue(
        kind=kind,
        object_key=object_key,
        number=number,
        recipient=account,
        booking_ref=booking.ref,
        language=language,
        template=f"reservations/sms/{{language}}/{kind}_{role}.txt",
        context=_sms_context(booking, language=language, details=details),
    )


def _sms_queue(booking: Booking, *, kind: str, object_key: str, details: dict) -> None:
    booker = booking.booker
    booker_number = sms_number_for(booker)
    sent_to = {booker_number}
    _sms_one(
        booking, kind=kind, role="booker", object_key=object_key, account=booker, number=booker_number, details=details
    )
    if kind in SMS_TO_GUESTS:
        for guest in booking.guests.select_related("user").filter(user__isnull=False).order_by("position"):
            number = sms_number_for(guest.user)
            if guest.user_id == booker.pk or number in sent_to:
                continue
            sent_to.add(number)
            _sms_one(
                booking,
                kind=kind,
                role="guest",
                object_key=object_key,
                account=guest.user,
                number=number,
                details=details,
            )
    if kind in SMS_TO_HOST:
        host = booking.listing.host
        number = sms_number_for(host) or _host_number(booking)
        if number not in sent_to:
            _sms_one(
                booking, kind=kind, role="host", object_key=object_key, account=host, number=number, details=details
            )


def _host_number(booking: Booking) -> str:
    """The place's phone (Listing.host_phone) when the host's account has no number."""
    try:
        return e164(normalise_phone(booking.listing.host_phone)) if booking.listing.host_phone else ""
    except ValidationError:  # a stored value that is not a mobile number: no SMS
        return ""


# -- the entry point --------------------------------------------------------------------------------------------


def booking_messages_queue(
    *,
    booking: Booking,
    kind: str,
    event: BookingEvent | None = None,
    object_key: str = "",
    now: datetime.datetime | None = None,
) -> None:
    """Queue the e-mails and SMS of one event of a booking (`kind` names it), in the caller's transaction: once per
    event and recipient. `object_key` defaults to the event's ("booking-event:<id>")."""
    now = now or timezone.now()
    booking = Booking.objects.select_related("listing", "listing__host", "booker").get(pk=booking.pk)
    object_key = object_key or f"booking-event:{event.pk}"
    details = dict(event.details or {}) if event is not None else {}
    if event is not None and event.action == "host_cancelled":
        details["by_host"] = True
    if kind in EMAIL_SUBJECTS:
        _emails_queue(booking, kind=kind, object_key=object_key, details=details, now=now)
    if kind in SMS_KINDS:
        _sms_queue(booking, kind=kind, object_key=object_key, details=details)


def bookings_remind_checkin(*, now: datetime.datetime | None = None) -> int:
    """The day before check-in (in Nairobi), text the booker and each linked guest with a number the time and the
    link to the address: once per booking and check-in date, however often this runs. Returns the bookings seen."""
    now = now or timezone.now()
    tomorrow = local_date(now) + datetime.timedelta(days=1)
    bookings = Booking.objects.filter(status=Booking.Status.CONFIRMED, check_in=tomorrow).order_by("pk")
    count = 0
    for booking_id in bookings.values_list("pk", flat=True):
        with transaction.atomic():
            booking = Booking.objects.select_for_update().get(pk=booking_id)
            if booking.status != Booking.Status.CONFIRMED or booking.check_in != tomorrow:
                continue
            booking_messages_queue(
                booking=booking,
                kind="checkin_reminder",
                object_key=f"reminder:booking-{booking.pk}:{booking.check_in.isoformat()}",
                now=now,
            )
            count += 1
    return count
