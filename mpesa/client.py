"""The only code that speaks HTTP to Daraja: Safaricom's sandbox or production, or our emulator.

Every call has a timeout. A push is never retried on its own (it could charge twice); a query may be.
Decisions use ResultCode, never description text. Failures raise DarajaError with Daraja's code and a
message that is safe to show.
"""

import base64
import logging
import secrets
from dataclasses import dataclass, field

import requests
from django.conf import settings
from django.core.cache import cache

from core.daraja_wire import (
    EMULATOR_CONSUMER_KEY,
    EMULATOR_CONSUMER_SECRET,
    INVALID_TOKEN_CODES,
    OAUTH_PATH,
    REVERSAL_COMMAND,
    REVERSAL_PATH,
    SANDBOX_INITIATOR_NAME,
    SANDBOX_PASSKEY,
    SANDBOX_SHORTCODE,
    STILL_PROCESSING,
    STK_PUSH_PATH,
    STK_QUERY_PATH,
    TRANSACTION_STATUS_COMMAND,
    TRANSACTION_STATUS_PATH,
    daraja_timestamp,
    stk_password,
)
from core.redact import mask_payment_tokens

logger = logging.getLogger(__name__)

SANDBOX_URL = "https://sandbox.safaricom.co.ke"
PRODUCTION_URL = "https://api.safaricom.co.ke"
TIMEOUT = (5, 20)  # connect, read (seconds)
TOKEN_REFRESH_MARGIN = 120  # seconds before expiry


class DarajaError(Exception):
    """Daraja refused or could not be reached. `message` is safe to show to a guest."""

    def __init__(self, message: str, *, code: str = "", http_status: int | None = None, response_body=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status
        self.response_body = response_body
        self.exchange: Exchange | None = None

    @property
    def is_invalid_token(self) -> bool:
        return self.code in INVALID_TOKEN_CODES or (self.http_status == 401 and not self.code)


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, as recorded in the payment ledger (secrets left out, URL tokens masked)."""

    endpoint: str
    request_body: dict
    http_status: int | None
    response_body: dict | str | None


@dataclass(frozen=True)
class StkPushAccepted:
    merchant_request_id: str
    checkout_request_id: str
    exchange: Exchange


@dataclass(frozen=True)
class StkQueryAnswer:
    """A query's answer. `final` is False while M-Pesa is still processing (4999 or 500.001.1001)."""

    final: bool
    result_code: str = ""
    result_desc: str = ""
    exchange: Exchange | None = None


@dataclass(frozen=True)
class AsyncAccepted:
    """Transaction Status and Reversal acknowledge now and answer later at the ResultURL."""

    conversation_id: str
    originator_conversation_id: str
    exchange: Exchange


@dataclass
class DarajaConfig:
    base_url: str
    consumer_key: str
    consumer_secret: str
    shortcode: str
    passkey: str
    transaction_type: str = "CustomerPayBillOnline"
    party_b: str = ""
    initiator_name: str = ""
    security_credential: str = ""
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_settings(cls) -> "DarajaConfig":
        env = settings.MPESA_ENV
        base_url = settings.MPESA_BASE_URL or {"sandbox": SANDBOX_URL, "production": PRODUCTION_URL}.get(env, "")
        emulator = env == "emulator"
        return cls(
            base_url=base_url.rstrip("/"),
            consumer_key=settings.MPESA_CONSUMER_KEY or (EMULATOR_CONSUMER_KEY if emulator else ""),
            consumer_secret=settings.MPESA_CONSUMER_SECRET or (EMULATOR_CONSUMER_SECRET if emulator else ""),
            shortcode=settings.MPESA_SHORTCODE or (SANDBOX_SHORTCODE if env != "production" else ""),
            passkey=settings.MPESA_PASSKEY or (SANDBOX_PASSKEY if env != "production" else ""),
            transaction_type=settings.MPESA_TRANSACTION_TYPE,
            party_b=settings.MPESA_TILL_NUMBER,
            initiator_name=settings.MPESA_INITIATOR_NAME or (SANDBOX_INITIATOR_NAME if emulator else ""),
            security_credential=settings.MPESA_SECURITY_CREDENTIAL or ("emulator-credential" if emulator else ""),
        )


def _parse_body(response: requests.Response):
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text[:2000]


def _error_from(response: requests.Response, body) -> DarajaError:
    if isinstance(body, dict) and body.get("errorCode"):
        code = str(body["errorCode"])
        return DarajaError(
            _safe_message(code, str(body.get("errorMessage", ""))),
            code=code,
            http_status=response.status_code,
            response_body=body,
        )
    if response.status_code == 400 and body is None:
        return DarajaError(
            "M-Pesa did not accept our credentials. Please try again later.",
            code="oauth_rejected",
            http_status=400,
            response_body=body,
        )
    if response.status_code == 401:
        return DarajaError("M-Pesa refused this request. Please try again later.", http_status=401, response_body=body)
    return DarajaError(
        "M-Pesa could not take the request right now. Please try again in a minute.",
        code=f"http_{response.status_code}",
        http_status=response.status_code,
        response_body=body,
    )


SAFE_MESSAGES = {
    "400.002.02": "M-Pesa rejected the request: {detail}.",
    "500.001.1001": "M-Pesa could not start the payment: {detail}.",
    "500.003.02": "M-Pesa is busy right now. Please try again in a minute.",
    "500.003.03": "M-Pesa is busy right now. Please try again later.",
    "404.001.03": "M-Pesa refused our access token. Please try again.",
}


def _safe_message(code: str, detail: str) -> str:
    detail = detail.removeprefix("Bad Request - ").removeprefix("[MerchantValidate] - ").strip() or "unknown error"
    if "lock subscriber" in detail:
        return "Your phone already has an M-Pesa request open. Finish or cancel it, then try again."
    template = SAFE_MESSAGES.get(code, "M-Pesa could not take the request ({code}). Please try again.")
    return template.format(detail=detail.lower(), code=code)


class DarajaClient:
    def __init__(self, config: DarajaConfig | None = None, *, session: requests.Session | None = None):
        self.config = config or DarajaConfig.from_settings()
        self.session = session or requests.Session()

    # -- OAuth ------------------------------------------------------------------------------------------

    @property
    def _token_cache_key(self) -> str:
        return f"daraja-token:{self.config.base_url}:{self.config.consumer_key}"

    def access_token(self, *, renew: bool = False) -> str:
        """A bearer token, cached (in the shared cache) until shortly before it expires."""
        if not renew:
            token = cache.get(self._token_cache_key)
            if token:
                return token
        url = f"{self.config.base_url}{OAUTH_PATH}?grant_type=client_credentials"
        credentials = base64.b64encode(f"{self.config.consumer_key}:{self.config.consumer_secret}".encode()).decode()
        try:
            response = self.session.get(url, headers={"Authorization": f"Basic {credentials}"}, timeout=TIMEOUT)
        except requests.RequestException as error:
            raise DarajaError(
                "M-Pesa could not be reached. Please try again in a minute.", code="unreachable"
            ) from error
        body = _parse_body(response)
        if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
            raise _error_from(response, body)
        try:
            expires_in = int(str(body.get("expires_in", "3599")).strip())
        except ValueError:
            expires_in = 3599
        cache.set(self._token_cache_key, body["access_token"], max(expires_in - TOKEN_REFRESH_MARGIN, 30))
        return body["access_token"]

    # -- transport --------------------------------------------------------------------------------------

    def _post(
        self, path: str, payload: dict, *, recorded: dict, retries_on_network_error: int = 0
    ) -> tuple[int, object]:
        """POST JSON with a bearer token; renew the token once if Daraja says it is invalid."""
        url = f"{self.config.base_url}{path}"
        attempt = 0
        renewed = False
        while True:
            token = self.access_token(renew=renewed)
            try:
                response = self.session.post(
                    url, json=payload, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT
                )
            except requests.Timeout as error:
                if attempt < retries_on_network_error:
                    attempt += 1
                    continue
                raise DarajaError("M-Pesa did not answer in time.", code="timeout", response_body=None) from error
            except requests.RequestException as error:
                if attempt < retries_on_network_error:
                    attempt += 1
                    continue
                raise DarajaError(
                    "M-Pesa could not be reached. Please try again in a minute.", code="unreachable"
                ) from error
            body = _parse_body(response)
            if response.status_code == 200 and isinstance(body, dict):
                return response.status_code, body
            error = _error_from(response, body)
            # A rejected token means Daraja did not process the request, so asking again is safe.
            if error.is_invalid_token and not renewed:
                cache.delete(self._token_cache_key)
                renewed = True
                continue
            error.exchange = Exchange(path, recorded, response.status_code, body)
            raise error

    def _password_fields(self) -> tuple[dict, dict]:
        timestamp = daraja_timestamp()
        password = stk_password(shortcode=self.config.shortcode, passkey=self.config.passkey, timestamp=timestamp)
        return (
            {"BusinessShortCode": int(self.config.shortcode), "Password": password, "Timestamp": timestamp},
            {"BusinessShortCode": int(self.config.shortcode), "Password": "<redacted>", "Timestamp": timestamp},
        )

    # -- M-Pesa Express -----------------------------------------------------------------------------------

    def stk_push(
        self, *, amount_kes: int, phone: str, callback_url: str, account_reference: str, description: str
    ) -> StkPushAccepted:
        """Ask M-Pesa to prompt `phone` for `amount_kes`. Accepted means the prompt is queued, not paid."""
        if not isinstance(amount_kes, int) or amount_kes < 1:
            raise DarajaError("The amount must be a whole number of shillings.", code="invalid_amount")
        secret_fields, shown_fields = self._password_fields()
        party_b = self.config.party_b or self.config.shortcode
        common = {
            "TransactionType": self.config.transaction_type,
            "Amount": amount_kes,
            "PartyA": int(phone),
            "PartyB": int(party_b),
            "PhoneNumber": int(phone),
            "CallBackURL": callback_url,
            "AccountReference": account_reference[:12],
            "TransactionDesc": description[:13],
        }
        recorded = {**shown_fields, **common, "CallBackURL": mask_payment_tokens(callback_url)}
        status, body = self._post(STK_PUSH_PATH, {**secret_fields, **common}, recorded=recorded)
        exchange = Exchange(STK_PUSH_PATH, recorded, status, body)
        if str(body.get("ResponseCode")) != "0" or not body.get("CheckoutRequestID"):
            error = DarajaError(
                "M-Pesa did not accept the payment request. Please try again.",
                code=str(body.get("ResponseCode", "")),
                http_status=status,
                response_body=body,
            )
            error.exchange = exchange
            raise error
        return StkPushAccepted(
            merchant_request_id=str(body.get("MerchantRequestID", "")),
            checkout_request_id=str(body["CheckoutRequestID"]),
            exchange=exchange,
        )

    def stk_query(self, *, checkout_request_id: str) -> StkQueryAnswer:
        """Ask how a push ended. Never a verdict while M-Pesa is still processing (4999 or 500.001.1001)."""
        secret_fields, shown_fields = self._password_fields()
        recorded = {**shown_fields, "CheckoutRequestID": checkout_request_id}
        try:
            status, body = self._post(
                STK_QUERY_PATH,
                {**secret_fields, "CheckoutRequestID": checkout_request_id},
                recorded=recorded,
                retries_on_network_error=1,
            )
        except DarajaError as error:
            if (
                error.code in {"500.001.1001", "timeout", "unreachable", "500.003.02", "500.003.03"}
                or (error.http_status or 0) >= 500
            ):
                exchange = getattr(error, "exchange", None) or Exchange(
                    STK_QUERY_PATH, recorded, error.http_status, error.response_body
                )
                return StkQueryAnswer(final=False, result_desc=error.message, exchange=exchange)
            raise
        exchange = Exchange(STK_QUERY_PATH, recorded, status, body)
        result_code = str(body.get("ResultCode", "")).strip()
        if not result_code or result_code == STILL_PROCESSING:
            return StkQueryAnswer(
                final=False, result_code=result_code, result_desc=str(body.get("ResultDesc", "")), exchange=exchange
            )
        return StkQueryAnswer(
            final=True, result_code=result_code, result_desc=str(body.get("ResultDesc", "")), exchange=exchange
        )

    # -- Transaction Status and Reversal (support console) ----------------------------------------------

    def _async_request(self, path: str, payload: dict) -> AsyncAccepted:
        recorded = {
            **payload,
            "SecurityCredential": "<redacted>",
            "ResultURL": mask_payment_tokens(payload["ResultURL"]),
            "QueueTimeOutURL": mask_payment_tokens(payload["QueueTimeOutURL"]),
        }
        status, body = self._post(path, payload, recorded=recorded)
        exchange = Exchange(path, recorded, status, body)
        if str(body.get("ResponseCode")) != "0":
            error = DarajaError(
                "M-Pesa did not accept the request.", code=str(body.get("ResponseCode", "")), response_body=body
            )
            error.exchange = exchange
            raise error
        return AsyncAccepted(
            conversation_id=str(body.get("ConversationID", "")),
            originator_conversation_id=str(body.get("OriginatorConversationID", "")),
            exchange=exchange,
        )

    def transaction_status(
        self, *, receipt: str, result_url: str, timeout_url: str, remarks: str, original_conversation_id: str = ""
    ) -> AsyncAccepted:
        return self._async_request(
            TRANSACTION_STATUS_PATH,
            {
                "Initiator": self.config.initiator_name,
                "SecurityCredential": self.config.security_credential,
                "CommandID": TRANSACTION_STATUS_COMMAND,
                "TransactionID": receipt,
                "OriginalConversationID": original_conversation_id,
                "PartyA": self.config.shortcode,
                "IdentifierType": "4",
                "ResultURL": result_url,
                "QueueTimeOutURL": timeout_url,
                "Remarks": remarks[:100] or "Status check",
                "Occasion": "",
            },
        )

    def reversal(
        self, *, receipt: str, amount_kes: int, result_url: str, timeout_url: str, remarks: str
    ) -> AsyncAccepted:
        return self._async_request(
            REVERSAL_PATH,
            {
                "Initiator": self.config.initiator_name,
                "SecurityCredential": self.config.security_credential,
                "CommandID": REVERSAL_COMMAND,
                "TransactionID": receipt,
                "Amount": str(amount_kes),
                "ReceiverParty": self.config.shortcode,
                "RecieverIdentifierType": "11",  # Daraja's spelling; the correct one is rejected
                "ResultURL": result_url,
                "QueueTimeOutURL": timeout_url,
                "Remarks": remarks[:100] or "Refund",
                "Occasion": "",
            },
        )


def daraja() -> DarajaClient:
    """The Daraja client every payment service calls through (STK Push and Query, Reversal, Transaction Status):
    the one seam where tests put a fake Daraja."""
    return DarajaClient()


def new_token() -> str:
    """A random URL-safe token for callback and result URLs (128 bits)."""
    return secrets.token_hex(16)
