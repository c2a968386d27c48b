"""The only code that speaks HTTP to Africa's Talking's SMS API: its sandbox or production, or our emulator.

One request per send, with a timeout, never repeated here. Africa's Talking has no idempotency key, so the answer is
read into one of three outcomes: sent (a messageId to match delivery reports by), refused (nothing was sent: asking
again is safe) or unknown (the message may have gone out: never sent again). Decisions use the statusCode, never
description text.
"""

import dataclasses
import json
import logging
from dataclasses import dataclass, field

import requests
from django.conf import settings
from urllib3.exceptions import ConnectTimeoutError

from core.africastalking_wire import (
    AUDIENCE_HEADER,
    EMULATOR_API_KEY,
    MESSAGING_PATH,
    REFUSED_FOR_GOOD,
    REFUSED_FOR_NOW,
    SANDBOX_USERNAME,
    SENT_CODES,
    STATUS_CODE_BY_NAME,
    STATUS_CODES,
)
from core.site import site_url

logger = logging.getLogger(__name__)

SANDBOX_URL = "https://api.sandbox.africastalking.com"
PRODUCTION_URL = "https://api.africastalking.com"
CONNECT_TIMEOUT = 5.0  # seconds; the read timeout is AT_TIMEOUT_SECONDS

SENT, REFUSED, UNKNOWN = "sent", "refused", "unknown"


@dataclass(frozen=True)
class SmsConfig:
    env: str
    base_url: str
    username: str
    api_key: str
    sender_id: str = ""
    read_timeout: float = 15.0

    @classmethod
    def from_settings(cls) -> "SmsConfig":
        env = settings.SMS_ENV
        defaults = {"sandbox": SANDBOX_URL, "production": PRODUCTION_URL, "emulator": f"{site_url()}/africastalking"}
        return cls(
            env=env,
            base_url=(settings.AT_BASE_URL or defaults.get(env, "")).rstrip("/"),
            username=settings.AT_USERNAME or (SANDBOX_USERNAME if env in ("sandbox", "emulator") else ""),
            api_key=settings.AT_API_KEY or (EMULATOR_API_KEY if env == "emulator" else ""),
            sender_id=settings.AT_SENDER_ID,
            read_timeout=float(settings.AT_TIMEOUT_SECONDS),
        )


@dataclass(frozen=True)
class SendAnswer:
    """What a send came to. `retryable` only for a refusal that may pass later; `error` is safe to show to staff."""

    outcome: str
    retryable: bool = False
    status_code: int | None = None
    status: str = ""
    message_id: str = ""
    cost: str = ""
    http_status: int | None = None
    answer: object = None
    error: str = ""
    request: dict = field(default_factory=dict)


def _recipient_for(recipients: list, to: str) -> dict | None:
    entries = [entry for entry in recipients if isinstance(entry, dict)]
    return next((entry for entry in entries if entry.get("number") == to), entries[0] if entries else None)


def _status_code(value) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def read_answer(*, http_status: int, content: bytes, to: str) -> SendAnswer:
    """Read Africa's Talking's answer to a send to one number (`to`, E.164)."""
    text = content.decode("utf-8", errors="replace")
    if 400 <= http_status < 500:
        return SendAnswer(
            REFUSED,
            retryable=True,
            http_status=http_status,
            answer=text[:2000],
            error=f"Africa's Talking refused the request (HTTP {http_status}: {text.strip()[:120] or 'no reason'}).",
        )
    if not 200 <= http_status < 300:
        return SendAnswer(UNKNOWN, http_status=http_status, answer=text[:2000], error=f"HTTP {http_status}.")
    try:
        body = json.loads(text)
        data = body["SMSMessageData"]
        recipients = data["Recipients"]
    except (ValueError, KeyError, TypeError):
        return SendAnswer(UNKNOWN, http_status=http_status, answer=text[:2000], error="The answer could not be read.")
    if not isinstance(recipients, list):
        return SendAnswer(UNKNOWN, http_status=http_status, answer=body, error="The answer could not be read.")
    entry = _recipient_for(recipients, to)
    if entry is None:
        # No recipient at all: the request was refused as a whole ("InvalidSenderId", "InvalidPhoneNumber").
        reason = str(data.get("Message", ""))[:120] if isinstance(data, dict) else ""
        return SendAnswer(
            REFUSED,
            retryable=STATUS_CODE_BY_NAME.get(reason) not in REFUSED_FOR_GOOD,
            status=reason,
            http_status=http_status,
            answer=body,
            error=f"Africa's Talking sent nothing ({reason or 'no recipient in its answer'}).",
        )
    code = _status_code(entry.get("statusCode"))
    fields = {
        "status_code": code,
        "status": str(entry.get("status", ""))[:40],
        "cost": str(entry.get("cost", ""))[:30],
        "http_status": http_status,
        "answer": body,
    }
    if code in SENT_CODES:
        message_id = str(entry.get("messageId") or "")[:100]
        return SendAnswer(SENT, message_id="" if message_id == "None" else message_id, **fields)
    if code in REFUSED_FOR_GOOD or code in REFUSED_FOR_NOW:
        return SendAnswer(
            REFUSED, retryable=code in REFUSED_FOR_NOW, error=f"Refused: {code} {STATUS_CODES[code]}.", **fields
        )
    return SendAnswer(UNKNOWN, error=f"statusCode {entry.get('statusCode')!r} is not one we know.", **fields)


def _never_connected(error: requests.RequestException) -> bool:
    """True when the connection was never made (refused, no such host, connect timeout): nothing was sent."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(error, requests.ConnectionError) and isinstance(reason, ConnectTimeoutError)


class SmsClient:
    def __init__(self, config: SmsConfig | None = None, *, session: requests.Session | None = None):
        self.config = config or SmsConfig.from_settings()
        self.session = session or requests.Session()
        self.session.trust_env = False

    def send(self, *, to: str, message: str, audience: str = "") -> SendAnswer:
        """Send `message` to one number (E.164). `audience` (core.africastalking_wire.audience_sign) goes to the
        emulator only, as a header."""
        form = {"username": self.config.username, "to": to, "message": message}
        if self.config.sender_id:
            form["from"] = self.config.sender_id
        headers = {"apiKey": self.config.api_key, "Accept": "application/json"}
        if audience and self.config.env == "emulator":
            headers[AUDIENCE_HEADER] = audience
        recorded = {
            "url": MESSAGING_PATH,
            **{name: value for name, value in form.items() if name != "message"},
            "message_chars": len(message),
        }
        if not self.config.base_url.startswith(("https://", "http://")):
            error_text = "SMS are not set up (SMS_ENV, AT_BASE_URL); nothing was sent."
            return SendAnswer(REFUSED, error=error_text, request=recorded)
        try:
            response = self.session.post(
                f"{self.config.base_url}{MESSAGING_PATH}",
                data=form,
                headers=headers,
                timeout=(CONNECT_TIMEOUT, self.config.read_timeout),
                allow_redirects=False,
            )
        except requests.RequestException as error:
            if _never_connected(error):
                error_text = "Africa's Talking could not be reached; nothing was sent."
                return SendAnswer(REFUSED, retryable=True, error=error_text, request=recorded)
            logger.warning("SMS to Africa's Talking: no answer (%s)", type(error).__name__)
            kind = "did not answer in time" if isinstance(error, requests.Timeout) else "broke off the answer"
            error_text = f"Africa's Talking {kind}; the message may have gone out."
            return SendAnswer(UNKNOWN, error=error_text, request=recorded)
        answer = read_answer(http_status=response.status_code, content=response.content, to=to)
        return dataclasses.replace(answer, request=recorded)


def sms_client() -> SmsClient:
    """The client every SMS is sent through: the one seam where a test may put another Africa's Talking."""
    return SmsClient()
