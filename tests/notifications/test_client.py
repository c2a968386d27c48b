"""The Africa's Talking client against the documented wire format, over real HTTP to a small replay server: the
request it sends, and what it makes of each answer (sent, refused so safe to repeat, or unknown so never repeated)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from core.africastalking_wire import AUDIENCE_HEADER, EMULATOR_API_KEY
from notifications.client import (
    PRODUCTION_URL,
    REFUSED,
    SANDBOX_URL,
    SENT,
    UNKNOWN,
    SmsClient,
    SmsConfig,
    read_answer,
)
from tests.vectors.africastalking import ENDPOINTS, INDEX, at_vector


class ReplayAfricasTalking:
    """Answers every request with the queued (status, body) and remembers each request."""

    def __init__(self):
        self.answer: tuple[int, bytes, str] = (201, b"{}", "application/json")
        self.requests: list[dict] = []
        self.delay = 0.0
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                replay.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                time.sleep(replay.delay)  # a slow Africa's Talking: the delay is what the timeout test is about
                status, data, content_type = replay.answer
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def answer_with(self, status: int, body: dict | str, content_type: str = "application/json"):
        data = (json.dumps(body) if isinstance(body, dict) else body).encode()
        self.answer = (status, data, content_type)


@pytest.fixture
def replay():
    server = ReplayAfricasTalking()
    yield server
    server.server.shutdown()
    server.server.server_close()


def _client(url: str, **overrides) -> SmsClient:
    config = {"env": "sandbox", "base_url": url, "username": "sandbox", "api_key": "MyAppApiKey", "read_timeout": 2.0}
    return SmsClient(SmsConfig(**{**config, **overrides}))


def _form(body: bytes) -> dict:
    return {name: values[0] for name, values in parse_qs(body.decode(), keep_blank_values=True).items()}


def test_the_request_is_the_documented_one(replay):
    replay.answer_with(201, at_vector("send_response_sent"))
    client = _client(replay.url, username="MyAppUsername", sender_id="myShortCode")
    client.send(to="+254711XXXYYY", message="Hello World!")
    (request,) = replay.requests
    documented = INDEX["send_request"]
    assert request["path"] == "/version1/messaging"
    for name, value in documented["headers"].items():
        assert request["headers"][name] == value, name
    expected = _form(at_vector("send_request").encode())
    expected["to"] = "+254711XXXYYY"  # one recipient per request: each notification is its own
    assert _form(request["body"]) == expected
    assert AUDIENCE_HEADER not in request["headers"]


def test_from_is_left_out_without_a_sender_id_and_the_audience_goes_to_the_emulator_only(replay):
    replay.answer_with(201, at_vector("send_response_sent"))
    _client(replay.url).send(to="+254711XXXYYY", message="Hi", audience="signed")
    _client(replay.url, env="emulator").send(to="+254711XXXYYY", message="Hi", audience="signed")
    first, second = replay.requests
    assert "from" not in _form(first["body"]) and AUDIENCE_HEADER not in first["headers"]
    assert second["headers"][AUDIENCE_HEADER] == "signed"


def test_the_documented_answer_is_a_sent_message_with_its_id_and_cost(replay):
    replay.answer_with(201, at_vector("send_response_sent"))
    answer = _client(replay.url).send(to="+254711XXXYYY", message="Hello World!")
    assert (answer.outcome, answer.status_code, answer.status) == (SENT, 101, "Success")
    assert (answer.message_id, answer.cost, answer.http_status) == ("ATPid_SampleTxnId123", "KES 0.8000", 201)
    assert answer.request == {
        "url": "/version1/messaging",
        "username": "sandbox",
        "to": "+254711XXXYYY",
        "message_chars": 12,
    }  # never the key, never the text


@pytest.mark.parametrize(
    ("vector", "status", "outcome", "retryable"),
    [
        ("send_response_sent", 201, SENT, False),
        ("send_response_refused_dnd", 201, REFUSED, True),
        ("send_response_no_recipients", 201, REFUSED, False),  # InvalidSenderId: asking again cannot help
        ("send_error_invalid_authentication", 401, REFUSED, True),
    ],
)
def test_each_documented_answer_is_read(vector, status, outcome, retryable):
    body = at_vector(vector)
    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    answer = read_answer(http_status=status, content=content, to="+2348XXXXXXX")
    assert (answer.outcome, answer.retryable) == (outcome, retryable)


@pytest.mark.parametrize(
    ("code", "outcome", "retryable"),
    [
        (100, SENT, False),
        (101, SENT, False),
        (102, SENT, False),
        (401, REFUSED, True),
        (402, REFUSED, False),
        (403, REFUSED, False),
        (404, REFUSED, False),
        (405, REFUSED, True),
        (406, REFUSED, False),
        (407, REFUSED, True),
        (409, REFUSED, True),
        (500, REFUSED, True),
        (501, REFUSED, True),
        (502, REFUSED, True),
        (999, UNKNOWN, False),  # a code nobody documents: the message may have gone out
        ("101", SENT, False),  # some answers carry it as a string
    ],
)
def test_each_status_code_decides_the_outcome(code, outcome, retryable):
    recipient = {"statusCode": code, "number": "+254712345678", "status": "x", "cost": "0", "messageId": "ATXid_1"}
    body = {"SMSMessageData": {"Message": "x", "Recipients": [recipient]}}
    answer = read_answer(http_status=201, content=json.dumps(body).encode(), to="+254712345678")
    assert (answer.outcome, answer.retryable) == (outcome, retryable)


@pytest.mark.parametrize(
    ("status", "content"),
    [
        (500, b"Internal Server Error"),
        (502, b"<html>Bad gateway</html>"),
        (503, b""),
        (201, b"<html>not json</html>"),
        (201, b'{"SMSMessageData": {"Message": "x"}}'),
        (201, b'{"SMSMessageData": {"Recipients": "nobody"}}'),
        (201, b"[]"),
        (200, b'<?xml version="1.0"?><AfricasTalkingResponse/>'),
        (302, b""),
    ],
)
def test_an_answer_that_proves_nothing_is_unknown(status, content):
    answer = read_answer(http_status=status, content=content, to="+254712345678")
    assert answer.outcome == UNKNOWN and not answer.retryable


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 429])
def test_an_http_refusal_is_refused_and_may_be_asked_again(status):
    answer = read_answer(http_status=status, content=b"Bad Request", to="+254712345678")
    assert (answer.outcome, answer.retryable) == (REFUSED, True)


def test_a_slow_answer_is_unknown(replay):
    replay.answer_with(201, at_vector("send_response_sent"))
    replay.delay = 1.5
    started = time.monotonic()
    answer = _client(replay.url, read_timeout=0.3).send(to="+254711XXXYYY", message="Hi")
    assert answer.outcome == UNKNOWN and "did not answer in time" in answer.error
    assert time.monotonic() - started < 1.4  # the client did not wait for the answer
    assert len(replay.requests) == 1


def test_nothing_listening_is_refused_because_nothing_was_sent(replay):
    url = replay.url
    replay.server.shutdown()
    replay.server.server_close()
    answer = _client(url).send(to="+254711XXXYYY", message="Hi")
    assert (answer.outcome, answer.retryable) == (REFUSED, True)


def test_the_base_url_and_username_follow_the_environment(settings):
    settings.AT_BASE_URL = settings.AT_USERNAME = settings.AT_API_KEY = ""
    settings.SITE_URL = "https://nexus.example/"
    expected = {
        "sandbox": (SANDBOX_URL, "sandbox", ""),
        "production": (PRODUCTION_URL, "", ""),
        "emulator": ("https://nexus.example/africastalking", "sandbox", EMULATOR_API_KEY),
    }
    for env, values in expected.items():
        settings.SMS_ENV = env
        config = SmsConfig.from_settings()
        assert (config.base_url, config.username, config.api_key) == values, env
    settings.AT_BASE_URL, settings.AT_USERNAME, settings.AT_API_KEY = "https://at.example/", "nexus", "k"
    config = SmsConfig.from_settings()
    assert (config.base_url, config.username, config.api_key) == ("https://at.example", "nexus", "k")


def test_the_documented_hosts_are_the_defaults():
    assert ENDPOINTS == {
        "production": PRODUCTION_URL + "/version1/messaging",
        "sandbox": SANDBOX_URL + "/version1/messaging",
    }


def test_without_a_base_url_nothing_is_sent_and_nothing_is_tried_again():
    answer = _client("").send(to="+254711XXXYYY", message="Hi")
    assert (answer.outcome, answer.retryable) == (REFUSED, False) and "not set up" in answer.error
