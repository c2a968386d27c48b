import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from core.htmx import HtmxHttpRequest, is_fragment_request
from core.http import client_ip, received_body
from notifications.forms import PreferencesForm
from notifications.kinds import SMS_KINDS
from notifications.recipients import preferences_for
from notifications.services import (
    REPORT_BODY_LIMIT,
    delivery_report_apply,
    delivery_report_record,
    notification_preferences_save,
)

logger = logging.getLogger(__name__)


@csrf_exempt
def sms_delivery_report(request: HttpRequest, token: str) -> HttpResponse:
    """Africa's Talking's delivery report (form-encoded id, status, phoneNumber, networkCode, failureReason,
    retryCount) at the secret URL configured in its dashboard. Recorded raw first, then applied; answered 200 whatever
    arrives, so nothing is posted again for our sake."""
    expected = settings.SMS_DELIVERY_TOKEN
    if not expected or not constant_time_compare(token, expected):
        raise Http404("No such page.")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    raw_body, size = received_body(request, limit=REPORT_BODY_LIMIT)
    event = delivery_report_record(
        raw_body=raw_body,
        size=size,
        source_ip=client_ip(request, trusted_proxies=settings.ALLAUTH_TRUSTED_PROXY_COUNT),
    )
    try:
        delivery_report_apply(event_id=event.pk)
    except Exception:  # recorded already; staff see it on the notification's events
        logger.exception("Delivery report %s could not be applied", event.pk)
    return HttpResponse("OK", content_type="text/plain")


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def preferences(request: HtmxHttpRequest) -> HttpResponse:
    """The signed-in person's message preferences: the language of their SMS and which kinds they want. A section of
    the profile page (loaded there by htmx) and a page of its own without JavaScript."""
    current = preferences_for(request.user)
    initial = {"language": current.language, "sms_on": [kind for kind in SMS_KINDS if kind not in current.sms_off]}
    form = PreferencesForm(request.POST or None, initial=initial)
    fragment = is_fragment_request(request)
    template = "notifications/preferences.html" + ("#preferences" if fragment else "")
    if request.method == "GET":
        return render(request, template, {"form": form})
    if not form.is_valid():
        return render(request, template, {"form": form}, status=422)
    notification_preferences_save(
        user=request.user, language=form.cleaned_data["language"], sms_on=form.cleaned_data["sms_on"]
    )
    if fragment:
        return render(request, template, {"form": PreferencesForm(initial=form.cleaned_data), "saved": True})
    messages.success(request, _("Your message preferences were saved."))
    return redirect("profile")
