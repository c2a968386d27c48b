"""Bodies PostgreSQL cannot store as JSON, and bodies too large to keep whole: each is recorded byte for byte (up to
the limit), answered with the acknowledgement, and decides nothing."""

import json

import pytest

from mpesa.models import Payment, PaymentEvent
from mpesa.services import RAW_BODY_LIMIT
from reservations.models import Booking
from tests.helpers.payments import failure_callback, success_callback

pytestmark = pytest.mark.django_db

ACK = {"ResultCode": 0, "ResultDesc": "Accepted"}
UNKNOWN_TOKEN = "0" * 32


def _with(body: dict, raw_value: str) -> bytes:
    """The body with one extra entry in stkCallback written as raw JSON (Python's json would write it the same)."""
    text = json.dumps(body)
    marker = '"stkCallback": {'
    assert marker in text
    return text.replace(marker, f'{marker}"Extra": {raw_value}, ', 1).encode()


# Each is JSON that Python's parser accepts and PostgreSQL's jsonb refuses.
UNSTORABLE = {
    "nan": "NaN",
    "infinity": "Infinity",
    "minus-infinity": "-Infinity",
    "overflowing-number": "1e999",
    "lone-high-surrogate": '"\\ud800"',
    "lone-low-surrogate": '"abc\\udfff"',
    "surrogate-in-a-key": '{"\\udbff": 1}',
}


@pytest.fixture(params=["success", "failure"])
def verdict_body(request):
    """A genuine verdict for the payment: were its body stored and read, the payment would move."""

    def _body(payment: Payment) -> dict:
        if request.param == "success":
            return success_callback(payment)
        return failure_callback(payment, "stk_callback_cancelled_1032")

    return _body


@pytest.mark.parametrize("value", UNSTORABLE.values(), ids=UNSTORABLE.keys())
def test_unstorable_json_is_recorded_byte_for_byte_and_decides_nothing(
    pending_payment, post_callback, verdict_body, value
):
    payment = pending_payment()
    raw = _with(verdict_body(payment), value)
    response = post_callback(payment, None, raw=raw)
    assert response.status_code == 200 and response.json() == ACK
    event = payment.events.get(kind=PaymentEvent.Kind.CALLBACK)
    assert bytes(event.raw_bytes) == raw and event.raw_size == len(raw)
    assert event.body is None
    assert event.raw_body == raw.decode()  # the readable form, escapes as they arrived
    assert "cannot be stored as JSON" in event.message
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert Booking.objects.get(pk=payment.booking_id).status == Booking.Status.AWAITING_PAYMENT
    assert payment.events.filter(kind=PaymentEvent.Kind.DECISION, message__startswith="Not an STK callback").exists()


@pytest.mark.parametrize("value", UNSTORABLE.values(), ids=UNSTORABLE.keys())
def test_unstorable_json_for_an_unknown_token_is_recorded(pending_payment, post_callback, value):
    payment = pending_payment()
    raw = _with(success_callback(payment), value)
    response = post_callback(UNKNOWN_TOKEN, None, raw=raw)
    assert response.status_code == 200 and response.json() == ACK
    event = PaymentEvent.objects.get(kind=PaymentEvent.Kind.UNMATCHED)
    assert bytes(event.raw_bytes) == raw and event.body is None and event.path_token == UNKNOWN_TOKEN
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


def test_storable_json_is_kept_parsed_beside_its_bytes(pending_payment, post_callback):
    payment = pending_payment()
    raw = json.dumps(failure_callback(payment, "stk_callback_cancelled_1032"), indent=1).encode()
    assert post_callback(payment, None, raw=raw).json() == ACK
    event = payment.events.get(kind=PaymentEvent.Kind.CALLBACK)
    assert bytes(event.raw_bytes) == raw and event.raw_size == len(raw) and event.message == ""
    assert event.body == json.loads(raw)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED  # an ordinary verdict still counts


@pytest.mark.parametrize("token", ["known", "unknown"])
@pytest.mark.parametrize("size", [RAW_BODY_LIMIT + 1, 3 * 1024 * 1024])  # past the limit; past Django's 2.5 MB
def test_a_body_past_the_limit_is_cut_says_so_and_decides_nothing(pending_payment, post_callback, token, size):
    payment = pending_payment()
    text = json.dumps(success_callback(payment))
    raw = (text[:-1] + ', "Padding": "' + "x" * size + '"}').encode()[: size - 2] + b'"}'
    assert len(raw) == size
    response = post_callback(payment if token == "known" else UNKNOWN_TOKEN, None, raw=raw)
    assert response.status_code == 200 and response.json() == ACK
    event = PaymentEvent.objects.get(kind__in=[PaymentEvent.Kind.CALLBACK, PaymentEvent.Kind.UNMATCHED])
    assert bytes(event.raw_bytes) == raw[:RAW_BODY_LIMIT] and event.raw_size == size
    assert f"first {RAW_BODY_LIMIT:,} of {size:,} bytes" in event.message
    assert event.body is None and len(event.raw_body) == RAW_BODY_LIMIT
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


@pytest.mark.parametrize("raw", [b"[" * 100_000, b'{"a":' * 20_000 + b"1" + b"}" * 20_000, b"[" * 900 + b"]" * 900])
def test_deeply_nested_json_is_recorded_without_a_500(pending_payment, post_callback, raw):
    payment = pending_payment()
    response = post_callback(payment, None, raw=raw)
    assert response.status_code == 200 and response.json() == ACK
    event = payment.events.get(kind=PaymentEvent.Kind.CALLBACK)
    assert bytes(event.raw_bytes) == raw[:RAW_BODY_LIMIT]
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
