"""Africa's Talking's messaging endpoint, the virtual inbox and the test hooks. The API is CSRF-exempt, as Africa's
Talking's is."""

import functools
import ipaddress
import json
import time
from collections.abc import Callable
from xml.sax.saxutils import escape

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from core.africastalking_wire import (
    AUDIENCE_HEADER,
    FAILURE_REASONS,
    REPORT_DELIVERED,
    REPORT_NOT_DELIVERED,
    SENT_CODES,
    STATUS_CODE_BY_NAME,
    STATUS_CODES,
    e164,
    session_tag,
)
from core.htmx import HtmxHttpRequest, is_fragment_request
from core.phone import mask_phone, normalise_phone

from . import services
from .models import Message, PlannedOutcome

ANSWERS = PlannedOutcome.Answer.values
NOT_FOUND_TEXT = "Not Found"


def _text(status: int, text: str) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def _xml(body: dict) -> str:
    """The answer for a client that did not ask for JSON: Africa's Talking then answers in XML."""
    data = body["SMSMessageData"]
    recipients = "".join(
        "<Recipient>" + "".join(f"<{key}>{escape(str(value))}</{key}>" for key, value in entry.items()) + "</Recipient>"
        for entry in data["Recipients"]
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><AfricasTalkingResponse><SMSMessageData>'
        f"<Message>{escape(data['Message'])}</Message><Recipients>{recipients}</Recipients>"
        "</SMSMessageData></AfricasTalkingResponse>"
    )


@csrf_exempt
def messaging(request: HttpRequest) -> HttpResponse:
    """POST /version1/messaging: form-encoded username, to, message and optional from; the apiKey header."""
    if request.method != "POST":
        return _text(405, "Method Not Allowed")
    try:
        answer = services.messages_accept(
            form=request.POST,
            api_key=request.headers.get("apiKey", ""),
            audience=request.headers.get(AUDIENCE_HEADER, ""),
        )
    except services.SendRefused as refusal:
        return _text(refusal.http_status, refusal.text)
    if answer.answer == PlannedOutcome.Answer.TIMEOUT:
        # The message went out; the answer comes later than any client waits.
        time.sleep(float(settings.AT_EMULATOR_SLOW_ANSWER_SECONDS))
    if answer.answer == PlannedOutcome.Answer.HTTP_500:
        return _text(500, "Internal Server Error")
    if answer.answer == PlannedOutcome.Answer.UNPARSEABLE:
        return HttpResponse("<html><body>Service temporarily unavailable</body></html>", status=201)
    if "application/json" not in request.headers.get("Accept", ""):
        return HttpResponse(_xml(answer.body), status=201, content_type="application/xml")
    return JsonResponse(answer.body, status=201)


@csrf_exempt
def not_found(request: HttpRequest) -> HttpResponse:
    return _text(404, NOT_FOUND_TEXT)


# -- the virtual inbox -----------------------------------------------------------------------------------------


def _loopback(request: HttpRequest) -> bool:
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def _number_filter(raw: str) -> tuple[str, str]:
    """(E.164 number or "", error message or "")."""
    raw = raw.strip()[:30]
    if not raw:
        return "", ""
    try:
        return e164(normalise_phone(raw)), ""
    except ValidationError as error:
        return "", error.messages[0]


def _inbox(request: HttpRequest) -> dict:
    """The messages this visitor may read: all of them with DEBUG on or from this machine (filtered by ?number=);
    otherwise only those the outbox addressed to the signed-in account or to this browser session, never by number
    (a sign-in code shown to whoever types a number would hand over the account)."""
    if settings.DEBUG or _loopback(request):
        number, number_error = _number_filter(request.GET.get("number", ""))
        messages = Message.objects.filter(to=number) if number else Message.objects.all()
        return {"everyone": True, "number": number, "number_error": number_error, "messages": messages}
    audience = Q(pk__in=[])
    if request.user.is_authenticated:
        audience |= Q(audience_user_id=request.user.pk)
    if tag := session_tag(request.session.session_key):
        audience |= Q(audience_session=tag)
    return {"everyone": False, "number": "", "number_error": "", "messages": Message.objects.filter(audience)}


@require_GET
@vary_on_headers("HX-Request")
def phone(request: HtmxHttpRequest) -> HttpResponse:
    context = _inbox(request)
    messages = list(context["messages"].filter(status_code__in=SENT_CODES).order_by("-created_at", "-pk")[:50])
    for message in messages:
        message.shown_to = message.to if context["everyone"] else mask_phone(message.to.lstrip("+"))
    context["messages"] = messages
    if is_fragment_request(request):
        return render(request, "africastalking_emulator/phone.html#inbox-messages", context)
    status = 422 if context["number_error"] else 200
    return render(request, "africastalking_emulator/phone.html", context, status=status)


# -- test hooks (loopback only) ----------------------------------------------------------------------------------


def loopback_only(view: Callable) -> Callable:
    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not _loopback(request):
            return _text(404, NOT_FOUND_TEXT)
        return view(request, *args, **kwargs)

    return wrapper


def _message_json(message: Message) -> dict:
    return {
        "to": message.to,
        "body": message.body,
        "status": message.status,
        "statusCode": message.status_code,
        "failureReason": message.failure_reason,
        "messageId": message.message_id or "None",
        "cost": message.cost,
        "created_at": message.created_at.isoformat(),
    }


@loopback_only
@require_GET
def hook_messages(request: HttpRequest) -> HttpResponse:
    """Every message the emulator was sent (refusals included), oldest first; ?to= in any form the phone normaliser
    accepts."""
    messages = Message.objects.order_by("created_at", "pk")
    if "to" in request.GET:
        number, error = _number_filter(request.GET["to"])
        if not number:
            return JsonResponse({"error": error or "Give a number in ?to=."}, status=400)
        messages = messages.filter(to=number)
    return JsonResponse([_message_json(message) for message in messages[:1000]], safe=False)


def _outcome_args(body: dict) -> dict | str:
    """The planned outcome in a hook request, or a message saying what is wrong. One of: a send-time statusCode (a
    refusal, by number or name: 406 or "UserInBlacklist"); a delivery-report status (Success, Failed, Rejected,
    AbsentSubscriber, Expired) with a failureReason for Failed or Rejected; or an answer that never arrives whole
    ("timeout", "http_500", "unparseable"). "times": how many messages it applies to (default: all, until reset)."""
    given = [key for key in ("statusCode", "status", "answer") if key in body]
    if len(given) != 1:
        return "Give exactly one of statusCode, status or answer."
    args: dict = {}
    if "statusCode" in body:
        value = body["statusCode"]
        code = STATUS_CODE_BY_NAME.get(value) if isinstance(value, str) else value
        if isinstance(code, bool) or code not in STATUS_CODES or code in SENT_CODES:
            refusals = ", ".join(f"{c} {n}" for c, n in STATUS_CODES.items() if c not in SENT_CODES)
            return f"statusCode must be a refusal: {refusals}."
        args["status_code"] = code
    elif "status" in body:
        status, reason = body["status"], body.get("failureReason", "")
        if status not in (REPORT_DELIVERED, *REPORT_NOT_DELIVERED):
            return f"status must be one of {', '.join((REPORT_DELIVERED, *REPORT_NOT_DELIVERED))}."
        if reason and (reason not in FAILURE_REASONS or status not in ("Failed", "Rejected")):
            return f"failureReason goes with Failed or Rejected and is one of {', '.join(FAILURE_REASONS)}."
        args.update(report_status=status, failure_reason=reason)
    else:
        if body["answer"] not in ANSWERS:
            return f"answer must be one of {', '.join(ANSWERS)}."
        args["answer"] = body["answer"]
    times = body.get("times")
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= 1000):
        return "times must be a whole number from 1 to 1000."
    args["remaining"] = times
    return args


@loopback_only
@require_POST
def hook_outcome(request: HttpRequest, number: str) -> HttpResponse:
    """Plan the outcome of the next messages to a number (any form the phone normaliser accepts)."""
    try:
        body = json.loads(request.body or b"{}")
    except (UnicodeDecodeError, ValueError):
        body = None
    args = _outcome_args(body) if isinstance(body, dict) else "The body must be a JSON object."
    if isinstance(args, str):
        return JsonResponse({"error": args}, status=400)
    to, error = _number_filter(number)
    if not to:
        return JsonResponse({"error": error or "Give a number."}, status=400)
    outcome = services.outcome_set(to=to, **args)
    return JsonResponse(
        {
            "to": outcome.to,
            "statusCode": outcome.status_code,
            "status": outcome.report_status,
            "failureReason": outcome.failure_reason,
            "answer": outcome.answer,
            "times": outcome.remaining,
        },
        status=201,
    )


@loopback_only
@require_POST
def hook_reset(request: HttpRequest) -> HttpResponse:
    services.emulator_reset()
    return JsonResponse({"reset": True})


@loopback_only
@require_POST
def hook_dispatch(request: HttpRequest) -> HttpResponse:
    """Post every scheduled delivery report now (the sender still posts outside this request)."""
    return JsonResponse({"dispatched": services.reports_dispatch_now()})
