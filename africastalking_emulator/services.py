"""Every state change of the emulator: send requests answered and recorded, outcomes planned, delivery reports
scheduled and posted, everything forgotten."""

import datetime
import math
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from core.africastalking_wire import (
    ACCEPTED_STATUS,
    DELIVERY_REPORT_PATH,
    EMULATOR_API_KEY,
    INVALID_AUTHENTICATION,
    NETWORK_CODES,
    SANDBOX_USERNAME,
    STATUS_CODES,
    audience_read,
    e164,
)
from core.phone import is_probably_safaricom, normalise_phone
from core.site import site_url

from . import dispatcher
from .models import DeliveryReport, Message, PlannedOutcome

DEFAULT_SENDER_ID = "AFRICASTKNG"
PRICE_PER_PART = 0.8  # KES, as the documented example answer shows
# How long a message is: GSM-7 text fits 160 characters (153 per part when split), anything else 70 (67).
GSM_SINGLE, GSM_PART, UNICODE_SINGLE, UNICODE_PART = 160, 153, 70, 67


class SendRefused(Exception):
    """The request as a whole is refused before any recipient is looked at: an HTTP status and a plain-text body."""

    def __init__(self, http_status: int, text: str):
        super().__init__(text)
        self.http_status = http_status
        self.text = text


@dataclass(frozen=True)
class SendAnswer:
    """What the messaging endpoint answers: Africa's Talking's JSON, and how the answer is to be delivered."""

    body: dict
    answer: str = ""  # a planned transport outcome: "timeout", "http_500", "unparseable" or ""


# -- the messaging endpoint -------------------------------------------------------------------------------------


def known_credentials() -> tuple[set[str], set[str]]:
    """(usernames, API keys) the emulator accepts: the configured ones, and always the sandbox's development pair."""
    usernames = {SANDBOX_USERNAME} | ({settings.AT_USERNAME} if settings.AT_USERNAME else set())
    keys = {EMULATOR_API_KEY} | ({settings.AT_API_KEY} if settings.AT_API_KEY else set())
    return usernames, keys


def _credentials_check(*, username: str, api_key: str) -> None:
    usernames, keys = known_credentials()
    key_ok = any(secrets.compare_digest(api_key.encode(), key.encode()) for key in keys)
    if not (key_ok and username in usernames):
        raise SendRefused(401, INVALID_AUTHENTICATION)


def _parts(text: str) -> int:
    single, part = (GSM_SINGLE, GSM_PART) if text.isascii() else (UNICODE_SINGLE, UNICODE_PART)
    return 1 if len(text) <= single else math.ceil(len(text) / part)


def _number(raw: str) -> str | None:
    """An international number (+254…) as E.164, or None: Africa's Talking wants the country code."""
    raw = raw.strip()
    if not raw.startswith("+"):
        return None
    try:
        return e164(normalise_phone(raw))
    except ValidationError:
        return None


def _outcome_for(to: str) -> PlannedOutcome | None:
    """The newest outcome planned for a number, used up by one message when it was set for a number of them."""
    outcome = PlannedOutcome.objects.select_for_update().filter(to=to).order_by("-created_at", "-pk").first()
    if outcome is None or outcome.remaining == 0:
        return None
    if outcome.remaining is not None:
        outcome.remaining -= 1
        outcome.save(update_fields=["remaining"])
    return outcome


def _delivery_url() -> str:
    return site_url() + DELIVERY_REPORT_PATH.format(token=settings.SMS_DELIVERY_TOKEN)


def _report_schedule(message: Message, *, status: str, failure_reason: str, now: datetime.datetime) -> None:
    """The delivery report the network will send for a taken message, posted after a short delay. None when the
    account has no delivery-report URL (no SMS_DELIVERY_TOKEN)."""
    if not settings.SMS_DELIVERY_TOKEN:
        return
    network = NETWORK_CODES["Safaricom" if is_probably_safaricom(message.to.lstrip("+")) else "Airtel Kenya"]
    failure_reason = failure_reason if status in ("Failed", "Rejected") else ""
    fields = {"id": message.message_id, "status": status, "phoneNumber": message.to, "networkCode": network}
    fields |= {"failureReason": failure_reason} if failure_reason else {}
    DeliveryReport.objects.create(
        message=message,
        url=_delivery_url(),
        body=urlencode({**fields, "retryCount": "0"}),
        report_status=status,
        failure_reason=failure_reason,
        due_at=now + datetime.timedelta(seconds=float(settings.AT_EMULATOR_REPORT_DELAY_SECONDS)),
    )


def messages_accept(*, form: dict, api_key: str, audience: str) -> SendAnswer:
    """Answer a send request like Africa's Talking: each recipient taken (statusCode 101, a messageId, a delivery
    report to follow) or refused (its statusCode). Raises SendRefused for a request refused as a whole."""
    username, to, text, sender = (str(form.get(name, "")) for name in ("username", "to", "message", "from"))
    _credentials_check(username=username, api_key=api_key)
    for name, value in (("to", to), ("message", text)):
        if not value.strip():
            raise SendRefused(400, f"Request is missing required form field '{name}'")
    if sender and sender not in {DEFAULT_SENDER_ID, settings.AT_SENDER_ID}:
        return SendAnswer({"SMSMessageData": {"Message": "InvalidSenderId", "Recipients": []}})
    audience_user_id, audience_session = audience_read(audience) if audience else (None, "")
    now = timezone.now()
    recipients, taken, total_cost, answer = [], 0, 0.0, ""
    with transaction.atomic():
        for raw in [part for part in to.split(",") if part.strip()][:1000]:
            number = _number(raw)
            outcome = _outcome_for(number) if number else None
            code = 403 if number is None else (outcome.status_code if outcome and outcome.status_code else 101)
            cost = PRICE_PER_PART * _parts(text) if code == 101 else 0.0
            message = Message.objects.create(
                message_id=f"ATXid_{secrets.token_hex(16)}" if code == 101 else None,
                username=username[:100],
                sender_id=sender[:20],
                to=number or raw.strip()[:20],
                body=text,
                status_code=code,
                status="Sent" if code == 101 else STATUS_CODES[code],
                cost=f"KES {cost:.4f}" if code == 101 else "0",
                audience_user_id=audience_user_id,
                audience_session=audience_session,
            )
            if code == 101:
                taken += 1
                total_cost += cost
                _report_schedule(
                    message,
                    status=(outcome.report_status if outcome and outcome.report_status else "Success"),
                    failure_reason=outcome.failure_reason if outcome else "",
                    now=now,
                )
                answer = answer or (outcome.answer if outcome else "")
            recipients.append(
                {
                    "statusCode": code,
                    "number": message.to,
                    "status": ACCEPTED_STATUS if code == 101 else STATUS_CODES[code],
                    "cost": message.cost,
                    "messageId": message.message_id or "None",
                }
            )
        transaction.on_commit(dispatcher.wake, robust=True)
    summary = f"Sent to {taken}/{len(recipients)} Total Cost: " + (f"KES {total_cost:.4f}" if taken else "0")
    return SendAnswer({"SMSMessageData": {"Message": summary, "Recipients": recipients}}, answer=answer)


# -- test hooks -------------------------------------------------------------------------------------------------


@transaction.atomic
def outcome_set(
    *,
    to: str,
    status_code: int | None = None,
    report_status: str = "",
    failure_reason: str = "",
    answer: str = "",
    remaining: int | None = None,
) -> PlannedOutcome:
    """Plan what happens to the next messages to a number (the caller has checked the values)."""
    return PlannedOutcome.objects.create(
        to=to,
        status_code=status_code,
        report_status=report_status,
        failure_reason=failure_reason,
        answer=answer,
        remaining=remaining,
    )


@transaction.atomic
def emulator_reset() -> None:
    """Forget every message, report and planned outcome."""
    for model in (DeliveryReport, PlannedOutcome, Message):
        model.objects.all().delete()


def reports_dispatch_now() -> int:
    """Make every scheduled report due now and wake the sender (it still posts outside the caller's request)."""
    with transaction.atomic():
        count = DeliveryReport.objects.filter(status=DeliveryReport.Status.SCHEDULED).update(due_at=timezone.now())
        transaction.on_commit(dispatcher.wake, robust=True)
    return count


# -- the background sender --------------------------------------------------------------------------------------


def _claim_due(now: datetime.datetime) -> list[DeliveryReport]:
    """Take due reports for this process; a row another worker holds or took is skipped."""
    with transaction.atomic():
        queryset = DeliveryReport.objects.filter(status=DeliveryReport.Status.SCHEDULED, due_at__lte=now).order_by(
            "due_at", "pk"
        )
        if connection.features.has_select_for_update_skip_locked:
            queryset = queryset.select_for_update(skip_locked=True)
        claimed = []
        for report in list(queryset[:20]):
            taken = DeliveryReport.objects.filter(pk=report.pk, status=DeliveryReport.Status.SCHEDULED).update(
                status=DeliveryReport.Status.SENDING, attempted_at=timezone.now()
            )
            if taken:
                claimed.append(report)
        return claimed


def report_send(*, report: DeliveryReport) -> DeliveryReport:
    """POST one report once and record what happened; the receiver's answer changes nothing and nothing is retried.
    The message carries the report's status before the report leaves, as Africa's Talking's outbox does: a receiver
    that lists its messages on hearing the report sees what the report said."""
    Message.objects.filter(pk=report.message_id).update(
        status=report.report_status, failure_reason=report.failure_reason
    )
    session = requests.Session()
    session.trust_env = False  # reports go straight to the merchant, never through a proxy from the environment
    try:
        response = session.post(
            report.url,
            data=report.body.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=float(settings.AT_EMULATOR_DELIVERY_TIMEOUT_SECONDS),
            allow_redirects=False,
        )
        report.status, report.response_status = DeliveryReport.Status.SENT, response.status_code
    except requests.RequestException as error:
        report.status, report.error = DeliveryReport.Status.FAILED, str(error)[:2000]
    finally:
        session.close()
    DeliveryReport.objects.filter(pk=report.pk).update(
        status=report.status, response_status=report.response_status, error=report.error
    )
    return report


def run_due() -> float | None:
    """Send due reports. Returns seconds until the next one is due, or None when nothing is outstanding."""
    for report in _claim_due(timezone.now()):
        report_send(report=report)
    upcoming = (
        DeliveryReport.objects.filter(status=DeliveryReport.Status.SCHEDULED)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )
    if upcoming is None:
        return None
    return max(0.0, (upcoming - timezone.now()).total_seconds())
