"""Daraja's endpoints, the virtual phone and the test hooks. JSON views are CSRF-exempt, as Daraja is."""

import functools
import ipaddress
import json
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from core.daraja_wire import INVALID_TOKEN_TRANSACTION_STATUS
from core.htmx import HtmxHttpRequest, is_fragment_request
from core.money import format_kes
from core.phone import normalise_phone

from . import dispatcher, selectors, services, wire
from .models import ApiCall, AsyncRequest, Delivery, StkPush
from .wire import DarajaFault


def _fault_response(fault: DarajaFault) -> JsonResponse:
    return JsonResponse(fault.body(), status=fault.http_status)


def daraja_api(view: Callable) -> Callable:
    """A Daraja POST endpoint: 405 for other methods, every exchange recorded, faults as Daraja's envelope."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "POST":
            response = _fault_response(DarajaFault(405, "405.001", "Method Not Allowed"))
        else:
            try:
                response = view(request, *args, **kwargs)
            except DarajaFault as fault:
                response = _fault_response(fault)
        services.api_call_record(
            method=request.method or "",
            path=request.path,
            request_body=request.body,
            status=response.status_code,
            response_body=response.content,
        )
        return response

    return wrapper


def _authorization(request: HttpRequest) -> str:
    return request.headers.get("Authorization", "")


def _json(request: HttpRequest) -> dict:
    return wire.json_object(content_type=request.content_type or "", raw=request.body)


@csrf_exempt
def oauth_generate(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        response = _fault_response(DarajaFault(405, "405.001", "Method Not Allowed"))
    else:
        try:
            token = services.token_issue(
                authorization=_authorization(request), grant_type=request.GET.get("grant_type")
            )
            response = JsonResponse({"access_token": token.token, "expires_in": "3599"})
        except DarajaFault as fault:
            response = _fault_response(fault)
        except wire.EmptyBadRequest:
            response = HttpResponse(status=400, content=b"")
            del response["Content-Type"]
    services.api_call_record(
        method=request.method or "",
        path=request.get_full_path()[:200],
        request_body=b"",
        status=response.status_code,
        response_body=response.content,
    )
    return response


@daraja_api
def stk_push(request: HttpRequest) -> HttpResponse:
    services.token_check(authorization=_authorization(request))
    push = services.stk_push_accept(body=_json(request), reached_at=request.get_host())
    return JsonResponse(
        {
            "MerchantRequestID": push.merchant_request_id,
            "CheckoutRequestID": push.checkout_request_id,
            "ResponseCode": "0",
            "ResponseDescription": wire.PUSH_ACCEPTED,
            "CustomerMessage": wire.PUSH_ACCEPTED,
        }
    )


@daraja_api
def stk_query(request: HttpRequest) -> HttpResponse:
    services.token_check(authorization=_authorization(request))
    status, body = services.stk_query(body=_json(request))
    return JsonResponse(body, status=status)


def _async_ack(accepted: AsyncRequest) -> JsonResponse:
    return JsonResponse(
        {
            "OriginatorConversationID": accepted.originator_conversation_id,
            "ConversationID": accepted.conversation_id,
            "ResponseCode": "0",
            "ResponseDescription": wire.ASYNC_ACCEPTED,
        }
    )


@daraja_api
def transaction_status(request: HttpRequest) -> HttpResponse:
    services.token_check(authorization=_authorization(request), code=INVALID_TOKEN_TRANSACTION_STATUS, http_status=400)
    return _async_ack(services.transaction_status_accept(body=_json(request), reached_at=request.get_host()))


@daraja_api
def reversal(request: HttpRequest) -> HttpResponse:
    services.token_check(authorization=_authorization(request))
    return _async_ack(services.reversal_accept(body=_json(request), reached_at=request.get_host()))


@csrf_exempt
def resource_not_found(request: HttpRequest) -> HttpResponse:
    return _fault_response(DarajaFault(404, "404.001.01", "Resource not found"))


# -- the virtual phone ----------------------------------------------------------------------------------------


def _phone_filter(raw: str) -> tuple[str, str]:
    """(normalised number or "", error message or "")."""
    raw = raw.strip()[:30]
    if not raw:
        return "", ""
    try:
        return normalise_phone(raw), ""
    except ValidationError as error:
        return "", error.messages[0]


def _phone_context(*, number: str, number_error: str = "", notice: str = "", errors: dict | None = None) -> dict:
    prompts = list(selectors.prompts_pending(phone=number or None))
    for prompt in prompts:
        prompt.pin_error = (errors or {}).get(prompt.checkout_request_id, "")
    return {
        "number": number,
        "number_error": number_error,
        "prompts": prompts,
        "seen": ",".join(p.checkout_request_id for p in prompts),
        "notice": notice,
        "virtual_number": services.VIRTUAL_PHONE_NUMBER,
        "business_name": services.BUSINESS_NAME,
    }


def _phone_url(number: str) -> str:
    url = reverse("daraja_emulator:phone")
    return f"{url}?number={number}" if number else url


@require_GET
@vary_on_headers("HX-Request")
def phone(request: HtmxHttpRequest) -> HttpResponse:
    number, number_error = _phone_filter(request.GET.get("number", ""))
    context = _phone_context(number=number, number_error=number_error)
    if is_fragment_request(request):
        if "seen" in request.GET and request.GET["seen"] == context["seen"]:
            return HttpResponse(status=204)  # nothing new: keep the page (and a PIN being typed) as it is
        return render(request, "daraja_emulator/phone.html#phone-prompts", context)
    return render(request, "daraja_emulator/phone.html", context, status=422 if number_error else 200)


@require_POST
def phone_answer(request: HtmxHttpRequest, checkout_request_id: str, action: str) -> HttpResponse:
    number, _ = _phone_filter(request.POST.get("number", ""))
    errors = {}
    notice = ""
    if action == "approve":
        pin = request.POST.get("pin", "").strip()
        if not (len(pin) == 4 and pin.isascii() and pin.isdigit()):
            errors[checkout_request_id] = "Enter a 4-digit M-Pesa PIN."
    if not errors:
        try:
            push = services.prompt_answer(checkout_request_id=checkout_request_id, approve=action == "approve")
        except services.PromptError as error:
            notice = str(error)
        else:
            if push.result_code == "0":
                notice = (
                    f"{push.receipt} Confirmed. {format_kes(push.amount_kes)} sent to {services.BUSINESS_NAME} "
                    f"for account {push.account_reference}."
                )
            else:
                notice = f"You cancelled the payment of {format_kes(push.amount_kes)} to {services.BUSINESS_NAME}."
    if not is_fragment_request(request) and not errors:
        return redirect(_phone_url(number))
    context = _phone_context(number=number, notice=notice, errors=errors)
    status = 422 if errors else 200
    if is_fragment_request(request):
        return render(request, "daraja_emulator/phone.html#phone-prompts", context, status=status)
    return render(request, "daraja_emulator/phone.html", context, status=status)


# -- test hooks (loopback only) -------------------------------------------------------------------------------


def loopback_only(view: Callable) -> Callable:
    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            local = ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
        except ValueError:
            local = False
        if not local:
            return _fault_response(DarajaFault(404, "404.001.01", "Resource not found"))
        return view(request, *args, **kwargs)

    return wrapper


def _hook_body(request: HttpRequest) -> dict | None:
    try:
        body = json.loads(request.body or b"{}")
    except (UnicodeDecodeError, ValueError):
        return None
    return body if isinstance(body, dict) else None


def _outcome_args(body: dict) -> dict | str:
    """The outcome fields of a hook request, or a message saying what is wrong."""
    if body.get("wait_for_phone") is True:
        code = ""
    else:
        code = str(body.get("ResultCode", ""))
        if code not in wire.CALLBACK_DESC:
            return f"ResultCode must be one of {', '.join(wire.CALLBACK_DESC)} (or wait_for_phone: true)."
    args = {"code": code}
    for key, name in (("delay_s", "delay"), ("callback_delay_s", "callback_delay")):
        value = body.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 86_400
        ):
            return f"{key} must be a number of seconds from 0 to 86400."
        args[name] = float(value) if value is not None else None
    callbacks = body.get("callbacks", 1)
    if isinstance(callbacks, bool) or not isinstance(callbacks, int) or not 0 <= callbacks <= 10:
        return "callbacks must be a whole number from 0 to 10."
    args["callbacks"] = callbacks
    spoofed_source = body.get("spoofed_source", False)
    if not isinstance(spoofed_source, bool):
        return "spoofed_source must be true or false."
    args["spoofed_source"] = spoofed_source
    return args


def _push_json(push: StkPush) -> dict:
    return {
        "MerchantRequestID": push.merchant_request_id,
        "CheckoutRequestID": push.checkout_request_id,
        "phone": push.phone,
        "amount_kes": push.amount_kes,
        "account_reference": push.account_reference,
        "callback_url": push.callback_url,
        "status": push.status,
        "awaits_phone": push.awaits_phone,
        "created_at": push.created_at.isoformat(),
        "settle_at": push.settle_at.isoformat(),
        "result_code": push.result_code,
        "result_desc": push.result_desc,
        "receipt": push.receipt,
        "completed_at": push.completed_at.isoformat() if push.completed_at else None,
        "spoofed_source": push.planned_spoofed_source,
    }


def _delivery_json(delivery: Delivery) -> dict:
    return {
        "id": delivery.pk,
        "kind": delivery.kind,
        "CheckoutRequestID": delivery.push.checkout_request_id if delivery.push_id else None,
        "ConversationID": delivery.async_request.conversation_id if delivery.async_request_id else None,
        "url": delivery.url,
        "headers": delivery.headers,
        "body": json.loads(delivery.body),
        "due_at": delivery.due_at.isoformat(),
        "status": delivery.status,
        "spoofed_source": delivery.spoofed,
        "source_address": delivery.source_address or None,
        "attempted_at": delivery.attempted_at.isoformat() if delivery.attempted_at else None,
        "response_status": delivery.response_status,
        "error": delivery.error,
    }


@loopback_only
@require_GET
def hook_log(request: HttpRequest) -> HttpResponse:
    """What the emulator was sent and what it delivered, newest last; ?phone= and ?checkout_request_id= filter."""
    pushes = StkPush.objects.order_by("-pk")
    deliveries = Delivery.objects.select_related("push", "async_request").order_by("-pk")
    phone_number = request.GET.get("phone", "")
    checkout_request_id = request.GET.get("checkout_request_id", "")
    phone_number, checkout_request_id = wire.printable(phone_number), wire.printable(checkout_request_id)
    if phone_number:
        pushes = pushes.filter(phone=phone_number)
        deliveries = deliveries.filter(push__phone=phone_number)
    if checkout_request_id:
        pushes = pushes.filter(checkout_request_id=checkout_request_id)
        deliveries = deliveries.filter(push__checkout_request_id=checkout_request_id)
    calls = ApiCall.objects.order_by("-pk")[:200]
    results = AsyncRequest.objects.order_by("-pk")[:200]
    return JsonResponse(
        {
            "now": services.emulator_now().isoformat(),
            "pushes": [_push_json(p) for p in reversed(pushes[:200])],
            "deliveries": [_delivery_json(d) for d in reversed(deliveries[:500])],
            "requests": [
                {
                    "method": c.method,
                    "path": c.path,
                    "body": c.request_body,
                    "response_status": c.response_status,
                    "response_body": c.response_body,
                }
                for c in reversed(calls)
            ],
            "results": [
                {
                    "kind": r.kind,
                    "ConversationID": r.conversation_id,
                    "OriginatorConversationID": r.originator_conversation_id,
                    "TransactionID": r.transaction_id,
                    "result_code": r.result_code,
                    "receipt": r.receipt,
                }
                for r in reversed(results)
            ],
        }
    )


@loopback_only
@require_POST
def hook_push_outcome(request: HttpRequest, checkout_request_id: str) -> HttpResponse:
    """{"ResultCode": 1032, "delay_s": 3, "callbacks": 1, "callback_delay_s": 0, "spoofed_source": false} for a
    pending push; {"wait_for_phone": true} makes it wait for the virtual phone. "spoofed_source": true sends its
    callbacks from MPESA_EMULATOR_SPOOFED_SOURCE_IP, a source the merchant's allow-list does not name."""
    body = _hook_body(request)
    args = _outcome_args(body) if body is not None else "The body must be a JSON object."
    if isinstance(args, str):
        return JsonResponse({"error": args}, status=400)
    try:
        push = services.outcome_set_for_push(checkout_request_id=checkout_request_id[:64], **args)
    except services.PromptError as error:
        return JsonResponse({"error": str(error)}, status=409)
    return JsonResponse(_push_json(push))


@loopback_only
@require_POST
def hook_phone_outcome(request: HttpRequest, phone_number: str) -> HttpResponse:
    """The same body, for the next push to a number."""
    body = _hook_body(request)
    args = _outcome_args(body) if body is not None else "The body must be a JSON object."
    if isinstance(args, str):
        return JsonResponse({"error": args}, status=400)
    number = wire.phone_number(phone_number)
    if number is None:
        return JsonResponse({"error": "The number must look like 2547XXXXXXXX or 2541XXXXXXXX."}, status=400)
    try:
        outcome = services.outcome_set_for_phone(phone=number, **args)
    except services.PromptError as error:
        return JsonResponse({"error": str(error)}, status=409)
    return JsonResponse(
        {"phone": outcome.phone, "ResultCode": outcome.result_code, "spoofed_source": outcome.spoofed_source},
        status=201,
    )


@loopback_only
@require_POST
def hook_reset(request: HttpRequest) -> HttpResponse:
    services.emulator_reset()
    return JsonResponse({"reset": True})


@loopback_only
@require_POST
def hook_clock(request: HttpRequest) -> HttpResponse:
    """{"advance_s": 3600}: move the emulator's clock forward."""
    body = _hook_body(request) or {}
    advance = body.get("advance_s")
    if isinstance(advance, bool) or not isinstance(advance, int | float) or not 0 <= advance <= 10**7:
        return JsonResponse({"error": "advance_s must be a number of seconds, 0 or more."}, status=400)
    return JsonResponse({"now": services.clock_advance(by_seconds=float(advance)).isoformat()})


@loopback_only
@require_POST
def hook_dispatch(request: HttpRequest) -> HttpResponse:
    """Wake the background sender now (it still sends outside this request)."""
    dispatcher.wake()
    return JsonResponse({"woken": True})
