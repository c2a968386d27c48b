"""Every change to reviews and reports. Each function owns its transaction; locks go listing → booking → review."""

import datetime
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import User
from core.rate_limits import rate_limit_increment
from listings.models import Listing
from listings.payment_guard import off_platform_findings, off_platform_message
from listings.services import listing_unpublish
from reservations.models import Booking
from reviews.models import SUB_RATINGS, ModerationAction, Report, Review, window_ends_on
from reviews.selectors import VISIBLE, review_refusal

TEXT_MIN, TEXT_MAX = 20, 2000
REPORTS_PER_DAY = 5


class ReviewError(Exception):
    """A review, answer, report or moderation the rules refuse; the message is safe to show."""


@dataclass(frozen=True)
class ReviewData:
    rating: int
    text: str
    sub_ratings: dict[str, int] | None = None  # the guest's six, by SUB_RATINGS name
    would_host_again: bool | None = None  # the host's


def _lock_listing(listing_id: int) -> Listing:
    return Listing.objects.select_for_update().get(pk=listing_id)


@transaction.atomic
def listing_rating_refresh(*, listing_id: int) -> None:
    """Recount the listing's published, visible guest reviews into review_count and rating_sum, under its lock."""
    _lock_listing(listing_id)
    totals = Review.objects.filter(VISIBLE, listing_id=listing_id, direction=Review.Direction.GUEST).aggregate(
        count=Count("pk"), total=Sum("rating")
    )
    Listing.objects.filter(pk=listing_id).update(review_count=totals["count"], rating_sum=totals["total"] or 0)


def _check_text(text: str, *, what: str) -> str:
    text = text.strip()
    if not TEXT_MIN <= len(text) <= TEXT_MAX:
        raise ReviewError(
            _("Write between {low} and {high} characters in your {what}.").format(
                low=TEXT_MIN, high=TEXT_MAX, what=what
            )
        )
    findings = off_platform_findings(text)
    if findings:
        raise ReviewError(off_platform_message(findings))
    return text


def _check_rating(value) -> int:
    if not isinstance(value, int) or not 1 <= value <= 5:
        raise ReviewError(_("Give a rating from 1 to 5 stars."))
    return value


def _publish(reviews: list[Review], now: datetime.datetime) -> None:
    for review in reviews:
        if review.published_at is None:
            review.published_at = now
            review.save(update_fields=["published_at", "updated_at"])


@transaction.atomic
def review_submit(*, booking: Booking, author: User, direction: str, data: ReviewData, today: datetime.date) -> Review:
    """Write (or, while still hidden, rewrite) one side's review of a stay. When both sides have written, both
    publish together and the listing's average changes. Raises ReviewError."""
    listing = _lock_listing(booking.listing_id)
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    if direction == Review.Direction.GUEST:
        if booking.booker_id != author.pk:
            raise ReviewError(_("Only the guest who booked can review this stay."))
        subject_id = listing.host_id
    else:
        if listing.host_id != author.pk:
            raise ReviewError(_("Only the host can review this guest."))
        subject_id = booking.booker_id
    refusal = review_refusal(booking=booking, today=today)
    if refusal:
        raise ReviewError(refusal)
    fields = {
        "rating": _check_rating(data.rating),
        "text": _check_text(data.text, what=_("review")),
        "would_host_again": data.would_host_again if direction == Review.Direction.HOST else None,
    }
    for name, _label in SUB_RATINGS:
        value = (data.sub_ratings or {}).get(name) if direction == Review.Direction.GUEST else None
        if direction == Review.Direction.GUEST:
            value = _check_rating(value)
        fields[name] = value
    reviews = {review.direction: review for review in Review.objects.select_for_update().filter(booking=booking)}
    review = reviews.get(direction)
    if review is not None and review.is_published:
        raise ReviewError(_("This review is published and can no longer be changed."))
    if review is None:
        review = Review(
            booking=booking,
            listing=listing,
            direction=direction,
            author=author,
            subject_id=subject_id,
            window_ends_on=window_ends_on(booking.check_out),
            **fields,
        )
        try:
            with transaction.atomic():
                review.save()
        except IntegrityError:  # the same side's review written at the same moment elsewhere
            raise ReviewError(_("This stay already has your review."))
    else:
        for name, value in fields.items():
            setattr(review, name, value)
        review.save()
    reviews[direction] = review
    if len(reviews) == 2:
        _publish(list(reviews.values()), timezone.now())
        listing_rating_refresh(listing_id=listing.pk)
    return review


def reviews_publish_due(*, today: datetime.date) -> int:
    """Publish the reviews whose window closed before today (the other side never wrote). Returns how many."""
    listing_ids = set(
        Review.objects.filter(published_at__isnull=True, window_ends_on__lt=today).values_list("listing_id", flat=True)
    )
    published = 0
    for listing_id in sorted(listing_ids):
        with transaction.atomic():
            _lock_listing(listing_id)
            due = list(
                Review.objects.select_for_update().filter(
                    listing_id=listing_id, published_at__isnull=True, window_ends_on__lt=today
                )
            )
            _publish(due, timezone.now())
            published += len(due)
            listing_rating_refresh(listing_id=listing_id)
    return published


@transaction.atomic
def review_answer(*, review: Review, host: User, text: str) -> Review:
    """The host answers a published guest review of their listing, once, publicly. Raises ReviewError."""
    review = Review.objects.select_for_update().select_related("listing").get(pk=review.pk)
    if review.direction != Review.Direction.GUEST or review.listing.host_id != host.pk:
        raise ReviewError(_("Only the host of this place can answer this review."))
    if not review.is_published:
        raise ReviewError(_("You can answer once the review is published."))
    if review.host_answer:
        raise ReviewError(_("You have already answered this review."))
    review.host_answer = _check_text(text, what=_("answer"))
    review.host_answered_at = timezone.now()
    review.save(update_fields=["host_answer", "host_answered_at", "updated_at"])
    return review


# ---------------------------------------------------------------------------------------------------------------
# Reports and moderation.


@transaction.atomic
def report_create(
    *, reporter: User, reason: str, review: Review | None = None, listing: Listing | None = None
) -> Report:
    """Queue a report of a review or a listing for the moderators; a few a day per person. Raises ReviewError."""
    reason = " ".join(reason.split())
    if not 10 <= len(reason) <= 500:
        raise ReviewError(_("Say in 10 to 500 characters what is wrong."))
    if (review is None) == (listing is None):
        raise ReviewError(_("Report one review or one listing."))
    if rate_limit_increment(key=f"reports:{reporter.pk}", window_seconds=86_400) > REPORTS_PER_DAY:
        raise ReviewError(_("You have sent the most reports allowed in a day. Please try again tomorrow."))
    return Report.objects.create(reporter=reporter, reason=reason, review=review, listing=listing)


def _close(report: Report | None, now: datetime.datetime) -> None:
    if report is not None and report.status == Report.Status.OPEN:
        report.status, report.closed_at = Report.Status.CLOSED, now
        report.save(update_fields=["status", "closed_at"])


def _moderation_reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not 5 <= len(reason) <= 500:
        raise ReviewError(_("Give the reason in 5 to 500 characters."))
    return reason


@transaction.atomic
def review_hide(*, review: Review, actor: User, reason: str, report: Report | None = None) -> Review:
    """Hide a review everywhere; it stops counting in the listing's average. Audited. Raises ReviewError."""
    reason = _moderation_reason(reason)
    _lock_listing(review.listing_id)
    review = Review.objects.select_for_update().get(pk=review.pk)
    now = timezone.now()
    if review.hidden_at is None:
        review.hidden_at = now
        review.save(update_fields=["hidden_at", "updated_at"])
    ModerationAction.objects.create(
        actor=actor, kind=ModerationAction.Kind.HIDE_REVIEW, review=review, report=report, reason=reason
    )
    _close(report, now)
    listing_rating_refresh(listing_id=review.listing_id)
    return review


@transaction.atomic
def review_restore(*, review: Review, actor: User, reason: str, report: Report | None = None) -> Review:
    """Show a hidden review again; it counts again once published. Audited. Raises ReviewError."""
    reason = _moderation_reason(reason)
    _lock_listing(review.listing_id)
    review = Review.objects.select_for_update().get(pk=review.pk)
    if review.hidden_at is not None:
        review.hidden_at = None
        review.save(update_fields=["hidden_at", "updated_at"])
    ModerationAction.objects.create(
        actor=actor, kind=ModerationAction.Kind.RESTORE_REVIEW, review=review, report=report, reason=reason
    )
    _close(report, timezone.now())
    listing_rating_refresh(listing_id=review.listing_id)
    return review


@transaction.atomic
def listing_unpublish_reported(*, listing: Listing, actor: User, reason: str, report: Report | None = None) -> Listing:
    """Take a reported listing out of search and off its public page. Audited. Raises ReviewError."""
    reason = _moderation_reason(reason)
    listing = listing_unpublish(listing=listing)
    ModerationAction.objects.create(
        actor=actor, kind=ModerationAction.Kind.UNPUBLISH_LISTING, listing=listing, report=report, reason=reason
    )
    _close(report, timezone.now())
    return listing


@transaction.atomic
def report_dismiss(*, report: Report, actor: User, reason: str) -> Report:
    """Close a report without action. Audited. Raises ReviewError."""
    reason = _moderation_reason(reason)
    report = Report.objects.select_for_update().get(pk=report.pk)
    ModerationAction.objects.create(actor=actor, kind=ModerationAction.Kind.DISMISS, report=report, reason=reason)
    _close(report, timezone.now())
    return report
