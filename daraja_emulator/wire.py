"""What travels on the wire: Daraja's error envelope, request checks in Daraja's order, and message bodies."""

import base64
import binascii
import datetime
import ipaddress
import json
import re
from urllib.parse import urlsplit

from django.conf import settings

from core.daraja_wire import STILL_PROCESSING, daraja_timestamp

from . import ids

_PHONE = re.compile(r"^254[71]\d{8}$")
_DIGITS = re.compile(r"^[0-9]+$")
TRANSACTION_TYPES = {"CustomerPayBillOnline", "CustomerBuyGoodsOnline"}
MAX_AMOUNT_KES = 999_999_999  # beyond any real limit; larger numbers are not amounts

# Callback wording per ResultCode (§3.2). The query uses the same words unless QUERY_DESC says otherwise.
CALLBACK_DESC = {
    "0": "The service request is processed successfully.",
    "1": "The balance is insufficient for the transaction.",
    "2": "Declined due to limit rule.",
    "3": "Declined due to limit rule: greater than the maximum transaction amount.",
    "4": "Declined due to limit rule: would exceed daily transfer limit.",
    "8": "Declined due to limit rule: would exceed the maximum balance.",
    "17": "Rule limited.",
    "26": "System busy. The service request is rejected.",
    "1001": "Unable to lock subscriber, a transaction is already in process for the current subscriber.",
    "1019": "Transaction has expired",
    "1025": "An error occurred while sending a push request.",
    "1032": "Request Cancelled by user.",
    "1036": "SMSC ACK timeout.",
    "1037": "DS timeout user cannot be reached.",
    "2001": "The initiator information is invalid.",
    "2028": "The request is not permitted according to product assignment.",
    "8006": "The security credential is locked.",
    "SFC_IC0003": "The operator does not exist.",
    "E3008": "Error, the user has a bad debt contract.",
}
QUERY_DESC = {"1019": "Transaction has expired."}
# An unanswered prompt: the callback and the query word the same 1037 differently (observed in 2026).
NO_RESPONSE_DESC = "No response from user."

QUERY_ACCEPTED = "The service request has been accepted successsfully"  # sic: three s's, as on the wire
PUSH_ACCEPTED = "Success. Request accepted for processing"
ASYNC_ACCEPTED = "Accept the service request successfully."
STILL_PROCESSING_DESC = "The transaction is still under processing"


class DarajaFault(Exception):
    """A synchronous Daraja error: the envelope {requestId, errorCode, errorMessage} with its HTTP status."""

    def __init__(self, http_status: int, error_code: str, error_message: str, *, request_id: str = ""):
        super().__init__(f"{error_code} {error_message}")
        self.http_status = http_status
        self.error_code = error_code
        self.error_message = error_message
        self.request_id = request_id or ids.merchant_request_id()

    def body(self) -> dict:
        return {"requestId": self.request_id, "errorCode": self.error_code, "errorMessage": self.error_message}


class EmptyBadRequest(Exception):
    """OAuth with a well-formed Basic header but unknown credentials: HTTP 400 with an empty body."""


def bad_request(field: str, *, code: str = "400.002.02") -> DarajaFault:
    return DarajaFault(400, code, f"Bad Request - Invalid {field}")


def result_code_value(code: str) -> int | str:
    """Numeric codes travel as JSON numbers in callbacks; alphanumeric ones (SFC_IC0003) as strings."""
    return int(code) if _DIGITS.match(code) else code


# -- reading a request -----------------------------------------------------------------------------------


def json_object(*, content_type: str, raw: bytes) -> dict:
    """The body as a JSON object, or the error Daraja gives for anything else."""
    if content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        # Daraja's parser looks for BusinessShortCode first and does not find it in a form body.
        raise bad_request("BusinessShortCode")
    if content_type != "application/json":
        raise DarajaFault(400, "400.002.05", "Invalid Request Payload")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise DarajaFault(400, "400.002.05", "Invalid Request Payload")
    if not isinstance(body, dict):
        raise DarajaFault(400, "400.002.05", "Invalid Request Payload")
    return body


def digits(value, *, min_length: int, max_length: int) -> str | None:
    """A number sent as a JSON number or a string of digits, as Daraja accepts both."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        return None
    if not (text.isascii() and _DIGITS.match(text)) or not min_length <= len(text) <= max_length:
        return None
    return text


def phone_number(value) -> str | None:
    text = digits(value, min_length=12, max_length=12)
    return text if text and _PHONE.match(text) else None


def amount(value) -> int | None:
    """Whole shillings, at least 1; decimals are refused."""
    text = digits(value, min_length=1, max_length=len(str(MAX_AMOUNT_KES)))
    if text is None or not 1 <= int(text) <= MAX_AMOUNT_KES:
        return None
    return int(text)


def timestamp(value) -> datetime.datetime | None:
    text = digits(value, min_length=14, max_length=14)
    if text is None:
        return None
    try:
        return datetime.datetime.strptime(text, "%Y%m%d%H%M%S")
    except ValueError:
        return None


def printable(text: str) -> str:
    """Text safe to store in any database: NUL (which PostgreSQL refuses) becomes U+FFFD."""
    return text.replace("\x00", "\ufffd")


def text_value(value, *, max_length: int | None = None, min_length: int = 1) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value)
    if "\x00" in text:
        return None
    if len(text.strip()) < min_length or (max_length is not None and len(text) > max_length):
        return None
    return text


def _local_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


DEFAULT_PORTS = {"http": 80, "https": 443}


def _authority(entry: str) -> tuple[str, int | None] | None:
    """("host", port or None) from "host" or "host:port" (an IPv6 address in brackets), or None when it is neither."""
    entry = entry.strip().lower()
    if not entry or any(c in entry for c in "/?#@") or any(c.isspace() for c in entry):
        return None
    try:
        parts = urlsplit("//" + entry)
        port = parts.port
    except ValueError:
        return None
    return (parts.hostname, port) if parts.hostname else None


def callback_target_allowed(*, scheme: str, host: str, port: int | None, allowed: list[str]) -> bool:
    """Whether host:port is named by an entry: "*" is any; "host" is that host on the scheme's default port;
    "host:port" is that port only."""
    port = port or DEFAULT_PORTS[scheme]
    for entry in allowed:
        if entry.strip() == "*":
            return True
        named = _authority(entry)
        if named is not None and named[0] == host and (named[1] or DEFAULT_PORTS[scheme]) == port:
            return True
    return False


def callback_url(value, *, reached_at: str) -> str | None:
    """An absolute https URL with a lower-case host that MPESA_EMULATOR_CALLBACK_HOSTS names, or when that is empty
    the authority this request reached the emulator at (`reached_at`, the Host header); plain http on a loopback or
    private host unless strict."""
    if not isinstance(value, str) or not value or len(value) > 2000:
        return None
    if any(c.isspace() or not c.isprintable() for c in value):
        return None
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        return None
    host = parts.hostname or ""
    raw_host = parts.netloc.rsplit("@", 1)[-1]
    if not host or "@" in parts.netloc or raw_host != raw_host.lower() or parts.scheme not in DEFAULT_PORTS:
        return None
    # A public demo must not become a way to make this server POST anywhere, nor to any port of its own machine:
    # callbacks go to our own site.
    allowed = settings.MPESA_EMULATOR_CALLBACK_HOSTS or [reached_at]
    if not callback_target_allowed(scheme=parts.scheme, host=host, port=port, allowed=allowed):
        return None
    if parts.scheme == "https":
        return value
    if parts.scheme == "http" and not settings.MPESA_EMULATOR_STRICT and _local_host(host):
        return value
    return None


def basic_credentials(authorization: str) -> tuple[str, str] | None:
    """key, secret from a Basic header; None when the header is not a well-formed Basic one."""
    scheme, _, encoded = authorization.partition(" ")
    if scheme != "Basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    key, colon, secret = decoded.partition(":")
    if not colon:
        return None
    return key, secret


# -- bodies the emulator sends ------------------------------------------------------------------------------


def stk_callback_body(push) -> dict:
    """§3.1: numbers where Daraja sends numbers, the name-only Balance item, metadata only on success."""
    callback = {
        "MerchantRequestID": push.merchant_request_id,
        "CheckoutRequestID": push.checkout_request_id,
        "ResultCode": result_code_value(push.result_code),
        "ResultDesc": push.result_desc,
    }
    if push.result_code == "0":
        callback["CallbackMetadata"] = {
            "Item": [
                {"Name": "Amount", "Value": push.amount_kes},
                {"Name": "MpesaReceiptNumber", "Value": push.receipt},
                {"Name": "Balance"},
                {"Name": "TransactionDate", "Value": int(daraja_timestamp(push.completed_at))},
                {"Name": "PhoneNumber", "Value": int(push.phone)},
            ]
        }
    return {"Body": {"stkCallback": callback}}


def stk_callback_headers(push) -> dict:
    return {"Content-Type": "application/json;charset=UTF-8", "BusinessShortCode": push.business_short_code}


def result_headers() -> dict:
    return {"Content-Type": "application/json;charset=UTF-8"}


def query_answer(push) -> dict:
    answer = {
        "ResponseCode": "0",
        "ResponseDescription": QUERY_ACCEPTED,
        "MerchantRequestID": push.merchant_request_id,
        "CheckoutRequestID": push.checkout_request_id,
    }
    if push.status == push.Status.PENDING:
        return answer | {"ResultCode": STILL_PROCESSING, "ResultDesc": STILL_PROCESSING_DESC}
    return answer | {"ResultCode": push.result_code, "ResultDesc": push.query_result_desc}
