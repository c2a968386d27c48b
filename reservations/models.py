import secrets

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeBoundary, RangeOperators
from django.contrib.postgres.indexes import GistIndex
from django.db import connections, models, router
from django.db.models import Func, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel

# No 0/O, 1/I/L, 5/S, 8/B, 2/Z: a reference read out over the phone cannot be misheard.
REF_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
REF_PREFIX = "NX-"
REF_LENGTH = 6


def new_booking_ref() -> str:
    return REF_PREFIX + "".join(secrets.choice(REF_ALPHABET) for _ in range(REF_LENGTH))


class DateRange(Func):
    function = "daterange"
    output_field = DateRangeField()


class Booking(TimeStampedModel):
    class Status(models.TextChoices):
        HELD = "held", _("Held")
        AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
        CONFIRMED = "confirmed", _("Confirmed")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")

    # Every legal move. Anything else is a bug or a lost race.
    TRANSITIONS = {
        Status.HELD: {Status.AWAITING_PAYMENT, Status.EXPIRED, Status.CANCELLED},
        Status.AWAITING_PAYMENT: {Status.HELD, Status.CONFIRMED, Status.EXPIRED},
        Status.EXPIRED: {Status.CONFIRMED},  # a payment that lands late, when the nights are still free
        Status.CONFIRMED: {Status.CANCELLED},
    }
    # The statuses whose rows hold nights (while blocks_until is empty or in the future).
    BLOCKING = {Status.HELD, Status.AWAITING_PAYMENT, Status.CONFIRMED}
    UNPAID = {Status.HELD, Status.AWAITING_PAYMENT}

    ref = models.CharField(_("reference"), max_length=12, unique=True, default=new_booking_ref, editable=False)
    listing = models.ForeignKey("listings.Listing", on_delete=models.PROTECT, related_name="bookings")
    booker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings_made")
    check_in = models.DateField(_("check-in"))
    check_out = models.DateField(_("check-out"))
    guest_count = models.PositiveSmallIntegerField(_("guests"))
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.HELD)
    blocks_until = models.DateTimeField(
        _("holds the nights until"), null=True, blank=True, help_text=_("Empty once confirmed.")
    )
    idempotency_key = models.CharField(max_length=64, editable=False)

    # The quote, frozen when the nights were held.
    nights = models.JSONField(_("nights"), default=list, help_text=_('[{"date": "YYYY-MM-DD", "price_kes": n}]'))
    nights_total_kes = models.PositiveIntegerField(_("nights total (KES)"))
    discount_name = models.CharField(_("discount"), max_length=40, blank=True)
    discount_percent = models.PositiveSmallIntegerField(_("discount %"), default=0)
    discount_kes = models.PositiveIntegerField(_("discount (KES)"), default=0)
    cleaning_fee_kes = models.PositiveIntegerField(_("cleaning fee (KES)"), default=0)
    total_kes = models.PositiveIntegerField(_("total (KES)"))

    # The cancellation policy, frozen: its rule and the moment the cut-offs count back from.
    cancellation_policy = models.CharField(_("cancellation policy"), max_length=20)
    check_in_at = models.DateTimeField(_("check-in moment"))

    # Money that moved, kept up to date by the payment and refund services.
    paid_kes = models.PositiveIntegerField(_("paid (KES)"), default=0)
    refund_due_kes = models.PositiveIntegerField(_("refund due (KES)"), default=0)
    refunded_kes = models.PositiveIntegerField(_("refunded (KES)"), default=0)

    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(check_out__gt=models.F("check_in")), name="booking_check_out_after_check_in"
            ),
            models.UniqueConstraint(fields=["booker", "idempotency_key"], name="booking_unique_submission"),
            ExclusionConstraint(
                name="no_overlapping_blocking_bookings",
                expressions=[
                    ("listing", RangeOperators.EQUAL),
                    (DateRange("check_in", "check_out", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=["held", "awaiting_payment", "confirmed"]),
            ),
        ]
        indexes = [
            models.Index(fields=["listing", "check_in", "check_out"], name="booking_listing_dates"),
            models.Index(fields=["status", "blocks_until"], name="booking_status_blocks_until"),
            # Search finds the holds with a deadline that overlap a stay (what blocks with no deadline is in
            # BookedNight), across all listings (PostgreSQL only: a range index). It carries every column that
            # search reads, so the holds come from the index alone; the stay's own columns too, as PostgreSQL reads
            # an expression index alone only when it holds the columns themselves.
            GistIndex(
                DateRange("check_in", "check_out", RangeBoundary()),
                condition=Q(status__in=["held", "awaiting_payment", "confirmed"], blocks_until__isnull=False),
                include=["listing", "blocks_until", "check_in", "check_out"],
                name="booking_holds_stays",
            ),
        ]

    def __str__(self) -> str:
        return self.ref

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        # The trip page is served by the payments app, which shows the booking together with its payment panel.
        return reverse("mpesa:trip-detail", kwargs={"ref": self.ref})

    def get_constraints(self):
        # The exclusion constraint exists on PostgreSQL only; elsewhere the lock-and-check path keeps the rule.
        constraints = super().get_constraints()
        if connections[router.db_for_write(type(self))].vendor != "postgresql":
            constraints = [(cls, [c for c in cs if not isinstance(c, ExclusionConstraint)]) for cls, cs in constraints]
        return constraints

    def can_move_to(self, new_status: str) -> bool:
        return new_status in self.TRANSITIONS.get(self.status, ())

    @property
    def night_count(self) -> int:
        return (self.check_out - self.check_in).days

    @property
    def is_unpaid(self) -> bool:
        return self.status in self.UNPAID

    def holds_nights(self, *, now=None) -> bool:
        now = now or timezone.now()
        return self.status in self.BLOCKING and (self.blocks_until is None or self.blocks_until > now)

    @property
    def balance_due_kes(self) -> int:
        return max(self.total_kes - self.paid_kes, 0)


class BookedNight(models.Model):
    """One night that a booking keeps with no deadline (blocks_until empty: a confirmed stay, or a payment that
    support is looking into), one row a night, kept by the booking services in the transaction that changes the
    booking (reservations.services.nights). Search reads these rows by listing and night instead of every
    overlapping booking in the catalogue; holds with a deadline are not here: readers check them against the clock
    through bookings_blocking, so the two together are exactly the nights bookings_blocking says are taken.
    Rebuilt from the bookings by `manage.py fill_booked_nights`."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="+", db_index=False)
    listing = models.ForeignKey("listings.Listing", on_delete=models.CASCADE, related_name="+", db_index=False)
    night = models.DateField()

    class Meta:
        constraints = [
            # Two blocking bookings never overlap (the exclusion constraint), so a night has one booking at most;
            # the index is the one search probes, listing by listing, for a few listings.
            models.UniqueConstraint(fields=["listing", "night"], name="booked_night_unique_listing_night"),
        ]
        # For many listings (a search of the whole country) PostgreSQL reads the stay's nights once, by date.
        indexes = [models.Index(fields=["night", "listing"], name="booked_night_by_night")]

    def __str__(self) -> str:
        return f"{self.listing_id} on {self.night:%Y-%m-%d}"


class BookingGuest(models.Model):
    class AgeGroup(models.TextChoices):
        ADULT = "adult", _("Adult")
        CHILD = "child", _("Child")

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="guests")
    position = models.PositiveSmallIntegerField()
    full_name = models.CharField(_("full name"), max_length=150)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=12, blank=True)
    age_group = models.CharField(_("adult or child"), max_length=5, choices=AgeGroup, default=AgeGroup.ADULT)
    # Set only when an account with this address has verified it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="booking_guest_rows"
    )

    class Meta:
        ordering = ["booking", "position"]
        constraints = [
            models.UniqueConstraint(fields=["booking", "position"], name="booking_guest_position_unique"),
        ]
        indexes = [models.Index(fields=["email"], name="booking_guest_email")]

    def __str__(self) -> str:
        return self.full_name


class BookingEvent(models.Model):
    """One line of a booking's history. Append-only: never updated, never deleted (a trigger on PostgreSQL)."""

    class Actor(models.TextChoices):
        USER = "user", _("User")
        HOST = "host", _("Host")
        SUPPORT = "support", _("Support")
        SYSTEM = "system", _("System")
        MPESA = "mpesa", _("M-Pesa")

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="events")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    actor_kind = models.CharField(max_length=10, choices=Actor)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=40)
    message = models.CharField(max_length=500)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["booking", "created_at"], name="booking_event_timeline")]

    def __str__(self) -> str:
        return f"{self.booking_id}: {self.action}"
