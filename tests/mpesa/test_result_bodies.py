"""Result and timeout callbacks whose JSON PostgreSQL cannot store: recorded byte for byte, answered with the
acknowledgement, shown to staff, and deciding nothing for the refund or Transaction Status request they name."""

import copy
import json

import pytest

from mpesa.models import Payment, PaymentEvent, Refund, StatusRequest
from support.services import payment_query_status, refund_request
from tests.vectors import vector

pytestmark = pytest.mark.django_db

ACK = {"ResultCode": 0, "ResultDesc": "Accepted"}
UNSTORABLE = {
    "nan": "NaN",
    "infinity": "Infinity",
    "minus-infinity": "-Infinity",
    "lone-surrogate": '"\\ud800"',
    "surrogate-in-a-key": '{"\\udc00": "x"}',
}


def _with(body: dict, raw_value: str) -> bytes:
    """The body with one extra entry in Result written as raw JSON."""
    text = json.dumps(body)
    marker = '"Result": {'
    assert marker in text
    return text.replace(marker, f'{marker}"Extra": {raw_value}, ', 1).encode()


def _reversal_success(amount: int) -> dict:
    body = copy.deepcopy(vector("reversal_result_success"))
    for item in body["Result"]["ResultParameters"]["ResultParameter"]:
        if item["Key"] == "Amount":
            item["Value"] = float(amount)
    return body


def _status_success(*, receipt: str, amount: int) -> dict:
    body = copy.deepcopy(vector("transaction_status_result_success"))
    params = {p["Key"]: p for p in body["Result"]["ResultParameters"]["ResultParameter"]}
    params["ReceiptNo"]["Value"] = receipt
    params["Amount"]["Value"] = float(amount)
    params["DebitPartyName"]["Value"] = "0708374149 - GRACE GUEST"
    return body


@pytest.fixture
def sent_refund(agent, paid_payment, daraja):
    payment = paid_payment()
    refund = refund_request(
        actor=agent, payment_id=payment.pk, amount_kes=5_000, method="reversal", reason="Goodwill", key="r" * 12
    )
    assert refund.status == Refund.Status.SENT
    return refund


@pytest.fixture
def sent_status_request(agent, pending_payment, daraja):
    payment = pending_payment()
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.UNKNOWN)
    request = payment_query_status(actor=agent, payment_id=payment.pk, receipt="UKK4H7TQ2M", reason="Why", key="s" * 12)
    assert request.status == StatusRequest.Status.SENT
    return request


def _assert_recorded(response, raw: bytes, token: str) -> PaymentEvent:
    assert response.status_code == 200 and response.json() == ACK
    event = PaymentEvent.objects.get(kind=PaymentEvent.Kind.RESULT)
    assert bytes(event.raw_bytes) == raw and event.raw_size == len(raw) and event.path_token == token
    assert event.body is None and event.raw_body == raw.decode()
    assert "cannot be stored as JSON" in event.message
    return event


@pytest.mark.parametrize("path", ["result", "timeout"])
@pytest.mark.parametrize("value", UNSTORABLE.values(), ids=UNSTORABLE.keys())
def test_a_reversal_result_that_cannot_be_stored_as_json_refunds_nothing(sent_refund, post_result, path, value):
    raw = _with(_reversal_success(5_000), value)
    _assert_recorded(post_result(sent_refund.result_token, None, raw=raw, path=path), raw, sent_refund.result_token)
    sent_refund.refresh_from_db()
    assert sent_refund.status == Refund.Status.SENT and sent_refund.reversal_receipt == ""
    assert sent_refund.booking.refunded_kes == 0


@pytest.mark.parametrize("path", ["result", "timeout"])
@pytest.mark.parametrize("value", UNSTORABLE.values(), ids=UNSTORABLE.keys())
def test_a_transaction_status_result_that_cannot_be_stored_as_json_settles_nothing(
    sent_status_request, post_result, path, value
):
    payment = sent_status_request.payment
    raw = _with(_status_success(receipt="UKK4H7TQ2M", amount=payment.amount_kes), value)
    token = sent_status_request.result_token
    _assert_recorded(post_result(token, None, raw=raw, path=path), raw, token)
    sent_status_request.refresh_from_db()
    payment.refresh_from_db()
    assert sent_status_request.status == StatusRequest.Status.SENT
    assert payment.status == Payment.Status.UNKNOWN and payment.receipt is None


@pytest.mark.parametrize("path", ["result", "timeout"])
@pytest.mark.parametrize("value", UNSTORABLE.values(), ids=UNSTORABLE.keys())
def test_a_result_for_an_unknown_token_that_cannot_be_stored_as_json_is_recorded(sent_refund, post_result, path, value):
    raw = _with(_reversal_success(5_000), value)
    _assert_recorded(post_result("f" * 32, None, raw=raw, path=path), raw, "f" * 32)
    sent_refund.refresh_from_db()
    assert sent_refund.status == Refund.Status.SENT


def test_the_payment_page_shows_such_a_result_as_it_arrived(agent_client, sent_refund, post_result):
    raw = _with(_reversal_success(5_000), '"\\ud800"')
    post_result(sent_refund.result_token, None, raw=raw)
    page = agent_client.get(f"/support/payments/{sent_refund.payment_id}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "&quot;Extra&quot;: &quot;\\ud800&quot;" in html and "cannot be stored as JSON" in html


@pytest.mark.parametrize("path", ["result", "timeout"])
def test_a_result_past_django_s_upload_limit_is_recorded_cut(sent_refund, post_result, path):
    size = 3 * 1024 * 1024
    text = json.dumps(_reversal_success(5_000))
    raw = (text[:-1] + ', "Padding": "' + "x" * size).encode()[: size - 2] + b'"}'
    response = post_result(sent_refund.result_token, None, raw=raw, path=path)
    assert response.status_code == 200 and response.json() == ACK
    event = PaymentEvent.objects.get(kind=PaymentEvent.Kind.RESULT)
    assert len(event.raw_bytes) == 64 * 1024 and bytes(event.raw_bytes) == raw[: 64 * 1024]
    assert event.raw_size == size and f"of {size:,} bytes" in event.message and event.body is None
    sent_refund.refresh_from_db()
    assert sent_refund.status == Refund.Status.SENT
