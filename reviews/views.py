"""Review pages: the guest's and the host's forms, the property page's reviews fragment, reports, host profiles.

Bookings are looked up through selectors scoped to the signed-in person, so anyone else gets a 404 and nothing is
created."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from core.clock import local_date
from core.htmx import HtmxHttpRequest, is_fragment_request
from listings.models import Listing
from listings.selectors import listing_get_for_viewer
from reviews import selectors
from reviews.forms import AnswerForm, GuestReviewForm, HostReviewForm, ReportForm
from reviews.models import Review
from reviews.services import ReviewError, report_create, review_answer, review_submit

GUEST_TEMPLATE = "reviews/guest_review.html"
HOST_TEMPLATE = "reviews/host_review.html"
LISTING_TEMPLATE = "reviews/listing_reviews.html"


def _review_page(request, *, booking, direction: str, form_class, template: str) -> HttpResponse:
    today = local_date()
    refusal = selectors.review_refusal(booking=booking, today=today)
    reviews = selectors.booking_reviews(booking=booking, direction=direction)
    editable = not refusal and (reviews.mine is None or not reviews.mine.is_published)
    form, answer_form, error, status = None, None, "", 200
    if request.method == "POST" and request.POST.get("action") == "answer" and direction == Review.Direction.HOST:
        answer_form = AnswerForm(request.POST)
        if answer_form.is_valid() and reviews.theirs is not None:
            try:
                review_answer(review=reviews.theirs, host=request.user, text=answer_form.cleaned_data["answer"])
            except ReviewError as exc:
                error = str(exc)
            else:
                messages.success(request, _("Your answer is published."))
                return redirect(request.path)
        error = error or _("Your answer could not be saved.")
        status = 422
    elif request.method == "POST":
        form = form_class(request.POST)
        if not editable:
            error, status = refusal or _("This review is published and can no longer be changed."), 422
        elif form.is_valid():
            try:
                review_submit(
                    booking=booking, author=request.user, direction=direction, data=form.review_data(), today=today
                )
            except ReviewError as exc:
                error, status = str(exc), 422
            else:
                messages.success(request, _("Thank you: your review is saved."))
                return redirect(request.path)
        else:
            status = 422
    elif editable:
        mine = reviews.mine
        initial = {}
        if mine is not None:
            initial = {name: getattr(mine, name) for name in form_class.base_fields if hasattr(mine, name)}
            if "would_host_again" in initial:
                initial["would_host_again"] = "yes" if mine.would_host_again else "no"
        form = form_class(initial=initial)
    context = {
        "booking": booking,
        "refusal": refusal,
        "reviews": reviews,
        "form": form if editable else None,
        "answer_form": answer_form or (AnswerForm() if reviews.theirs and not reviews.theirs.host_answer else None),
        "error": error,
    }
    if direction == Review.Direction.HOST:
        context["about_guest"] = [
            review for review in selectors.reviews_about_guest(guest=booking.booker) if review.booking_id != booking.pk
        ]
    return render(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def guest_review(request: HtmxHttpRequest, ref: str) -> HttpResponse:
    booking = selectors.booking_get_for_guest_review(user=request.user, ref=ref)
    return _review_page(
        request, booking=booking, direction=Review.Direction.GUEST, form_class=GuestReviewForm, template=GUEST_TEMPLATE
    )


@require_http_methods(["GET", "POST"])
@login_required
def host_review(request: HtmxHttpRequest, ref: str) -> HttpResponse:
    booking = selectors.booking_get_for_host_review(user=request.user, ref=ref)
    return _review_page(
        request, booking=booking, direction=Review.Direction.HOST, form_class=HostReviewForm, template=HOST_TEMPLATE
    )


@require_GET
@vary_on_headers("HX-Request")
def listing_reviews(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The property page's reviews section (loaded by hx-get), its next pages, and a plain page without htmx."""
    listing = listing_get_for_viewer(slug=slug, user=request.user)
    page = selectors.listing_reviews_page(listing=listing, page_number=request.GET.get("page"))
    context = {"listing": listing, "page": page}
    if is_fragment_request(request) and request.GET.get("page"):
        return render(request, LISTING_TEMPLATE + "#review-page", context)
    context["summary"] = selectors.listing_review_summary(listing=listing)
    if is_fragment_request(request):
        return render(request, LISTING_TEMPLATE + "#listing-reviews", context)
    return render(request, LISTING_TEMPLATE, context)


@require_http_methods(["GET", "POST"])
@login_required
def report_review(request: HtmxHttpRequest, review_id: int) -> HttpResponse:
    review = get_object_or_404(selectors.reviews_visible().select_related("listing"), pk=review_id)
    return _report(request, review=review, listing=review.listing)


@require_http_methods(["GET", "POST"])
@login_required
def report_listing(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    listing = get_object_or_404(Listing.objects.filter(is_published=True), slug=slug)
    return _report(request, review=None, listing=listing)


def _report(request, *, review, listing) -> HttpResponse:
    form = ReportForm(request.POST or None)
    error, status = "", 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                report_create(
                    reporter=request.user,
                    reason=form.cleaned_data["reason"],
                    review=review,
                    listing=None if review else listing,
                )
            except ReviewError as exc:
                error = str(exc)
            else:
                messages.success(request, _("Thank you: our team will look at your report."))
                return redirect(listing.get_absolute_url())
    context = {"form": form, "review": review, "listing": listing, "error": error}
    return render(request, "reviews/report.html", context, status=status)


@require_GET
def host_profile(request: HtmxHttpRequest, public_id: str) -> HttpResponse:
    profile = selectors.host_profile(public_id=public_id)
    return render(request, "reviews/host_profile.html", {"profile": profile})


@require_GET
@login_required
@vary_on_headers("HX-Request")
def host_guest_record(request: HtmxHttpRequest, ref: str) -> HttpResponse:
    """On the host's bookings page, what earlier hosts said about this booking's guest (a fragment loaded by htmx;
    without it, the link goes to the booking's review page, which lists those reviews)."""
    booking = selectors.booking_get_for_host_review(user=request.user, ref=ref)
    if not is_fragment_request(request):
        return redirect("reviews:host-review", ref=booking.ref)
    record = selectors.guest_record(guest=booking.booker, exclude_booking=booking)
    return render(request, "reviews/guest_record.html", {"booking": booking, "record": record})
