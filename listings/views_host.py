"""The host's pages: dashboard, listing form, photos, publishing and the calendar editor.

Every listing is looked up through a selector scoped to the signed-in host, so anyone else gets a 404.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from core.clock import local_date
from core.htmx import HtmxHttpRequest, is_fragment_request
from listings.forms import CalendarEditForm, ListingForm, PhotoCaptionForm, PhotoOrderForm, PhotoUploadForm
from listings.models import Listing
from listings.payment_guard import listing_guard_problems
from listings.selectors import (
    host_calendar_month,
    host_month_bounds,
    host_upcoming_bookings,
    listing_get_for_host,
    listing_photo_get_for_host,
    listing_photos,
    listing_publish_missing,
    listings_for_host,
    month_from_query,
)
from listings.services import (
    ListingError,
    calendar_block,
    calendar_set_min_nights,
    calendar_set_price,
    calendar_unblock,
    listing_create,
    listing_photo_add,
    listing_photo_delete,
    listing_photo_move,
    listing_photo_reorder,
    listing_photo_update,
    listing_publish,
    listing_unpublish,
    listing_update,
)

EDIT_TEMPLATE = "listings/host_listing_edit.html"
CALENDAR_TEMPLATE = "listings/host_calendar.html"


@require_GET
@login_required
def host_dashboard(request: HtmxHttpRequest) -> HttpResponse:
    context = {
        "rows": listings_for_host(host=request.user),
        "bookings": host_upcoming_bookings(host=request.user, now=timezone.now()),
    }
    return render(request, "listings/host_dashboard.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def host_listing_new(request: HtmxHttpRequest) -> HttpResponse:
    form = ListingForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                listing = listing_create(
                    host=request.user, fields=form.service_fields(), amenities=form.cleaned_data["amenities"]
                )
            except ListingError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Listing saved. Add photos, then publish it when you are ready."))
                return redirect("host:listing-edit", slug=listing.slug)
        return render(request, "listings/host_listing_new.html", {"form": form}, status=422)
    return render(request, "listings/host_listing_new.html", {"form": form})


def _edit_context(listing: Listing, **extra) -> dict:
    context = {
        "listing": listing,
        "photos": listing_photos(listing=listing),
        "upload_form": PhotoUploadForm(),
        "missing": listing_publish_missing(listing=listing),
        **extra,
    }
    context["guard_problems"] = listing_guard_problems(listing=listing, photos=context["photos"])
    return context


@require_http_methods(["GET", "POST"])
@login_required
def host_listing_edit(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    listing = listing_get_for_host(host=request.user, slug=slug)
    form = ListingForm(request.POST if request.method == "POST" else None, instance=listing)
    if request.method == "POST":
        if form.is_valid():
            try:
                listing_update(listing=listing, fields=form.service_fields(), amenities=form.cleaned_data["amenities"])
            except ListingError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Listing saved."))
                return redirect("host:listing-edit", slug=listing.slug)
        # The form may have changed the instance in memory; the page shows what is stored.
        listing = listing_get_for_host(host=request.user, slug=slug)
        return render(request, EDIT_TEMPLATE, _edit_context(listing, form=form), status=422)
    return render(request, EDIT_TEMPLATE, _edit_context(listing, form=form))


# --- Publishing ---------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_headers("HX-Request")
def host_listing_publish(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """GET: the publish panel (refreshed when photos change). POST action=publish|unpublish."""
    listing = listing_get_for_host(host=request.user, slug=slug)
    if request.method == "GET":
        if not is_fragment_request(request):
            return redirect("host:listing-edit", slug=slug)
        return render(request, EDIT_TEMPLATE + "#publish-panel", _edit_context(listing))
    action = request.POST.get("action")
    error = ""
    try:
        if action == "publish":
            listing = listing_publish(listing=listing)
        elif action == "unpublish":
            listing = listing_unpublish(listing=listing)
        else:
            error = _("Choose publish or unpublish.")
    except ListingError as exc:
        error = str(exc)
    if not is_fragment_request(request):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, _("Published.") if listing.is_published else _("Unpublished."))
        return redirect("host:listing-edit", slug=slug)
    return render(
        request,
        EDIT_TEMPLATE + "#publish-panel",
        _edit_context(listing, publish_error=error),
        status=422 if error else 200,
    )


# --- Photos -------------------------------------------------------------------------------------------------------


def _photos_response(
    request: HtmxHttpRequest,
    listing: Listing,
    *,
    error: str = "",
    upload_form=None,
    changed: bool = True,
    order_saved: bool = False,
) -> HttpResponse:
    """htmx: the photo list (and an event for the publish panel); without JavaScript: back to the edit page."""
    if not is_fragment_request(request):
        if error:
            messages.error(request, error)
        return redirect(reverse("host:listing-edit", kwargs={"slug": listing.slug}) + "#photos")
    context = _edit_context(listing, photo_error=error, order_saved=order_saved and not error)
    if upload_form is not None:
        context["upload_form"] = upload_form
    response = render(request, EDIT_TEMPLATE + "#photo-list", context, status=422 if error else 200)
    if changed and not error:
        trigger_client_event(response, "photosChanged")
    return response


@require_POST
@login_required
def host_photo_add(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    listing = listing_get_for_host(host=request.user, slug=slug)
    form = PhotoUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        return _photos_response(request, listing, error=first, upload_form=form)
    try:
        listing_photo_add(listing=listing, upload=form.cleaned_data["image"], caption=form.cleaned_data["caption"])
    except ListingError as error:
        return _photos_response(request, listing, error=str(error), upload_form=form)
    return _photos_response(request, listing)


@require_POST
@login_required
def host_photo_update(request: HtmxHttpRequest, slug: str, photo_id: int) -> HttpResponse:
    photo = listing_photo_get_for_host(host=request.user, slug=slug, photo_id=photo_id)
    form = PhotoCaptionForm(request.POST)
    if not form.is_valid():
        return _photos_response(request, photo.listing, error=form.errors["caption"][0])
    try:
        listing_photo_update(photo=photo, caption=form.cleaned_data["caption"])
    except ListingError as error:
        return _photos_response(request, photo.listing, error=str(error))
    return _photos_response(request, photo.listing, changed=False)


@require_POST
@login_required
def host_photo_move(request: HtmxHttpRequest, slug: str, photo_id: int) -> HttpResponse:
    photo = listing_photo_get_for_host(host=request.user, slug=slug, photo_id=photo_id)
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        return _photos_response(request, photo.listing, error=_("Move a photo up or down."))
    listing_photo_move(photo=photo, offset=-1 if direction == "up" else 1)
    return _photos_response(request, photo.listing, order_saved=True)


@require_POST
@login_required
def host_photo_reorder(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Save the order the host dragged the photos into: every photo id of the listing, once each."""
    listing = listing_get_for_host(host=request.user, slug=slug)
    form = PhotoOrderForm(request.POST)
    if not form.is_valid():
        return _photos_response(request, listing, error=form.errors["photo"][0])
    try:
        listing_photo_reorder(listing=listing, photo_ids=form.cleaned_data["photo"])
    except ListingError as error:
        return _photos_response(request, listing, error=str(error))
    return _photos_response(request, listing, order_saved=True)


@require_POST
@login_required
def host_photo_delete(request: HtmxHttpRequest, slug: str, photo_id: int) -> HttpResponse:
    photo = listing_photo_get_for_host(host=request.user, slug=slug, photo_id=photo_id)
    listing = photo.listing
    try:
        listing_photo_delete(photo=photo)
    except ListingError as error:
        return _photos_response(request, listing, error=str(error))
    return _photos_response(request, listing)


# --- Calendar -----------------------------------------------------------------------------------------------------


def _month_from(value: str | None) -> datetime.date:
    """The month asked for as YYYY-MM, kept between this month and the calendar's horizon; else this month."""
    this_month, horizon = host_month_bounds(today=local_date())
    return min(max(month_from_query(value) or this_month, this_month), horizon)


def _apply_calendar_change(listing: Listing, form: CalendarEditForm) -> str:
    """Run the chosen change; returns the sentence that confirms it. Raises ListingError."""
    data = form.cleaned_data
    first, last, action = data["first_night"], data["last_night"], data["action"]
    span = dict(listing=listing, first_night=first, last_night=last)
    count = (last - first).days + 1
    nights = ngettext("%(count)d night", "%(count)d nights", count) % {"count": count}
    if action == "block":
        calendar_block(**span, note=data["note"])
        return _("Blocked {nights}.").format(nights=nights)
    if action == "unblock":
        calendar_unblock(**span)
        return _("Opened {nights}.").format(nights=nights)
    if action == "set-price":
        calendar_set_price(**span, price_kes=data["price_kes"])
        return _("Set the price of {nights}.").format(nights=nights)
    if action == "reset-price":
        calendar_set_price(**span, price_kes=None)
        return _("{nights} back to the default price.").format(nights=nights.capitalize())
    if action == "set-min-nights":
        calendar_set_min_nights(**span, min_nights=data["min_nights"])
        return _("Set the minimum stay for check-ins on {nights}.").format(nights=nights)
    calendar_set_min_nights(**span, min_nights=None)
    return _("{nights} back to the default minimum stay.").format(nights=nights.capitalize())


@require_http_methods(["GET", "POST"])
@login_required
@vary_on_headers("HX-Request")
def host_calendar(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The calendar editor: GET shows a month (?month=YYYY-MM); POST changes the chosen nights."""
    listing = listing_get_for_host(host=request.user, slug=slug)
    status = 200
    confirmation = ""
    if request.method == "POST":
        month = _month_from(request.POST.get("month"))
        form = CalendarEditForm(request.POST)
        if form.is_valid():
            try:
                confirmation = _apply_calendar_change(listing, form)
            except ListingError as error:
                form.add_error(None, str(error))
                status = 422
        else:
            status = 422
        if status == 200 and not is_fragment_request(request):
            messages.success(request, confirmation)
            return redirect(reverse("host:listing-calendar", kwargs={"slug": slug}) + f"?month={month:%Y-%m}")
    else:
        month = _month_from(request.GET.get("month"))
        form = CalendarEditForm(initial={"action": "block"})
    chosen = getattr(form, "cleaned_data", {})
    first, last = chosen.get("first_night"), chosen.get("last_night")
    context = {
        "listing": listing,
        "calendar": host_calendar_month(listing=listing, month=month),
        "form": form,
        "confirmation": confirmation,
        # The chosen nights stay marked after a change, ready for the next one.
        "selected_first": f"{first:%Y-%m-%d}" if first and last else "",
        "selected_last": f"{last:%Y-%m-%d}" if first and last else "",
    }
    template_name = CALENDAR_TEMPLATE
    if is_fragment_request(request):
        template_name += "#host-calendar"
    return render(request, template_name, context, status=status)
