import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel

# How long after check-out (in Nairobi dates) either side may write its review; then whatever was written publishes.
REVIEW_WINDOW_DAYS = 14
RATING_VALIDATORS = [MinValueValidator(1), MaxValueValidator(5)]
SUB_RATINGS = (
    ("cleanliness", _("Cleanliness")),
    ("accuracy", _("Accuracy")),
    ("check_in", _("Check-in")),
    ("communication", _("Communication")),
    ("location", _("Location")),
    ("value", _("Value")),
)


def _rating(label, *, null: bool = False):
    return models.PositiveSmallIntegerField(label, null=null, blank=null, validators=RATING_VALIDATORS)


def _between_1_and_5(field: str, *, null: bool = False) -> models.CheckConstraint:
    condition = Q(**{f"{field}__gte": 1, f"{field}__lte": 5})
    if null:
        condition |= Q(**{f"{field}__isnull": True})
    return models.CheckConstraint(condition=condition, name=f"review_{field}_1_to_5")


class Review(TimeStampedModel):
    """One side's review of a stay: the booker reviews the stay, the host reviews the guest. Double-blind: hidden
    until both sides have written or the window closed, then published together and never edited again."""

    class Direction(models.TextChoices):
        GUEST = "guest", _("The guest's review of the stay")
        HOST = "host", _("The host's review of the guest")

    booking = models.ForeignKey("reservations.Booking", on_delete=models.PROTECT, related_name="reviews")
    listing = models.ForeignKey("listings.Listing", on_delete=models.PROTECT, related_name="reviews")
    direction = models.CharField(max_length=5, choices=Direction)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews_written")
    # Whom the review is about: the listing's host for a guest's review, the booker for a host's.
    subject = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews_about")
    rating = _rating(_("overall"))
    cleanliness = _rating(_("cleanliness"), null=True)
    accuracy = _rating(_("accuracy"), null=True)
    check_in = _rating(_("check-in"), null=True)
    communication = _rating(_("communication"), null=True)
    location = _rating(_("location"), null=True)
    value = _rating(_("value"), null=True)
    text = models.TextField(_("review"))
    would_host_again = models.BooleanField(_("would host again"), null=True, blank=True)
    # The last day of the window (Nairobi date): from the next day on, the review is published whatever the other
    # side did.
    window_ends_on = models.DateField()
    published_at = models.DateTimeField(null=True, blank=True)
    # Moderation: a hidden review shows nowhere and counts in no average.
    hidden_at = models.DateTimeField(null=True, blank=True)
    host_answer = models.TextField(_("host's answer"), blank=True)
    host_answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["booking", "direction"], name="review_once_per_booking_and_direction"),
            _between_1_and_5("rating"),
            *(_between_1_and_5(name, null=True) for name, _label in SUB_RATINGS),
        ]
        indexes = [
            models.Index(
                fields=["listing", "-published_at", "-id"],
                condition=Q(direction="guest", published_at__isnull=False, hidden_at__isnull=True),
                name="review_listing_published",
            ),
            models.Index(fields=["subject", "direction", "-published_at"], name="review_subject"),
            models.Index(fields=["window_ends_on"], condition=Q(published_at__isnull=True), name="review_unpublished"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} of {self.booking_id}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def sub_ratings(self) -> list[tuple[str, int]]:
        return [(label, getattr(self, name)) for name, label in SUB_RATINGS if getattr(self, name)]


def window_ends_on(check_out: datetime.date) -> datetime.date:
    return check_out + datetime.timedelta(days=REVIEW_WINDOW_DAYS)


class Report(models.Model):
    """Someone signed in says a review or a listing breaks the rules. Queued for the support console."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    review = models.ForeignKey(Review, on_delete=models.PROTECT, null=True, blank=True, related_name="reports")
    listing = models.ForeignKey(
        "listings.Listing", on_delete=models.PROTECT, null=True, blank=True, related_name="reports"
    )
    reason = models.CharField(_("reason"), max_length=500)
    status = models.CharField(max_length=10, choices=Status, default=Status.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(review__isnull=False, listing__isnull=True) | Q(review__isnull=True, listing__isnull=False),
                name="report_of_a_review_or_a_listing",
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="report_queue")]

    def __str__(self) -> str:
        return f"Report {self.pk}"


class ModerationAction(models.Model):
    """What a moderator did, to what, and why. Append-only."""

    class Kind(models.TextChoices):
        HIDE_REVIEW = "hide_review", _("Hid a review")
        RESTORE_REVIEW = "restore_review", _("Restored a review")
        UNPUBLISH_LISTING = "unpublish_listing", _("Unpublished a listing")
        DISMISS = "dismiss", _("Closed a report without action")

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind)
    review = models.ForeignKey(Review, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    listing = models.ForeignKey("listings.Listing", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    report = models.ForeignKey(Report, on_delete=models.PROTECT, null=True, blank=True, related_name="actions")
    reason = models.CharField(max_length=500)

    class Meta:
        ordering = ["created_at", "id"]
        default_permissions = ()
        permissions = [("moderate_content", "Can hide and restore reviews and unpublish reported listings")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.created_at:%Y-%m-%d})"
