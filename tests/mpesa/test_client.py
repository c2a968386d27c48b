"""The Daraja client against every wire vector, served over real HTTP by a small replay server.

Each test says what Daraja answers; the table at the top maps each vector to what the client must do.
"""

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache

from mpesa import client as client_module
from mpesa.client import DarajaClient, DarajaConfig, DarajaError, stk_password
from tests.helpers.waiting import wait_for
from tests.vectors import vector

pytestmark = pytest.mark.django_db

PUSH = "/mpesa/stkpush/v1/processrequest"
QUERY = "/mpesa/stkpushquery/v1/query"
OAUTH = "/oauth/v1/generate"
PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"


class ReplayDaraja:
    """Answers each path with the next queued (status, body) and remembers every request."""

    def __init__(self):
        self.answers: dict[str, list] = {}
        self.requests: list[dict] = []
        self.answered = 0  # requests whose handler has finished (answered, or found the client gone)
        self.delay = 0.0
        answered_lock = threading.Lock()
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?")[0]
                replay.requests.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                )
                try:
                    # A slow Daraja: the delay is what the timeout test is about, so it really elapses.
                    time.sleep(replay.delay)
                    queue = replay.answers.get(path) or [(404, vector("error_resource_not_found"))]
                    status, payload = queue.pop(0) if len(queue) > 1 else queue[0]
                    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "text/html" if isinstance(payload, bytes) else "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    with answered_lock:
                        replay.answered += 1

            do_GET = do_POST = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def on(self, path: str, *answers):
        self.answers[path] = list(answers)

    def sent(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["path"].split("?")[0] == path]


@pytest.fixture
def daraja():
    replay = ReplayDaraja()
    replay.on(OAUTH, (200, vector("oauth_response")))
    yield replay
    replay.server.shutdown()


@pytest.fixture
def client(daraja):
    cache.clear()
    config = DarajaConfig(
        base_url=daraja.url,
        consumer_key="key",
        consumer_secret="secret",
        shortcode="174379",
        passkey=PASSKEY,
        initiator_name="testapi",
        security_credential="credential",
    )
    return DarajaClient(config)


def push(client):
    return client.stk_push(
        amount_kes=4500,
        phone="254708374149",
        callback_url="https://nexus.example/payments/stk-callback/9cf2574c19af21254ef5911d03958d3e/",
        account_reference="NX7K4Q9P",
        description="Booking 7K4Q9P",
    )


def test_push_request_has_the_wire_shape(client, daraja):
    daraja.on(PUSH, (200, vector("stk_push_response_ok")))
    accepted = push(client)
    assert accepted.checkout_request_id == "ws_CO_20112026140513482708374149"
    sent = daraja.sent(PUSH)[0]
    body = json.loads(sent["body"])
    assert set(body) == set(vector("stk_push_request"))
    assert sent["headers"]["Content-Type"] == "application/json"
    assert sent["headers"]["Authorization"] == "Bearer QpoT4w5UQnFAALJZnRSw4OWY8QtR"
    assert len(body["Timestamp"]) == 14 and body["Timestamp"].isdigit()
    assert body["Password"] == stk_password(shortcode="174379", passkey=PASSKEY, timestamp=body["Timestamp"])
    assert (body["PartyA"], body["PhoneNumber"], body["Amount"], body["BusinessShortCode"]) == (
        254708374149,
        254708374149,
        4500,
        174379,
    )
    assert len(body["AccountReference"]) <= 12 and len(body["TransactionDesc"]) <= 13
    # The ledger's copy of the request keeps no secret.
    assert accepted.exchange.request_body["Password"] == "<redacted>"


def test_oauth_uses_basic_auth_and_the_token_is_cached(client, daraja):
    daraja.on(PUSH, (200, vector("stk_push_response_ok")))
    push(client)
    push(client)
    oauth = daraja.sent(OAUTH)
    assert len(oauth) == 1
    assert oauth[0]["path"] == "/oauth/v1/generate?grant_type=client_credentials"
    assert oauth[0]["headers"]["Authorization"] == "Basic " + base64.b64encode(b"key:secret").decode()


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ((400, vector("oauth_error_invalid_authentication")), "400.008.01"),
        ((400, vector("oauth_error_invalid_grant_type")), "400.008.02"),
        ((400, b""), "oauth_rejected"),  # wrong key/secret: an empty body
        ((403, b"<html><body>Request blocked</body></html>"), "http_403"),  # the WAF in front of Daraja
    ],
)
def test_oauth_errors(client, daraja, answer, code):
    daraja.on(OAUTH, answer)
    with pytest.raises(DarajaError) as excinfo:
        client.access_token()
    assert excinfo.value.code == code
    assert "M-Pesa" in excinfo.value.message


@pytest.mark.parametrize(
    ("vector_name", "status", "code", "words"),
    [
        ("stk_push_error_invalid_phone", 400, "400.002.02", "invalid phonenumber"),
        ("stk_push_error_invalid_timestamp", 400, "400.002.02", "invalid timestamp"),
        ("stk_push_error_invalid_amount", 400, "400.002.02", "invalid amount"),
        ("stk_push_error_invalid_callbackurl", 400, "400.002.02", "invalid callbackurl"),
        ("stk_push_error_invalid_shortcode", 400, "400.002.02", "invalid businessshortcode"),
        ("stk_push_error_wrong_credentials", 500, "500.001.1001", "wrong credentials"),
        ("stk_push_error_merchant_not_exist", 500, "500.001.1001", "merchant does not exist"),
        ("stk_push_error_subscriber_locked", 500, "500.001.1001", "already has an M-Pesa request open"),
        ("error_invalid_payload", 400, "400.002.05", "400.002.05"),
        ("error_spike_arrest", 500, "500.003.02", "busy"),
        ("error_quota_violation", 500, "500.003.03", "busy"),
        ("error_resource_not_found", 404, "404.001.01", "404.001.01"),
    ],
)
def test_push_errors_carry_the_code_and_a_safe_message(client, daraja, vector_name, status, code, words):
    daraja.on(PUSH, (status, vector(vector_name)))
    with pytest.raises(DarajaError) as excinfo:
        push(client)
    error = excinfo.value
    assert (error.code, error.http_status) == (code, status)
    assert words in error.message.lower() or words in error.message
    assert error.exchange.response_body == vector(vector_name)
    assert len(daraja.sent(PUSH)) == 1  # never retried


def test_an_invalid_token_is_renewed_once(client, daraja):
    daraja.on(PUSH, (404, vector("error_invalid_token")), (200, vector("stk_push_response_ok")))
    assert push(client).checkout_request_id == "ws_CO_20112026140513482708374149"
    assert len(daraja.sent(OAUTH)) == 2 and len(daraja.sent(PUSH)) == 2


def test_a_token_rejected_twice_is_an_error(client, daraja):
    daraja.on(PUSH, (404, vector("error_invalid_token")))
    with pytest.raises(DarajaError) as excinfo:
        push(client)
    assert excinfo.value.code == "404.001.03"
    assert len(daraja.sent(PUSH)) == 2


def test_a_push_that_times_out_is_not_retried(client, daraja, monkeypatch):
    monkeypatch.setattr(client_module, "TIMEOUT", (2, 0.3))
    daraja.on(PUSH, (200, vector("stk_push_response_ok")))
    client.access_token()
    daraja.delay = 0.6
    with pytest.raises(DarajaError) as excinfo:
        push(client)
    assert excinfo.value.code == "timeout"
    daraja.delay = 0
    # The slow answer has gone out (or found the client gone): a retry would be on record by now.
    wait_for(lambda: daraja.answered == len(daraja.requests))
    assert len(daraja.sent(PUSH)) == 1


def test_unreachable_daraja_is_a_clear_error(settings):
    config = DarajaConfig(
        base_url="http://127.0.0.1:1", consumer_key="k", consumer_secret="s", shortcode="174379", passkey="p"
    )
    with pytest.raises(DarajaError) as excinfo:
        push(DarajaClient(config))
    assert excinfo.value.code == "unreachable"


@pytest.mark.parametrize(
    ("answer", "final", "code"),
    [
        ((200, "stk_query_response_ok"), True, "0"),
        ((200, "stk_query_response_cancelled_1032"), True, "1032"),
        ((200, "stk_query_response_timeout_1037"), True, "1037"),
        ((200, "stk_query_response_processing_4999"), False, "4999"),
        ((500, "stk_query_pending_error"), False, ""),
        ((500, "stk_query_error_not_found"), False, ""),
        ((500, "error_spike_arrest"), False, ""),
    ],
)
def test_query_answers(client, daraja, answer, final, code):
    status, name = answer
    daraja.on(QUERY, (status, vector(name)))
    result = client.stk_query(checkout_request_id="ws_CO_20112026140513482708374149")
    assert (result.final, result.result_code) == (final, code)
    sent = json.loads(daraja.sent(QUERY)[0]["body"])
    assert set(sent) == set(vector("stk_query_request"))


def test_query_result_code_is_read_as_text_whatever_its_type(client, daraja):
    answer = {**vector("stk_query_response_ok"), "ResultCode": 0}
    daraja.on(QUERY, (200, answer))
    assert client.stk_query(checkout_request_id="x").result_code == "0"


def test_transaction_status_and_reversal_are_acknowledged(client, daraja):
    daraja.on("/mpesa/transactionstatus/v1/query", (200, vector("transaction_status_response_ok")))
    daraja.on("/mpesa/reversal/v1/request", (200, vector("reversal_response_ok")))
    status = client.transaction_status(
        receipt="UKK4H7TQ2M",
        result_url="https://x/payments/result/a/",
        timeout_url="https://x/payments/timeout/a/",
        remarks="Check",
    )
    reversal = client.reversal(
        receipt="UKK4H7TQ2M",
        amount_kes=4500,
        result_url="https://x/payments/result/b/",
        timeout_url="https://x/payments/timeout/b/",
        remarks="Refund",
    )
    assert status.conversation_id.startswith("AG_") and reversal.conversation_id.startswith("AG_")
    sent_status = json.loads(daraja.sent("/mpesa/transactionstatus/v1/query")[0]["body"])
    sent_reversal = json.loads(daraja.sent("/mpesa/reversal/v1/request")[0]["body"])
    assert set(sent_status) == set(vector("transaction_status_request"))
    assert set(sent_reversal) == set(vector("reversal_request"))
    assert sent_reversal["RecieverIdentifierType"] == "11"
    assert status.exchange.request_body["SecurityCredential"] == "<redacted>"
