"""Helpers for the emulator's tests: requests shaped like the vectors, a real callback receiver, shape checks."""

import base64
import copy
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from core.daraja_wire import (
    EMULATOR_CONSUMER_KEY,
    EMULATOR_CONSUMER_SECRET,
    SANDBOX_PASSKEY,
    daraja_timestamp,
    stk_password,
)
from tests.vectors import VECTORS, vector

TOKEN_RE = re.compile(r"^[A-Za-z0-9]{28}$")
MERCHANT_REQUEST_ID_RE = re.compile(r"^[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}[0-9]{5,7}$")
CHECKOUT_REQUEST_ID_RE = re.compile(
    r"^ws_CO_(?P<date>[0-9]{8})(?P<time>[0-9]{6})(?P<millis>[0-9]{1,3})(?P<national>[0-9]{9})$"
)
RECEIPT_RE = re.compile(r"^[A-Z][A-L][1-9A-V][A-Z0-9]{7}$")

INDEX = {entry["name"]: entry for entry in json.loads((VECTORS / "index.json").read_text())["vectors"]}

BASIC = "Basic " + base64.b64encode(f"{EMULATOR_CONSUMER_KEY}:{EMULATOR_CONSUMER_SECRET}".encode()).decode()
PUSH = "/daraja/mpesa/stkpush/v1/processrequest"
QUERY = "/daraja/mpesa/stkpushquery/v1/query"
STATUS = "/daraja/mpesa/transactionstatus/v1/query"
REVERSAL = "/daraja/mpesa/reversal/v1/request"
OAUTH = "/daraja/oauth/v1/generate?grant_type=client_credentials"


def assert_same_shape(actual, expected, where="body"):
    """Same keys at every level and the same JSON types (any number matches any number)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r} is not an object"
        assert set(actual) == set(expected), f"{where}: keys {sorted(actual)} != {sorted(expected)}"
        for key, value in expected.items():
            assert_same_shape(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: {actual!r}"
        for index, (item, model) in enumerate(zip(actual, expected, strict=True)):
            assert_same_shape(item, model, f"{where}[{index}]")
    elif isinstance(expected, bool):
        assert isinstance(actual, bool), f"{where}: {actual!r}"
    elif isinstance(expected, int | float):
        assert isinstance(actual, int | float) and not isinstance(actual, bool), f"{where}: {actual!r} not a number"
    else:
        assert type(actual) is type(expected), f"{where}: {actual!r} is not a {type(expected).__name__}"


def assert_error_vector(response, name: str, *, request_id_re=MERCHANT_REQUEST_ID_RE):
    """The response is the named error vector: HTTP status, keys, types, code and message."""
    expected = vector(name)
    assert response.status_code == INDEX[name]["http_status"], response.content
    body = response.json()
    assert_same_shape(body, expected)
    assert (body["errorCode"], body["errorMessage"]) == (expected["errorCode"], expected["errorMessage"])
    assert request_id_re.match(body["requestId"]), body["requestId"]


def push_request(**overrides) -> dict:
    """The stk_push_request vector with a fresh timestamp and password, addressed to callback_url."""
    body = copy.deepcopy(vector("stk_push_request"))
    stamp = daraja_timestamp()
    body["Timestamp"] = stamp
    body["Password"] = stk_password(shortcode="174379", passkey=SANDBOX_PASSKEY, timestamp=stamp)
    body.update(overrides)
    return body


def query_request(checkout_request_id: str, **overrides) -> dict:
    body = copy.deepcopy(vector("stk_query_request"))
    stamp = daraja_timestamp()
    body["Timestamp"] = stamp
    body["Password"] = stk_password(shortcode="174379", passkey=SANDBOX_PASSKEY, timestamp=stamp)
    body["CheckoutRequestID"] = checkout_request_id
    body.update(overrides)
    return body


def for_phone(phone: str, callback_url: str, **overrides) -> dict:
    return push_request(PartyA=int(phone), PhoneNumber=int(phone), CallBackURL=callback_url, **overrides)


class Receiver:
    """A throwaway HTTP server in a thread that records every POST it gets (and the address it came from) and
    answers 200."""

    def __init__(self, status: int = 200, answer_after: float = 0.0):
        self.received: list[dict] = []
        self._condition = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                with receiver._condition:
                    receiver.received.append(
                        {
                            "path": self.path,
                            "headers": dict(self.headers.items()),
                            "raw": raw,
                            "at": time.monotonic(),
                            "client": self.client_address[0],
                        }
                    )
                    receiver._condition.notify_all()
                # A slow merchant: how long it holds its answer is what the test using it is about.
                time.sleep(answer_after)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ResultCode": 0, "ResultDesc": "Accepted"}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self._condition:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} POST(s), got {len(self.received)}")
                self._condition.wait(remaining)
            return list(self.received)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def metadata(callback_body: dict) -> dict:
    """CallbackMetadata items by Name (a name-only item maps to a marker)."""
    items = callback_body["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    return {item["Name"]: item.get("Value", "<no value>") for item in items}
