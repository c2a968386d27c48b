"""The console's moderation queue (/support/reports/): reported reviews and listings, for staff with the permission
reviews.moderate_content. Every action needs a reason and is audited (reviews.ModerationAction)."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.cache_control import never_cache
from core.htmx import HtmxHttpRequest
from reviews.forms import ModerationForm, RestoreForm
from reviews.selectors import report_get_open, reports_open, review_get_hidden, reviews_hidden
from reviews.services import (
    ReviewError,
    listing_unpublish_reported,
    report_dismiss,
    review_hide,
    review_restore,
)
from support.views import support_access

MODERATE = "reviews.moderate_content"
TEMPLATE = "support/reports.html"


def _render(request, *, forms: dict | None = None, error: str = "", error_report: int | None = None, status=200):
    reports = reports_open()
    forms = forms or {}
    rows = [(report, forms.get(report.pk) or ModerationForm()) for report in reports]
    hidden = [(review, forms.get(f"review-{review.pk}") or RestoreForm()) for review in reviews_hidden()]
    context = {"rows": rows, "hidden": hidden, "error": error, "error_report": error_report}
    return render(request, TEMPLATE, context, status=status)


@require_GET
@support_access(MODERATE)
@never_cache
def report_queue(request: HtmxHttpRequest) -> HttpResponse:
    return _render(request)


@require_POST
@support_access(MODERATE)
def report_act(request: HtmxHttpRequest, report_id: int) -> HttpResponse:
    report = report_get_open(report_id=report_id)
    form = ModerationForm(request.POST)
    if not form.is_valid():
        return _render(request, forms={report.pk: form}, error_report=report.pk, status=422)
    action, reason, actor = form.cleaned_data["action"], form.cleaned_data["reason"], request.user
    try:
        if action in ("hide", "restore") and report.review is None:
            raise ReviewError(_("This report is about a listing, not a review."))
        if action == "unpublish" and report.listing is None:
            raise ReviewError(_("This report is about a review, not a listing."))
        if action == "hide":
            review_hide(review=report.review, actor=actor, reason=reason, report=report)
        elif action == "restore":
            review_restore(review=report.review, actor=actor, reason=reason, report=report)
        elif action == "unpublish":
            listing_unpublish_reported(listing=report.listing, actor=actor, reason=reason, report=report)
        else:
            report_dismiss(report=report, actor=actor, reason=reason)
    except ReviewError as exc:
        return _render(request, forms={report.pk: form}, error=str(exc), error_report=report.pk, status=422)
    messages.success(request, _("Done: the report is closed and the action is in the audit."))
    return redirect("support:reports")


@require_POST
@support_access(MODERATE)
def review_restore_view(request: HtmxHttpRequest, review_id: int) -> HttpResponse:
    review = review_get_hidden(review_id=review_id)
    form = RestoreForm(request.POST)
    key = f"review-{review.pk}"
    if not form.is_valid():
        return _render(request, forms={key: form}, error_report=key, status=422)
    try:
        review_restore(review=review, actor=request.user, reason=form.cleaned_data["reason"])
    except ReviewError as exc:
        return _render(request, forms={key: form}, error=str(exc), error_report=key, status=422)
    messages.success(request, _("The review shows again and counts in the average."))
    return redirect("support:reports")
