import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt

from core.http import client_ip, received_body
from notifications.services import REPORT_BODY_LIMIT, delivery_report_apply, delivery_report_record

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
