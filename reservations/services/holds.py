"""Holding a stay's nights: the hold itself, the limits against squatting dates, and the guests' rows."""

import datetime
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.clock import local_date
from core.models import User
from core.money import format_kes
from core.phone import kenyan_part
from core.rate_limits import rate_limit_increment, rate_limit_window_left
from listings.models import Listing
from listings.policies import check_in_moment
from listings.selectors import Quote, Stay, stay_quote
from reservations.models import Booking, BookingEvent, BookingGuest
from reservations.selectors import (
    unpaid_holds_count,
)
from reservations.services.lapses import bookings_lapse
from reservations.services.locks import booker_lock
from reservations.services.transitions import BookingError, _is_exclusion_violation, _notify, _record

Status = Booking.Status
Actor = BookingEvent.Actor


@dataclass(frozen=True)
class GuestData:
    full_name: str
    email: str = ""
    phone: str = ""
    age_group: str = BookingGuest.AgeGroup.ADULT


def hold_duration() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.BOOKING_HOLD_MINUTES)


def _verified_accounts(emails: list[str]) -> dict[str, User]:
    """Accounts that have verified one of these addresses, by lower-cased address."""
    wanted = {email.lower() for email in emails if email}
    if not wanted:
        return {}
    condition = Q()
    for email in wanted:
        condition |= Q(email__iexact=email)
    addresses = EmailAddress.objects.filter(condition, verified=True).select_related("user")
    return {address.email.lower(): address.user for address in addresses}


def _verified_phone_accounts(phones: list[str]) -> dict[str, User]:
    """Accounts that hold one of these numbers (2547XXXXXXXX, as guest rows store them) verified, by number. The
    current holder verified it after anyone before them, so a booking made now may link to them."""
    wanted = {f"+{phone}" for phone in phones if phone}
    if not wanted:
        return {}
    return {user.phone[1:]: user for user in User.objects.filter(phone__in=wanted, phone_verified=True)}


def _check_hold_limits(*, booker: User, now: datetime.datetime) -> None:
    """The unpaid-holds count is exact because the caller holds the booker's lock."""
    max_unpaid = settings.BOOKING_MAX_UNPAID_HOLDS
    unpaid = unpaid_holds_count(user=booker, now=now)
    if unpaid >= max_unpaid:
        raise BookingError(
            _("You already have {count} unpaid bookings. Pay for one or cancel it before holding more dates.").format(
                count=unpaid
            ),
            code="limit",
            retry_after=int(hold_duration().total_seconds()),
        )
    # Counted inside the hold's transaction: a hold refused later (dates just taken) rolls the count back, so only
    # holds actually made use up the hour's allowance; what this limit stops is dates squatted again and again.
    per_hour = settings.BOOKING_HOLDS_PER_HOUR
    if rate_limit_increment(key=f"booking-holds:user:{booker.pk}", window_seconds=3600, now=now) > per_hour:
        raise BookingError(
            _("You have held dates too many times this hour. Please try again in the next hour."),
            code="limit",
            retry_after=rate_limit_window_left(window_seconds=3600, now=now),
        )


@dataclass(frozen=True)
class HoldResult:
    booking: Booking
    created: bool  # False: a repeat of the submission that made `booking`


@transaction.atomic
def booking_hold(
    *,
    booker: User,
    listing_id: int,
    stay: Stay,
    guests: list[GuestData],
    shown_total_kes: int,
    idempotency_key: str,
    now: datetime.datetime | None = None,
) -> Booking:
    """Hold the stay's nights for the hold duration. Raises BookingError with a sentence a guest can read.

    A resubmitted form (same idempotency key) returns the booking it already made.
    """
    return _hold(
        booker=booker,
        listing_id=listing_id,
        stay=stay,
        guests=guests,
        shown_total_kes=shown_total_kes,
        idempotency_key=idempotency_key,
        now=now,
        strict_repeat=False,
    ).booking


@transaction.atomic
def booking_hold_submission(
    *,
    booker: User,
    listing_id: int,
    stay: Stay,
    guests: list[GuestData],
    shown_total_kes: int,
    idempotency_key: str,
    now: datetime.datetime | None = None,
) -> HoldResult:
    """booking_hold for a caller that tells a new hold from a repeat (the API): a repeat of the key with the same
    listing, stay, guests and total returns the booking it made (created=False); with anything else it raises
    BookingError(code="idempotency_key_reused"). Raises BookingError."""
    return _hold(
        booker=booker,
        listing_id=listing_id,
        stay=stay,
        guests=guests,
        shown_total_kes=shown_total_kes,
        idempotency_key=idempotency_key,
        now=now,
        strict_repeat=True,
    )


def _hold(
    *,
    booker: User,
    listing_id: int,
    stay: Stay,
    guests: list[GuestData],
    shown_total_kes: int,
    idempotency_key: str,
    now: datetime.datetime | None,
    strict_repeat: bool,
) -> HoldResult:
    now = now or timezone.now()
    # The one lock order: booker (their unpaid holds are counted below, whichever listings they are on), then
    # listing (one hold per listing at a time), booking, payment, refund. The booker's lock also queues two
    # submissions of one key, whichever listings they name: the second finds the first's booking.
    booker_lock(booker_id=booker.pk)
    listing = Listing.objects.select_for_update().get(pk=listing_id)
    # Looked up under the lock: a double-submitted form waits for the first request and gets its booking.
    existing = Booking.objects.filter(booker=booker, idempotency_key=idempotency_key).first()
    if existing:
        if strict_repeat and not _same_submission(
            existing, listing_id=listing_id, stay=stay, guests=guests, shown_total_kes=shown_total_kes
        ):
            raise BookingError(
                _("This idempotency key was already used for another booking request."),
                code="idempotency_key_reused",
            )
        return HoldResult(booking=existing, created=False)
    # The exclusion constraint cannot read the clock: lapsed holds must leave the blocking statuses first.
    bookings_lapse(listing=listing, now=now)
    quote = _quote_as_shown(listing=listing, stay=stay, guests=len(guests), shown_total_kes=shown_total_kes, now=now)
    _check_hold_limits(booker=booker, now=now)
    booking = _booking_create(
        listing=listing, booker=booker, stay=stay, quote=quote, idempotency_key=idempotency_key, now=now
    )
    _guests_add(booking, booker=booker, guests=guests)
    event = _record(
        booking,
        action="held",
        message=_("Dates held for {guests} guests, {total} to pay.").format(
            guests=len(guests), total=format_kes(booking.total_kes)
        ),
        actor_kind=Actor.USER,
        actor=booker,
        to_status=Status.HELD,
        details={"blocks_until": booking.blocks_until.isoformat(), "total_kes": booking.total_kes},
    )
    _notify(booking, kind="hold_created", event=event)
    return HoldResult(booking=booking, created=True)


def _same_submission(
    booking: Booking, *, listing_id: int, stay: Stay, guests: list[GuestData], shown_total_kes: int
) -> bool:
    """Whether a repeated key asks for what its booking was made from: listing, stay, total and guests in order."""
    if (booking.listing_id, booking.check_in, booking.check_out, booking.total_kes) != (
        listing_id,
        stay.check_in,
        stay.check_out,
        shown_total_kes,
    ):
        return False
    stored = list(booking.guests.order_by("position").values_list("full_name", "email", "phone", "age_group"))
    asked = [(g.full_name, g.email.lower(), g.phone, g.age_group) for g in guests]
    return stored == asked


def _quote_as_shown(
    *, listing: Listing, stay: Stay, guests: int, shown_total_kes: int, now: datetime.datetime
) -> Quote:
    """The stay's quote (listings' one pricing function), when it is bookable at the total the guest was shown."""
    quote = stay_quote(listing=listing, stay=stay, guests=guests, now=now)
    if not quote.bookable:
        raise BookingError(quote.reason, code=quote.code)
    if quote.total_kes != shown_total_kes:
        raise BookingError(
            _("The price changed to {total} while you were booking.").format(total=format_kes(quote.total_kes)),
            code="price_changed",
            quote=quote,
        )
    return quote


def _booking_create(
    *, listing: Listing, booker: User, stay: Stay, quote: Quote, idempotency_key: str, now: datetime.datetime
) -> Booking:
    """Insert the held booking with what it freezes of its quote. The database refuses nights another booking
    holds (the exclusion constraint): the guest is told the dates were just taken."""
    try:
        with transaction.atomic():
            return Booking.objects.create(
                listing=listing,
                booker=booker,
                check_in=stay.check_in,
                check_out=stay.check_out,
                status=Status.HELD,
                blocks_until=now + hold_duration(),
                idempotency_key=idempotency_key,
                **quote.frozen_fields(),
                check_in_at=check_in_moment(check_in=stay.check_in, check_in_time=listing.check_in_time),
            )
    except IntegrityError as error:
        if _is_exclusion_violation(error):
            raise BookingError(
                _("Those dates were just taken by someone else. Please choose other dates."), code="dates_taken"
            )
        raise


def _guests_add(booking: Booking, *, booker: User, guests: list[GuestData]) -> None:
    """The booking's guest rows, the booker first; a guest whose address or number an account has verified is linked
    to it (the address first)."""
    accounts = _verified_accounts([g.email.lower() for g in guests])
    phone_accounts = _verified_phone_accounts([g.phone for g in guests])
    BookingGuest.objects.bulk_create(
        BookingGuest(
            booking=booking,
            position=position,
            full_name=guest.full_name,
            email=guest.email.lower(),
            phone=guest.phone,
            age_group=guest.age_group,
            user=booker if position == 0 else accounts.get(guest.email.lower()) or phone_accounts.get(guest.phone),
        )
        for position, guest in enumerate(guests)
    )


@transaction.atomic
def booking_guests_link_account(*, user: User, email: str) -> int:
    """Link guest rows with this address to the account that has just verified it. Returns how many."""
    return BookingGuest.objects.filter(email__iexact=email, user__isnull=True).update(user=user)


@transaction.atomic
def booking_guests_link_phone(
    *, user: User, phone: str, others_verified_before: datetime.datetime | None, today: datetime.date | None = None
) -> int:
    """Link guest rows typed with this number (E.164) to the account that has just verified it. Kenyan numbers are
    recycled, so only rows of bookings whose check-out is still ahead and that were made after anyone else last
    verified the number (`others_verified_before`) are linked: an earlier booking was typed for someone else. Returns
    how many."""
    stored = kenyan_part(phone)  # guest rows hold Kenyan numbers only, as 2547XXXXXXXX
    if not stored:
        return 0
    today = today or local_date()
    rows = BookingGuest.objects.filter(phone=stored, user__isnull=True, booking__check_out__gte=today)
    if others_verified_before is not None:
        rows = rows.filter(booking__created_at__gt=others_verified_before)
    return BookingGuest.objects.filter(pk__in=rows.values("pk")).update(user=user)
