import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from core.cache_control import never_cache
from core.htmx import HTMX_STOP_POLLING, HtmxHttpRequest, is_fragment_request
from core.http import client_ip, received_body
from core.jinja2 import render_partial
from core.phone import format_phone
from core.rate_limits import rate_limit_increment
from listings.policies import policy_terms
from mpesa.callbacks import callback_process
from mpesa.forms import GuestCodeForm, PayForm
from mpesa.selectors import (
    payer_default_phone,
    payment_for_callback_token,
    payment_latest,
    payment_panel,
    payment_panel_polling,
    result_token_known,
)
from mpesa.services import (
    RAW_BODY_LIMIT,
    PaymentError,
    callback_record,
    callback_source_allowed,
    payment_check,
    payment_record_guest_code,
    payment_start,
    result_record,
)
from mpesa.transaction_status import support_result_received
from reservations.selectors import booking_get_for_booker, trip_detail

logger = logging.getLogger(__name__)

ACCEPTED = {"ResultCode": 0, "ResultDesc": "Accepted"}
PANEL_TEMPLATE = "mpesa/payment_panel.html#payment-status"
POLLING_TEMPLATE = "mpesa/_payment_polling.html"  # the panel's states that poll, a Jinja2 partial
TRIP_TEMPLATE = "mpesa/trip_detail.html"


# ---------------------------------------------------------------------------------------------------------------
# The trip page and its payment panel: the booking as reservations' selectors read it, with the payment panel
# that the booker sees on it. The panel's forms and its poll answer with the panel's partial.


@require_GET
@login_required
def trip_detail_page(request: HtmxHttpRequest, ref: str) -> HttpResponse:
    return _trip_page(request, ref)


def _trip_page(request: HtmxHttpRequest, ref: str, *, panel: dict | None = None, status: int = 200) -> HttpResponse:
    """The trip page. `panel` is the payment panel's context when a panel form was refused (with its errors);
    otherwise the booker gets a fresh panel and anyone else on the trip none."""
    now = timezone.now()
    trip = trip_detail(user=request.user, ref=ref, now=now)
    context = {
        "trip": trip,
        "booking": trip.booking,
        "policy_terms": policy_terms(trip.booking.cancellation_policy),
        "now": now,
    }
    if trip.is_booker:
        context.update(panel or panel_context(booking=trip.booking))
    return render(request, TRIP_TEMPLATE, context, status=status)


def panel_context(*, booking, pay_form=None, code_form=None, error: str = "") -> dict:
    panel = payment_panel(booking=booking)
    if pay_form is None:
        pay_form = PayForm(
            initial={"phone": format_phone(panel.payer_phone or payer_default_phone(user=booking.booker))}
        )
    return {
        "booking": booking,
        "panel": panel,
        "prompt_seconds": settings.MPESA_PROMPT_SECONDS,
        "pay_form": pay_form,
        "code_form": code_form or GuestCodeForm(),
        "error": error,
    }


def _panel_response(request, context: dict, *, status: int = 200) -> HttpResponse:
    response = render(request, PANEL_TEMPLATE, context, status=status)
    if not context["panel"].polling and status == 200:
        # A final state, reached by a poll or by the panel's own check: the rest of the trip page follows.
        trigger_client_event(response, "bookingChanged")
        if request.method == "GET":
            # The fragment has no hx-trigger now, which ends polling; 286 is htmx 2's explicit stop.
            response.status_code = HTMX_STOP_POLLING
    return response


def _refused(request: HtmxHttpRequest, context: dict) -> HttpResponse:
    """A panel form that was refused, with its errors (422): the panel for htmx, the whole trip page without it."""
    if is_fragment_request(request):
        return _panel_response(request, context, status=422)
    return _trip_page(request, context["booking"].ref, panel=context, status=422)


@require_POST
@login_required
def booking_pay(request: HtmxHttpRequest, ref: str) -> HttpResponse:
    booking = booking_get_for_booker(user=request.user, ref=ref)
    form = PayForm(request.POST)
    if not form.is_valid():
        return _refused(request, panel_context(booking=booking, pay_form=form))
    try:
        payment_start(
            booking=booking,
            user=request.user,
            phone=form.cleaned_data["phone"],
            ip=client_ip(request, trusted_proxies=settings.ALLAUTH_TRUSTED_PROXY_COUNT),
        )
    except PaymentError as error:
        booking.refresh_from_db()
        return _refused(request, panel_context(booking=booking, pay_form=form, error=str(error)))
    booking.refresh_from_db()
    if not is_fragment_request(request):
        return redirect(booking)
    return _panel_response(request, panel_context(booking=booking))


@require_GET
@login_required
@never_cache
@vary_on_headers("HX-Request")
def payment_status(request: HtmxHttpRequest, ref: str) -> HttpResponse:
    """The payment panel. Only reads: whatever moves a payment forward is a POST or a callback."""
    if is_fragment_request(request):
        panel = payment_panel_polling(user=request.user, ref=ref)
        if panel is not None:
            # Every poll but the last: the booker's payment is in flight, read in one query, and the panel's polling
            # states rendered alone (bench/poll.py). They show no form and, of the booking, only its reference.
            context = {"ref": ref, "panel": panel, "prompt_seconds": settings.MPESA_PROMPT_SECONDS}
            return HttpResponse(render_partial(POLLING_TEMPLATE, context, request))
    booking = booking_get_for_booker(user=request.user, ref=ref)
    if not is_fragment_request(request):
        return redirect(booking)
    return _panel_response(request, panel_context(booking=booking))


@require_POST
@login_required
def payment_check_view(request: HtmxHttpRequest, ref: str) -> HttpResponse:
    """Ask M-Pesa about the booking's pending payment (rate-limited per payment in the database)."""
    booking = booking_get_for_booker(user=request.user, ref=ref)
    payment = payment_latest(booking=booking)
    if payment is not None:
        payment_check(payment=payment)
        booking.refresh_from_db()
    if not is_fragment_request(request):
        return redirect(booking)
    return _panel_response(request, panel_context(booking=booking))


@require_POST
@login_required
def payment_code(request: HtmxHttpRequest, ref: str) -> HttpResponse:
    booking = booking_get_for_booker(user=request.user, ref=ref)
    form = GuestCodeForm(request.POST)
    payment = payment_latest(booking=booking)
    if payment is None or not form.is_valid():
        return _refused(request, panel_context(booking=booking, code_form=form))
    try:
        payment_record_guest_code(payment=payment, user=request.user, code=form.cleaned_data["code"])
    except PaymentError as error:
        form.add_error("code", str(error))
        context = panel_context(booking=booking, code_form=form)
        if not context["panel"].can_send_code:  # the form, and its error, are not on the panel: say it beside it
            context["error"] = str(error)
        return _refused(request, context)
    context = panel_context(booking=booking)
    context["code_received"] = True
    if not is_fragment_request(request):
        return redirect(booking)
    return _panel_response(request, context)


def _unmatched_limit_reached(ip: str | None) -> bool:
    """Callbacks naming no token of ours, per address in fixed windows of ten minutes. Ours are never limited."""
    count = rate_limit_increment(key=f"callback-unmatched:ip:{ip}", window_seconds=600)
    return count > settings.MPESA_UNMATCHED_CALLBACKS_PER_IP


@csrf_exempt
@require_POST
def stk_callback(request, token: str) -> HttpResponse:
    """Daraja's STK callback. Recorded raw first; answered without a 500 whatever arrives."""
    ip = client_ip(request, trusted_proxies=settings.MPESA_TRUSTED_PROXIES)
    payment = payment_for_callback_token(token)
    if payment is None and _unmatched_limit_reached(ip):
        return JsonResponse({"ResultCode": 1, "ResultDesc": "Too many requests"}, status=429)
    raw_body, size = received_body(request, limit=RAW_BODY_LIMIT)
    event = callback_record(
        payment=payment, token=token, raw_body=raw_body, size=size, source_ip=ip, headers=dict(request.headers)
    )
    if not callback_source_allowed(ip):
        logger.warning("STK callback from %s, which is not on MPESA_CALLBACK_ALLOWED_IPS; recorded only", ip)
        return JsonResponse(ACCEPTED)
    try:
        callback_process(event=event)
    except Exception:  # recorded already; staff see it on the payment's timeline
        logger.exception("STK callback %s could not be processed", event.pk)
    return JsonResponse(ACCEPTED)


@csrf_exempt
@require_POST
def async_result(request, token: str) -> HttpResponse:
    """Result and timeout callbacks of Transaction Status and Reversal: recorded raw, then applied to their request."""
    ip = client_ip(request, trusted_proxies=settings.MPESA_TRUSTED_PROXIES)
    if not result_token_known(token) and _unmatched_limit_reached(ip):
        return JsonResponse({"ResultCode": 1, "ResultDesc": "Too many requests"}, status=429)
    trusted = callback_source_allowed(ip)
    raw_body, size = received_body(request, limit=RAW_BODY_LIMIT)
    event = result_record(
        token=token, raw_body=raw_body, size=size, source_ip=ip, headers=dict(request.headers), trusted=trusted
    )
    if not trusted:
        logger.warning("Result callback from %s, which is not on MPESA_CALLBACK_ALLOWED_IPS; recorded only", ip)
        return JsonResponse(ACCEPTED)
    try:
        support_result_received(event_id=event.pk)
    except Exception:  # recorded already; the support console shows the raw result
        logger.exception("Result callback %s could not be applied", event.pk)
    return JsonResponse(ACCEPTED)
