"""Every error of the API as application/problem+json (RFC 9457): status, title, detail, a machine-readable `code`
and, for refused input, the errors field by field. Services' refusals (BookingError, PaymentError, ListingError)
are mapped here to a status by their code, so the views only call the service."""

from http import HTTPStatus

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response

from listings.services import ListingError
from mpesa.services import PaymentError
from reservations.services import BookingError

PROBLEM_JSON = "application/problem+json"

# Refusals by code. Anything not named is a 409: the request was understood, the booking's state refuses it.
REFUSAL_STATUS = {
    "dates_taken": 409,
    "price_changed": 409,
    "limit": 429,
    "idempotency_key_reused": 422,
    "invalid_dates": 422,
    "not_bookable": 422,
    "min_guests": 422,
    "max_guests": 422,
    "past_check_in": 422,
    "advance_notice": 422,
    "same_day_cutoff": 422,
    "max_nights": 422,
    "min_nights": 422,
    "reason_required": 422,
    "invalid_phone": 422,
    # Someone else's booking: the API never confirms it exists.
    "not_allowed": 404,
    "mpesa_refused": 502,
}


def problem(
    *, status: int, code: str, detail: str = "", errors: dict | None = None, title: str = "", **members
) -> dict:
    body = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "code": code,
        "detail": detail or HTTPStatus(status).description,
    }
    if errors:
        body["errors"] = errors
    body.update(members)
    return body


def problem_json_response(body: dict, *, headers: dict | None = None) -> JsonResponse:
    """A problem answered outside DRF (by the middleware)."""
    response = JsonResponse(body, status=body["status"], content_type=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


class InvalidInput(exceptions.APIException):
    """Input that failed its checks (a form's or a serializer's): 422 with the errors field by field."""

    status_code = 422
    default_code = "invalid"

    def __init__(self, errors: dict, detail: str = "Some fields are not valid."):
        super().__init__(detail=detail)
        self.errors = errors


def form_errors(form) -> dict[str, list[str]]:
    """A Django form's errors as the API names them (non_field_errors for the whole form)."""
    return {
        ("non_field_errors" if field == "__all__" else field): [error["message"] for error in errors]
        for field, errors in form.errors.get_json_data().items()
    }


def _flatten(detail) -> dict[str, list[str]]:
    """DRF's nested validation errors as field -> messages, nested fields joined with dots."""
    flat: dict[str, list[str]] = {}

    def walk(value, prefix: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{prefix}.{key}" if prefix else str(key))
        elif isinstance(value, list) and value and not all(isinstance(item, str) for item in value):
            for index, item in enumerate(value):
                walk(item, f"{prefix}.{index}" if prefix else str(index))
        elif isinstance(value, list):
            flat.setdefault(prefix or "non_field_errors", []).extend(str(item) for item in value)
        elif value:
            flat.setdefault(prefix or "non_field_errors", []).append(str(value))

    walk(detail, "")
    return flat


def _refusal(exc: BookingError | PaymentError | ListingError, request) -> Response:
    code = getattr(exc, "code", "refused")
    status = REFUSAL_STATUS.get(code, 422 if isinstance(exc, ListingError) else 409)
    members = {}
    quote = getattr(exc, "quote", None)
    if quote is not None:
        from api.serializers import QuoteSerializer

        members["quote"] = QuoteSerializer(quote).data
    detail = "The booking was not found." if status == 404 else str(exc)
    body = problem(status=status, code="not_found" if status == 404 else code, detail=detail, **members)
    headers = {}
    retry_after = getattr(exc, "retry_after", None)
    if status == 429 and retry_after:
        headers["Retry-After"] = str(retry_after)
    return Response(body, status=status, headers=headers, content_type=PROBLEM_JSON)


def problem_exception_handler(exc, context) -> Response | None:
    """DRF's exception handler: every error an API view raises, as problem+json."""
    request = context.get("request")
    if isinstance(exc, BookingError | PaymentError | ListingError):
        return _refusal(exc, request)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: Django's 500, which the middleware turns into problem+json
    status = exc.status_code
    headers = {}
    errors = None
    code = exc.default_code
    detail = exc.detail if isinstance(exc.detail, str) else ""
    if isinstance(exc, InvalidInput):
        errors = exc.errors
    elif isinstance(exc, exceptions.ValidationError):
        status, code, errors, detail = 422, "invalid", _flatten(exc.detail), "Some fields are not valid."
    elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        # 401 with a challenge: sign in through /_allauth/ and send X-Session-Token (or the session cookie).
        status, code = 401, "not_authenticated"
        headers["WWW-Authenticate"] = 'X-Session-Token realm="api"'
    elif isinstance(exc, exceptions.Throttled):
        code = "limit"
        if exc.wait:
            headers["Retry-After"] = str(int(exc.wait))
    elif isinstance(exc, exceptions.MethodNotAllowed):
        allowed = getattr(context.get("view"), "allowed_methods", None)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    body = problem(status=status, code=code, detail=str(detail), errors=errors)
    if request is not None:
        body["instance"] = request.path
    return Response(body, status=status, headers=headers, content_type=PROBLEM_JSON)
