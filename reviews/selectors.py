"""Every read of reviews, scoped to who may see it."""

import datetime
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.core.paginator import Page, Paginator
from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from core.clock import local_date
from core.models import User
from listings.models import RATED_FROM_REVIEWS, Listing
from reservations.models import Booking
from reviews.models import SUB_RATINGS, Report, Review, window_ends_on

# A review counts and shows once published, unless a moderator hid it.
VISIBLE = Q(published_at__isnull=False, hidden_at__isnull=True)
REVIEWS_PER_PAGE = 5


def reviews_visible() -> QuerySet[Review]:
    return Review.objects.filter(VISIBLE)


def review_refusal(*, booking: Booking, today: datetime.date) -> str:
    """Why this booking cannot be reviewed today, in a sentence either side can read; "" when it can.

    A stay can be reviewed once it was confirmed and paid in full, its last night is over and it was not cancelled,
    until REVIEW_WINDOW_DAYS after check-out (Nairobi dates)."""
    if booking.status != Booking.Status.CONFIRMED:
        return _("Only a confirmed stay can be reviewed.")
    if booking.paid_kes < booking.total_kes:
        return _("Only a stay paid in full can be reviewed.")
    if today < booking.check_out:
        return _("You can review this stay from its check-out day, {day}.").format(
            day=f"{booking.check_out:%a %-d %b %Y}"
        )
    if today > window_ends_on(booking.check_out):
        return _("Reviews for this stay closed on {day}.").format(
            day=f"{window_ends_on(booking.check_out):%a %-d %b %Y}"
        )
    return ""


def booking_get_for_guest_review(*, user: User, ref: str) -> Booking:
    """The booker's own booking by reference; 404 for anyone else (a linked guest, another guest, a host)."""
    return get_object_or_404(Booking.objects.select_related("listing", "listing__host"), booker=user, ref=ref)


def booking_get_for_host_review(*, user: User, ref: str) -> Booking:
    """A booking of one of the host's listings; 404 for anyone else."""
    return get_object_or_404(Booking.objects.select_related("listing", "booker"), listing__host=user, ref=ref)


@dataclass(frozen=True)
class BookingReviews:
    mine: Review | None
    theirs: Review | None  # only once published: double-blind


def booking_reviews(*, booking: Booking, direction: str) -> BookingReviews:
    """The review this side wrote and, once published, the other side's. One query."""
    reviews = {review.direction: review for review in Review.objects.filter(booking=booking)}
    other = Review.Direction.HOST if direction == Review.Direction.GUEST else Review.Direction.GUEST
    theirs = reviews.get(other)
    if theirs is not None and (not theirs.is_published or theirs.hidden_at is not None):
        theirs = None
    return BookingReviews(mine=reviews.get(direction), theirs=theirs)


@dataclass(frozen=True)
class RatingBar:
    label: str
    average: float
    percent: int  # of 5, for the bar's width


@dataclass(frozen=True)
class ReviewSummary:
    count: int
    average: float | None
    bars: list[RatingBar]


def listing_review_summary(*, listing: Listing) -> ReviewSummary:
    """The average and count (kept on the listing) and the six sub-ratings' averages. One query."""
    averages = (
        reviews_visible()
        .filter(listing=listing, direction=Review.Direction.GUEST)
        .aggregate(**{name: Avg(name) for name, _label in SUB_RATINGS})
    )
    bars = []
    if listing.review_count >= RATED_FROM_REVIEWS:
        for name, label in SUB_RATINGS:
            if averages[name] is not None:
                value = round(float(averages[name]), 1)
                bars.append(RatingBar(label=str(label), average=value, percent=round(value * 20)))
    return ReviewSummary(count=listing.review_count, average=listing.rating_average, bars=bars)


def listing_reviews_page(*, listing: Listing, page_number) -> Page:
    """One page of the listing's published guest reviews, newest first, with their authors. Two queries."""
    reviews = (
        reviews_visible()
        .filter(listing=listing, direction=Review.Direction.GUEST)
        .select_related("author")
        .order_by("-published_at", "-id")
    )
    return Paginator(reviews, REVIEWS_PER_PAGE).get_page(page_number)


def reviews_about_guest(*, guest: User, limit: int = 10) -> list[Review]:
    """What hosts wrote about a guest, published and visible, newest first."""
    return list(
        reviews_visible()
        .filter(subject=guest, direction=Review.Direction.HOST)
        .select_related("listing", "author")
        .order_by("-published_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class GuestRecord:
    count: int
    average: float | None
    would_host_again: int


def guest_record(*, guest: User, exclude_booking: Booking | None = None) -> GuestRecord:
    """What hosts said about a guest, in figures: published reviews, their average and how many would host again.
    One query."""
    reviews = reviews_visible().filter(subject=guest, direction=Review.Direction.HOST)
    if exclude_booking is not None:
        reviews = reviews.exclude(booking=exclude_booking)
    totals = reviews.aggregate(
        count=Count("pk"), average=Avg("rating"), again=Count("pk", filter=Q(would_host_again=True))
    )
    average = round(float(totals["average"]), 1) if totals["average"] is not None else None
    return GuestRecord(count=totals["count"], average=average, would_host_again=totals["again"])


@dataclass(frozen=True)
class HostProfile:
    host: User
    first_name: str
    email_verified: bool
    phone_verified: bool
    completed_stays: int
    review_count: int
    average: float | None
    listings: list[Listing]
    recent_reviews: list[Review]


def host_profile(*, public_id: str, today: datetime.date | None = None) -> HostProfile:
    """A host's public profile; 404 for anyone who hosts no published listing (and for unknown ids)."""
    today = today or local_date()
    host = get_object_or_404(
        User.objects.filter(is_active=True, listings__is_published=True).distinct(), public_id=public_id
    )
    listings = list(Listing.objects.filter(host=host, is_published=True).order_by("-review_count", "title"))
    totals = Listing.objects.filter(host=host).aggregate(
        count=Count("pk"), reviews=Sum("review_count"), rating=Sum("rating_sum")
    )
    review_count, rating_sum = totals["reviews"] or 0, totals["rating"] or 0
    average = (rating_sum * 20 // review_count + 1) // 2 / 10 if review_count >= RATED_FROM_REVIEWS else None
    completed = Booking.objects.filter(
        listing__host=host, status=Booking.Status.CONFIRMED, check_out__lte=today
    ).count()
    recent = list(
        reviews_visible()
        .filter(listing__host=host, direction=Review.Direction.GUEST)
        .select_related("author", "listing")
        .order_by("-published_at", "-id")[:6]
    )
    names = host.full_name.split()
    return HostProfile(
        host=host,
        first_name=names[0] if names else "",
        email_verified=EmailAddress.objects.filter(user=host, verified=True).exists(),
        phone_verified=host.phone_verified,
        completed_stays=completed,
        review_count=review_count,
        average=average,
        listings=listings,
        recent_reviews=recent,
    )


def reports_open() -> list[Report]:
    """The support console's queue: open reports, oldest first, with what they are about."""
    return list(
        Report.objects.filter(status=Report.Status.OPEN)
        .select_related("reporter", "review", "review__author", "review__listing", "listing")
        .order_by("created_at", "id")
    )


def report_get_open(*, report_id: int) -> Report:
    return get_object_or_404(Report.objects.select_related("review", "listing"), pk=report_id)


def reviews_hidden(*, limit: int = 50) -> list[Review]:
    """Reviews a moderator hid, most recently hidden first: the console can restore them."""
    return list(
        Review.objects.filter(hidden_at__isnull=False)
        .select_related("author", "listing")
        .order_by("-hidden_at", "-id")[:limit]
    )


def review_get_hidden(*, review_id: int) -> Review:
    return get_object_or_404(Review.objects.filter(hidden_at__isnull=False), pk=review_id)
