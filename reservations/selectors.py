"""Every non-trivial read of bookings, scoped to who may see it."""

import datetime
import functools
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.contrib.postgres.fields import RangeBoundary
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import DateField, DateTimeField, OuterRef, Q, QuerySet, Value
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from core.clock import local_date
from core.models import User
from core.phone import mask_phone
from core.prepared import Slot, slot_values
from listings.models import CancellationPolicy, Listing
from listings.policies import Refund, cancellation_refund
from listings.selectors import cover_url, listing_cover_name
from reservations.models import BookedNight, Booking, BookingGuest, DateRange


def bookings_blocking(*, now: datetime.datetime) -> QuerySet[Booking]:
    """The only definition of "these nights are taken": a blocking status and a hold that has not lapsed."""
    return Booking.objects.filter(status__in=Booking.BLOCKING).filter(
        Q(blocks_until__isnull=True) | Q(blocks_until__gt=now)
    )


def bookings_kept_for_good() -> QuerySet[Booking]:
    """The bookings of bookings_blocking at any clock: a blocking status and no deadline (a confirmed stay, a payment
    held for support). Their nights are BookedNight rows, kept by the booking services."""
    return Booking.objects.filter(status__in=Booking.BLOCKING, blocks_until__isnull=True)


def holds_blocking(*, now: datetime.datetime) -> QuerySet[Booking]:
    """The rest of bookings_blocking: holds whose deadline is still ahead at `now`, read against the clock."""
    return bookings_blocking(now=now).filter(blocks_until__isnull=False)


def bookings_overlapping(*, start: datetime.date, end: datetime.date, now: datetime.datetime) -> QuerySet[Booking]:
    """Blocking bookings with at least one night in [start, end)."""
    return bookings_blocking(now=now).filter(check_in__lt=end, check_out__gt=start)


@functools.cache
def _holds_overlapping_sql(vendor: str) -> tuple[str, tuple]:
    """The listing_id of holds_blocking's holds that overlap [start, end), as SQL and its parameters (slots named
    now, start and end among them), compiled once per process: building and compiling the queryset cost a sixth of
    a search page's Python time in bench/search.py. On PostgreSQL the overlap is a range test, which the GiST index
    over the holds' stays serves."""
    now = Slot("now", DateTimeField())
    start, end = Slot("start", DateField()), Slot("end", DateField())
    holds = holds_blocking(now=now)
    if vendor == "postgresql":
        holds = holds.alias(stay=DateRange("check_in", "check_out", RangeBoundary())).filter(
            stay__overlap=DateRange(start, end, Value("[)"))
        )
    else:
        holds = holds.filter(check_in__lt=end, check_out__gt=start)
    sql, params = holds.order_by().values("listing_id").query.sql_with_params()
    return sql, tuple(params)


def nights_free_sql(
    *, listing: str, start: datetime.date, end: datetime.date, now: datetime.datetime
) -> tuple[str, tuple]:
    """SQL that is true when no booking of bookings_blocking holds a night in [start, end) of the listing row whose
    alias in the query is `listing`, and its parameters, for a query of listings written in SQL (search).

    bookings_blocking in two parts: the nights of the bookings it counts at any clock, and the holds with a deadline,
    read live through holds_blocking, so that a hold stops counting at the moment it lapses. Holds are few on any
    dates: they are read once for the whole catalogue. The nights kept for good are the listing row's own
    booked_nights on PostgreSQL (kept equal to the BookedNight rows by a trigger: migration 0007 says why), and the
    BookedNight rows by listing and night elsewhere."""
    holds_sql, holds_params = _holds_overlapping_sql(connection.vendor)
    values = {
        "now": connection.ops.adapt_datetimefield_value(now),
        "start": connection.ops.adapt_datefield_value(start),
        "end": connection.ops.adapt_datefield_value(end),
    }
    if connection.vendor == "postgresql":
        kept_free = f"NOT ({listing}.booked_nights && daterange(%s, %s))"
    else:
        kept_free = (
            f"NOT EXISTS (SELECT 1 FROM {BookedNight._meta.db_table} booked WHERE booked.listing_id = {listing}.id"
            " AND booked.night >= %s AND booked.night < %s)"
        )
    sql = f"{kept_free} AND {listing}.id NOT IN ({holds_sql})"
    holds_values = tuple(slot_values(holds_params, values))
    return sql, (start, end, *holds_values)


class BookingsTakenNights:
    """Listings' reads of taken nights (listings.taken_nights.TakenNights), answered by the reads above, so the
    quote, search and calendars count exactly the nights bookings_blocking says are taken. Registered at start-up
    by ReservationsConfig.ready."""

    bookings_blocking = staticmethod(bookings_blocking)
    bookings_overlapping = staticmethod(bookings_overlapping)
    nights_free_sql = staticmethod(nights_free_sql)


def unpaid_holds_count(*, user: User, now: datetime.datetime) -> int:
    return bookings_blocking(now=now).filter(booker=user, status__in=Booking.UNPAID).count()


def user_may_book(*, user: User) -> bool:
    """Booking needs a way to reach the person that is known to work: a verified e-mail address (the accounts made
    before phone sign-up, and anyone who verified one) or a verified mobile number."""
    return user.phone_verified or EmailAddress.objects.filter(user=user, verified=True).exists()


def booking_money_may_land(*, booking: Booking) -> bool:
    """Whether a payment may still add money to the booking: M-Pesa has not given its verdict yet, or has said paid
    and the payment is neither counted nor found uncountable (a refund due of its own). Read through the related
    name: this app does not import the payments app, which imports it."""
    payments = booking.payments
    flags, statuses = payments.model.Flag, payments.model.Status
    in_flight = Q(status__in=payments.model.IN_FLIGHT)
    landing = Q(status=statuses.SUCCEEDED, counted_kes=0) & ~Q(flag__in=[flags.DATES_TAKEN, flags.OVERPAID])
    return payments.filter(in_flight | landing).exists()


def _visible_to(user: User) -> Q:
    return Q(booker=user) | Q(guests__user=user)


def trips_overlapping(*, user: User, check_in: datetime.date, check_out: datetime.date, now: datetime.datetime):
    """The person's trips (booked or linked as a guest) that keep nights overlapping these dates."""
    ids = Booking.objects.filter(_visible_to(user)).values("pk")
    return list(
        bookings_blocking(now=now)
        .filter(pk__in=ids, check_in__lt=check_out, check_out__gt=check_in)
        .select_related("listing")
        .order_by("check_in")
    )


def booking_get_for_booker(*, user: User, ref: str) -> Booking:
    """The booker's own booking; 404 for anyone else."""
    return get_object_or_404(Booking.objects.select_related("listing", "listing__host"), booker=user, ref=ref)


def booking_get_for_viewer(*, user: User, ref: str) -> Booking:
    """A booking its booker or one of its linked guests may see; 404 for anyone else."""
    bookings = Booking.objects.filter(_visible_to(user)).distinct().select_related("listing", "listing__host", "booker")
    return get_object_or_404(bookings, ref=ref)


def booking_get_for_host(*, host: User, ref: str) -> Booking:
    return get_object_or_404(Booking.objects.select_related("listing", "booker"), listing__host=host, ref=ref)


def booking_guests(*, booking: Booking) -> list[BookingGuest]:
    return list(booking.guests.order_by("position"))


@dataclass(frozen=True)
class BookingDisclosure:
    """What one person may learn about a booking: the one rule behind the trip page, the API and every message.

    - payment details (amounts paid, receipts, refunds, events that carry money) and the other guests' contacts:
      the booker only;
    - the private address, directions, check-in instructions and the host's phone: the booker and linked guests,
      only once the booking is confirmed (a guest row is linked to an account only through an address or number
      that account has verified);
    - anyone else a booker typed in: the reference, the listing, the dates and a link to sign in or sign up.
    """

    is_booker: bool
    is_linked_guest: bool
    payment_details: bool
    private_details: bool
    other_guests_contacts: bool


def booking_disclosure(
    *, booking: Booking, user: User | None, guests: list[BookingGuest] | None = None
) -> BookingDisclosure:
    """The rule for `user` (None: a typed contact without an account). `guests`, when the caller has them already,
    saves a query."""
    is_booker = user is not None and booking.booker_id == user.pk
    if user is None or is_booker:
        is_linked_guest = False
    elif guests is not None:
        is_linked_guest = any(guest.user_id == user.pk for guest in guests)
    else:
        is_linked_guest = booking.guests.filter(user=user).exists()
    on_the_trip = is_booker or is_linked_guest
    return BookingDisclosure(
        is_booker=is_booker,
        is_linked_guest=is_linked_guest,
        payment_details=is_booker,
        private_details=on_the_trip and booking.status == Booking.Status.CONFIRMED,
        other_guests_contacts=is_booker,
    )


@dataclass(frozen=True)
class TimelineLine:
    created_at: datetime.datetime
    message: str


# What a viewer without payment details reads for each status a booking reaches: no amounts, no refunds.
_STATUS_LINES = {
    Booking.Status.HELD: _("Dates held."),
    Booking.Status.CONFIRMED: _("Booking confirmed."),
    Booking.Status.EXPIRED: _("The hold ran out and the dates were released."),
    Booking.Status.CANCELLED: _("Booking cancelled."),
}


def trip_timeline(*, booking: Booking, disclosure: BookingDisclosure) -> list[TimelineLine]:
    """The booking's history as this viewer may read it: every line for the booker, the status changes in words
    without money for anyone else."""
    events = booking.events.order_by("created_at", "id")
    if disclosure.payment_details:
        return [TimelineLine(created_at=event.created_at, message=event.message) for event in events]
    return [
        TimelineLine(created_at=event.created_at, message=str(_STATUS_LINES[event.to_status]))
        for event in events
        if event.to_status in _STATUS_LINES and event.to_status != event.from_status
    ]


@dataclass(frozen=True)
class Trips:
    upcoming: list[Booking]
    past: list[Booking]
    cancelled: list[Booking]

    @property
    def empty(self) -> bool:
        return not (self.upcoming or self.past or self.cancelled)


def trips_for_user(*, user: User, now: datetime.datetime | None = None) -> Trips:
    """Every booking the person made or is a linked guest on, in three groups. Lapsed holds count as cancelled."""
    now = now or timezone.now()
    today = local_date(now)
    bookings = (
        Booking.objects.filter(pk__in=Booking.objects.filter(_visible_to(user)).values("pk"))
        .select_related("listing")
        .annotate(cover_name=listing_cover_name(OuterRef("listing_id")))
        .order_by("check_in", "created_at")
    )
    upcoming, past, cancelled = [], [], []
    for booking in bookings:
        booking.cover_url = cover_url(booking.cover_name)
        # A hold of the person's own that waits for payment: the list offers "Pay now" with the time left.
        booking.pay_seconds_left = 0
        if booking.booker_id == user.pk and booking.status == Booking.Status.HELD and booking.blocks_until:
            booking.pay_seconds_left = max(0, int((booking.blocks_until - now).total_seconds()))
        booking.pay_clock = "{}:{:02d}".format(*divmod(booking.pay_seconds_left, 60))
        if not booking.holds_nights(now=now):
            cancelled.append(booking)
        elif booking.check_out <= today:
            past.append(booking)
        else:
            upcoming.append(booking)
    past.reverse()
    cancelled.sort(key=lambda b: b.created_at, reverse=True)
    return Trips(upcoming=upcoming, past=past, cancelled=cancelled)


def bookings_for_host(*, host: User, listing_slug: str = "", status: str = "") -> QuerySet[Booking]:
    """Bookings on the host's own listings, newest stay first, with the booker and guests in two more queries."""
    bookings = Booking.objects.filter(listing__host=host).select_related("listing", "booker")
    if listing_slug:
        bookings = bookings.filter(listing__slug=listing_slug)
    if status:
        bookings = bookings.filter(status=status)
    return bookings.prefetch_related("guests").order_by("-check_in", "-created_at")


def booking_cancel_refusal(*, booking: Booking, user: User, now: datetime.datetime) -> str:
    """Why this person cannot cancel the booking now, in a sentence they can read; empty when they can."""
    if booking.booker_id != user.pk:
        return _("Only the person who made the booking can cancel it.")
    if booking.status == Booking.Status.CANCELLED:
        return _("This booking is already cancelled.")
    if booking.status == Booking.Status.AWAITING_PAYMENT:
        return _("A payment is in progress. Wait for it to finish before cancelling.")
    if booking.status == Booking.Status.HELD:
        return ""
    if booking.status != Booking.Status.CONFIRMED:
        return _("This booking can no longer be cancelled.")
    if booking.check_out <= local_date(now):
        return _("This stay is over and can no longer be cancelled.")
    return ""


def booking_host_cancel_refusal(*, booking: Booking, now: datetime.datetime) -> str:
    """Why the host cannot cancel this booking of theirs now, in a sentence; empty when they can."""
    if booking.status == Booking.Status.CANCELLED:
        return _("This booking is already cancelled.")
    if booking.status != Booking.Status.CONFIRMED:
        return _("Only confirmed bookings can be cancelled by the host.")
    if booking.check_out <= local_date(now):
        return _("This stay is over and can no longer be cancelled.")
    return ""


def booking_host_cancel_refund_kes(*, booking: Booking) -> int:
    """What the guests get back when the host cancels: everything paid and not yet refunded."""
    return max(booking.paid_kes - booking.refunded_kes, 0)


def booking_refund_today(*, booking: Booking, now: datetime.datetime | None = None) -> Refund:
    """What the frozen policy gives back if the guest cancels at `now`."""
    return cancellation_refund(
        policy=booking.cancellation_policy,
        nights_total_kes=booking.nights_total_kes - booking.discount_kes,
        cleaning_fee_kes=booking.cleaning_fee_kes,
        check_in_at=booking.check_in_at,
        booked_at=booking.created_at,
        cancelled_at=now or timezone.now(),
    )


def booking_refund_due_on_cancel(*, booking: Booking, now: datetime.datetime) -> int:
    """The refund owed if the guest cancels now: the policy's share, of what was actually paid, minus refunds made."""
    refund = booking_refund_today(booking=booking, now=now)
    paid_net = booking.paid_kes - booking.refunded_kes
    return max(min(refund.total_kes, paid_net), 0)


@dataclass(frozen=True)
class TripDetail:
    """Everything the trip page shows, already cut to what this viewer may see."""

    booking: Booking
    guests: list[BookingGuest]
    timeline: list[TimelineLine]
    disclosure: BookingDisclosure
    holds_nights: bool
    seconds_left: int  # while an unpaid hold keeps the nights; 0 otherwise
    cancel_refusal: str
    refund_percent: int  # of the nights, by the frozen policy, if cancelled now
    refund_due_kes: int  # of what was actually paid, if the booker cancelled now

    @property
    def is_booker(self) -> bool:
        return self.disclosure.is_booker

    @property
    def show_private_details(self) -> bool:
        return self.disclosure.private_details

    @property
    def can_cancel(self) -> bool:
        return self.is_booker and not self.cancel_refusal

    @property
    def time_left(self) -> str:
        """The hold's remaining time as m:ss, as the countdown starts."""
        return f"{self.seconds_left // 60}:{self.seconds_left % 60:02d}"

    @property
    def night_lines(self) -> list[tuple[datetime.date, int]]:
        """The frozen price of each night."""
        return [(datetime.date.fromisoformat(night["date"]), night["price_kes"]) for night in self.booking.nights]

    @property
    def policy_name(self) -> str:
        return str(CancellationPolicy(self.booking.cancellation_policy).label)


def trip_detail(*, user: User, ref: str, now: datetime.datetime) -> TripDetail:
    """The trip page for its booker or a linked guest (404 for anyone else), cut by `booking_disclosure`: a linked
    guest gets no contact details of the other guests and nothing about payment or cancelling."""
    booking = booking_get_for_viewer(user=user, ref=ref)
    guests = booking_guests(booking=booking)
    disclosure = booking_disclosure(booking=booking, user=user, guests=guests)
    if not disclosure.other_guests_contacts:
        guests = [_without_contact(guest, keep=guest.user_id == user.pk) for guest in guests]
    holds = booking.holds_nights(now=now)
    seconds_left = 0
    if holds and booking.is_unpaid and booking.blocks_until:
        seconds_left = max(int((booking.blocks_until - now).total_seconds()), 0)
    refusal = booking_cancel_refusal(booking=booking, user=user, now=now)
    refund = booking_refund_today(booking=booking, now=now)
    return TripDetail(
        booking=booking,
        guests=guests,
        timeline=trip_timeline(booking=booking, disclosure=disclosure),
        disclosure=disclosure,
        holds_nights=holds,
        seconds_left=seconds_left,
        cancel_refusal=refusal,
        refund_percent=refund.nights_percent,
        refund_due_kes=booking_refund_due_on_cancel(booking=booking, now=now) if disclosure.payment_details else 0,
    )


def _without_contact(guest: BookingGuest, *, keep: bool) -> BookingGuest:
    if not keep:
        guest.email = ""
        guest.phone = ""
    return guest


@dataclass(frozen=True)
class HostGuestRow:
    full_name: str
    age_group: str
    email: str  # empty unless the booking is confirmed
    phone: str  # whole when confirmed, masked otherwise


@dataclass(frozen=True)
class HostBookingRow:
    booking: Booking
    guests: list[HostGuestRow]
    can_cancel: bool


HOST_BOOKINGS_PER_PAGE = 25


def host_booking_rows(
    *, host: User, listing_slug: str = "", status: str = "", page_number=None, now: datetime.datetime
) -> tuple[Page, list[HostBookingRow]]:
    """One page of the host's bookings. Guest e-mail and whole phone numbers only on confirmed bookings."""
    page = Paginator(
        bookings_for_host(host=host, listing_slug=listing_slug, status=status), HOST_BOOKINGS_PER_PAGE
    ).get_page(page_number)
    rows = []
    for booking in page.object_list:
        confirmed = booking.status == Booking.Status.CONFIRMED
        guests = [
            HostGuestRow(
                full_name=guest.full_name,
                age_group=guest.get_age_group_display(),
                email=guest.email if confirmed else "",
                phone=guest.phone if confirmed else mask_phone(guest.phone),
            )
            for guest in sorted(booking.guests.all(), key=lambda g: g.position)
        ]
        can_cancel = not booking_host_cancel_refusal(booking=booking, now=now)
        rows.append(HostBookingRow(booking=booking, guests=guests, can_cancel=can_cancel))
    return page, rows


def host_listing_choices(*, host: User) -> list[tuple[str, str]]:
    """(slug, title) of the host's listings, for the bookings filter."""
    return list(Listing.objects.filter(host=host).order_by("title").values_list("slug", "title"))
