"""Booking a stay, the traveller's trips and the host's bookings.

The trip page itself, with its payment panel, is the payments app's (mpesa/views.py); its cancel step is here.

Bookings are looked up through selectors scoped to the signed-in person, so anyone else gets a 404.
"""

import datetime
import uuid
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from core.htmx import HtmxHttpRequest, is_fragment_request
from core.phone import kenyan_part
from listings.guest_forms import StayForm
from listings.models import Listing
from listings.selectors import Stay, listing_get_for_viewer, stay_quote
from reservations.forms import (
    BookingForm,
    GuestFormSet,
    HostBookingFilterForm,
    HostCancelForm,
    TripCancelForm,
    posted_guest_rows,
)
from reservations.models import Booking
from reservations.selectors import (
    booking_get_for_booker,
    booking_get_for_host,
    booking_host_cancel_refund_kes,
    booking_host_cancel_refusal,
    host_booking_rows,
    trip_detail,
    trips_for_user,
    trips_overlapping,
    user_may_book,
)
from reservations.services import BookingError, booking_cancel, booking_hold, booking_host_cancel, hold_duration

BOOK_TEMPLATE = "reservations/booking_new.html"


def verified_contact_required(view):
    """Booking needs a number or an address that is known to reach the person; others are sent to verify one first."""

    @wraps(view)
    def wrapped(request: HtmxHttpRequest, *args, **kwargs):
        if not user_may_book(user=request.user):
            return render(request, "reservations/verify_email.html", {"next": request.get_full_path()}, status=403)
        return view(request, *args, **kwargs)

    return wrapped


# ---------------------------------------------------------------------------------------------------------------
# Booking a stay


def _guest_count(stay_form: StayForm, listing: Listing) -> int:
    return max(1, min(stay_form.guests_or_default(), listing.max_guests or 1))


def _booking_context(
    request: HtmxHttpRequest, *, listing: Listing, stay: Stay, guests: int, now: datetime.datetime, **extra
) -> dict:
    dates = {"check_in": stay.check_in.isoformat(), "check_out": stay.check_out.isoformat()}
    book_url = f"{request.path}?{urlencode({**dates, 'guests': guests})}"
    return {
        "listing": listing,
        "stay": stay,
        "quote": stay_quote(listing=listing, stay=stay, guests=guests, now=now),
        "book_url": book_url,
        "calendar_url": f"{listing.get_absolute_url()}?{urlencode({**dates, 'guests': guests})}#availability-heading",
        "max_guests": listing.max_guests or 1,
        "hold_minutes": int(hold_duration().total_seconds() // 60),
        "overlapping": trips_overlapping(user=request.user, check_in=stay.check_in, check_out=stay.check_out, now=now),
        **extra,
    }


def _booker_row(user) -> dict:
    phone = user.mpesa_phone or (kenyan_part(user.phone) if user.phone_verified else "")
    return {"full_name": user.full_name, "email": user.email or "", "phone": phone, "age_group": "adult"}


@require_http_methods(["GET", "POST"])
@login_required
@verified_contact_required
def booking_new(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The booking form. GET shows it for the stay and guest count in the query; POST adds or removes a guest
    row (action=add-guest / remove-<n>, answered with the rows and the quote for htmx) or holds the nights."""
    listing = listing_get_for_viewer(slug=slug, user=request.user)
    stay_form = StayForm(request.GET)
    stay = stay_form.stay() if stay_form.is_valid() else None
    if stay is None:
        messages.info(request, _("Choose your dates on the calendar first."))
        return redirect(f"{listing.get_absolute_url()}#availability-heading")
    now = timezone.now()
    max_guests = listing.max_guests or 1

    if request.method == "GET":
        guests = _guest_count(stay_form, listing)
        context = _booking_context(request, listing=listing, stay=stay, guests=guests, now=now)
        rows = [_booker_row(request.user)] + [{"age_group": "adult"} for _ in range(guests - 1)]
        context.update(
            form=BookingForm(initial={"idempotency_key": uuid.uuid4().hex}),
            formset=GuestFormSet(initial=rows, max_guests=max_guests),
        )
        return render(request, BOOK_TEMPLATE, context)

    action = request.POST.get("action", "")
    if action == "add-guest" or action.startswith("remove-"):
        return _guest_rows_changed(request, listing=listing, stay=stay, action=action, now=now)

    form = BookingForm(request.POST)
    formset = GuestFormSet(request.POST, initial=[_booker_row(request.user)], max_guests=max_guests)
    error = ""
    if form.is_valid() and formset.is_valid():
        try:
            booking = booking_hold(
                booker=request.user,
                listing_id=listing.pk,
                stay=stay,
                guests=formset.guest_data(),
                shown_total_kes=form.cleaned_data["shown_total_kes"],
                idempotency_key=form.cleaned_data["idempotency_key"],
                now=now,
            )
        except BookingError as exc:
            error = str(exc)
        else:
            return redirect(booking.get_absolute_url())
    if not form.is_valid():
        # A stale or tampered page: start a fresh submission, keeping everything typed.
        form = BookingForm(initial={"idempotency_key": uuid.uuid4().hex})
        error = error or _("This page is out of date. Check the details below and book again.")
    guests = max(1, min(formset.total_form_count(), max_guests))
    context = _booking_context(
        request, listing=listing, stay=stay, guests=guests, now=now, form=form, formset=formset, error=error
    )
    shown = form.cleaned_data.get("shown_total_kes") if form.is_bound else None
    context["price_changed"] = bool(error) and shown is not None and shown != context["quote"].total_kes
    return render(request, BOOK_TEMPLATE, context, status=422)


def _guest_rows_changed(
    request: HtmxHttpRequest, *, listing: Listing, stay: Stay, action: str, now: datetime.datetime
) -> HttpResponse:
    """Add a blank guest row or remove one, keeping everything typed. Nothing is saved."""
    max_guests = listing.max_guests or 1
    rows = posted_guest_rows(request.POST, limit=max_guests)
    rows[0]["email"] = request.user.email or ""  # the booker's row: its address is not posted (the field is disabled)
    notice, focus = "", None
    if action == "add-guest":
        if len(rows) < max_guests:
            rows.append({"age_group": "adult"})
            focus = len(rows) - 1
        else:
            notice = ngettext(
                "This place sleeps at most %(count)d guest.", "This place sleeps at most %(count)d guests.", max_guests
            ) % {"count": max_guests}
    else:
        index = action.removeprefix("remove-")
        if index.isdigit() and 1 <= int(index) < len(rows):
            rows.pop(int(index))
    formset = GuestFormSet(initial=rows, max_guests=max_guests)
    if focus is not None:
        formset.forms[focus].fields["full_name"].widget.attrs["autofocus"] = True
    context = _booking_context(
        request, listing=listing, stay=stay, guests=len(rows), now=now, formset=formset, notice=notice
    )
    if is_fragment_request(request):
        rows_html = render_to_string(f"{BOOK_TEMPLATE}#guest-formset", context, request=request)
        quote_html = render_to_string(
            f"{BOOK_TEMPLATE}#booking-quote", {**context, "quote_out_of_band": True}, request=request
        )
        # A summary of a refused submission no longer applies to the changed rows.
        errors_html = render_to_string(
            f"{BOOK_TEMPLATE}#booking-errors", {**context, "errors_out_of_band": True}, request=request
        )
        return HttpResponse(rows_html + quote_html + errors_html)
    key = request.POST.get("idempotency_key", "")
    context["form"] = BookingForm(
        initial={"idempotency_key": key if BookingForm.key_is_valid(key) else uuid.uuid4().hex}
    )
    return render(request, BOOK_TEMPLATE, context)


# ---------------------------------------------------------------------------------------------------------------
# Trips


@require_GET
@login_required
def trip_list(request: HtmxHttpRequest) -> HttpResponse:
    trips = trips_for_user(user=request.user)
    sections = [
        (_("Upcoming"), trips.upcoming, "upcoming"),
        (_("Past"), trips.past, "past"),
        (_("Cancelled and expired"), trips.cancelled, "cancelled"),
    ]
    return render(request, "reservations/trip_list.html", {"trips": trips, "sections": sections})


@require_http_methods(["GET", "POST"])
@login_required
def trip_cancel(request: HtmxHttpRequest, ref: str) -> HttpResponse:
    """A confirmation step showing the refund, then the cancellation. Only the booker gets this page."""
    booking = booking_get_for_booker(user=request.user, ref=ref)
    form = TripCancelForm(request.POST or None)
    error, status = "", 200
    if request.method == "POST":
        if form.is_valid():
            try:
                booking_cancel(booking=booking, user=request.user, reason=form.cleaned_data["reason"])
            except BookingError as exc:
                error = str(exc)
            else:
                messages.success(request, _("Booking {ref} is cancelled.").format(ref=booking.ref))
                return redirect(booking.get_absolute_url())
        status = 422
    trip = trip_detail(user=request.user, ref=ref, now=timezone.now())
    context = {"trip": trip, "booking": trip.booking, "form": form, "error": error}
    return render(request, "reservations/trip_cancel.html", context, status=status)


# ---------------------------------------------------------------------------------------------------------------
# The host's bookings


@require_GET
@login_required
@vary_on_headers("HX-Request")
def host_bookings(request: HtmxHttpRequest) -> HttpResponse:
    form = HostBookingFilterForm(request.GET, host=request.user)
    valid = form.is_valid()
    listing_slug, status = (form.cleaned_data["listing"], form.cleaned_data["status"]) if valid else ("", "")
    page, rows = host_booking_rows(
        host=request.user,
        listing_slug=listing_slug,
        status=status,
        page_number=request.GET.get("page"),
        now=timezone.now(),
    )
    filters = urlencode({key: value for key, value in (("listing", listing_slug), ("status", status)) if value})
    context = {"form": form, "page": page, "rows": rows, "filters": filters, "statuses": Booking.Status.choices}
    template_name = "reservations/host_bookings.html"
    if is_fragment_request(request):
        template_name += "#host-bookings"
    return render(request, template_name, context, status=200 if valid else 422)


@require_http_methods(["GET", "POST"])
@login_required
def host_booking_cancel(request: HtmxHttpRequest, ref: str) -> HttpResponse:
    """The host cancels a confirmed booking with a reason; the guest gets back everything paid."""
    booking = booking_get_for_host(host=request.user, ref=ref)
    form = HostCancelForm(request.POST or None)
    error, status = "", 200
    if request.method == "POST":
        if form.is_valid():
            try:
                booking_host_cancel(booking=booking, host=request.user, reason=form.cleaned_data["reason"])
            except BookingError as exc:
                error = str(exc)
            else:
                messages.success(request, _("Booking {ref} is cancelled and the guests are told.").format(ref=ref))
                return redirect("reservations:host-bookings")
        status = 422
    refusal = booking_host_cancel_refusal(booking=booking, now=timezone.now())
    context = {
        "booking": booking,
        "form": form,
        "error": error or refusal,
        "can_cancel": not refusal,
        "refund_kes": booking_host_cancel_refund_kes(booking=booking),
    }
    return render(request, "reservations/host_booking_cancel.html", context, status=status)
