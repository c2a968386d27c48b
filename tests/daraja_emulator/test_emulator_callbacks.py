"""The emulator's deliveries over real HTTP: callbacks POSTed by its background sender to a live receiver, once
(or as the number table says), in Daraja's exact shape; result callbacks for Reversal and Transaction Status."""

import datetime
import json
import threading
import time

import pytest
import requests

from core.daraja_wire import EAT
from daraja_emulator import dispatcher, ids, services
from daraja_emulator.models import Delivery, StkPush
from tests.daraja import emulator_idle
from tests.daraja_emulator.emulator_support import (
    BASIC,
    OAUTH,
    PUSH,
    QUERY,
    RECEIPT_RE,
    REVERSAL,
    STATUS,
    Receiver,
    assert_same_shape,
    for_phone,
    metadata,
    query_request,
)
from tests.helpers.waiting import wait_for
from tests.vectors import vector

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fast_emulator(settings):
    settings.MPESA_ENV = "emulator"
    settings.MPESA_CONSUMER_KEY = settings.MPESA_CONSUMER_SECRET = ""
    settings.MPESA_SHORTCODE = settings.MPESA_PASSKEY = ""
    settings.MPESA_INITIATOR_NAME = settings.MPESA_SECURITY_CREDENTIAL = ""
    settings.MPESA_EMULATOR_CALLBACK_DELAY_SECONDS = 0.2
    settings.MPESA_EMULATOR_TIMEOUT_SECONDS = 0.3
    settings.MPESA_EMULATOR_PROMPT_TIMEOUT_SECONDS = 30
    settings.MPESA_EMULATOR_LATE_CALLBACK_SECONDS = 1.5
    settings.MPESA_EMULATOR_RESULT_DELAY_SECONDS = 0.1
    settings.MPESA_EMULATOR_QUERY_NOT_FOUND_SECONDS = 0
    settings.MPESA_EMULATOR_DELIVERY_TIMEOUT_SECONDS = 2


@pytest.fixture
def daraja(client):
    """Calls the emulator as the client does: a token, then JSON POSTs with the Bearer header."""
    token = client.get(OAUTH, headers={"Authorization": BASIC}).json()["access_token"]

    def _post(path: str, body: dict):
        return client.post(
            path, data=json.dumps(body), content_type="application/json", headers={"Authorization": f"Bearer {token}"}
        )

    return _post


def _push(daraja, phone: str, url: str) -> dict:
    response = daraja(PUSH, for_phone(phone, url, Amount=4500))
    assert response.status_code == 200, response.content
    return response.json()


def test_a_success_callback_arrives_over_http_in_daraja_shape(live_server, receiver):
    """Everything over real HTTP: the client's calls to the emulator and the emulator's callback."""
    base = live_server.url + "/daraja"
    token = requests.get(
        base + "/oauth/v1/generate?grant_type=client_credentials", headers={"Authorization": BASIC}, timeout=5
    ).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    started = datetime.datetime.now(tz=datetime.UTC)
    answer = requests.post(
        base + "/mpesa/stkpush/v1/processrequest",
        timeout=5,
        headers=bearer,
        json=for_phone("254700000001", receiver.url + "/payments/stk-callback/abc123/"),
    ).json()
    (delivered,) = receiver.wait_for(1)
    assert delivered["path"] == "/payments/stk-callback/abc123/"
    headers = {k.lower(): v for k, v in delivered["headers"].items()}
    assert headers["content-type"] == "application/json;charset=UTF-8"
    assert headers["businessshortcode"] == "174379"
    assert "authorization" not in headers
    body = json.loads(delivered["raw"])
    assert_same_shape(body, vector("stk_callback_success"))
    callback = body["Body"]["stkCallback"]
    assert (callback["MerchantRequestID"], callback["CheckoutRequestID"]) == (
        answer["MerchantRequestID"],
        answer["CheckoutRequestID"],
    )
    assert (callback["ResultCode"], callback["ResultDesc"]) == (0, "The service request is processed successfully.")
    items = metadata(body)
    assert items["Amount"] == 4500 and items["Balance"] == "<no value>"
    assert RECEIPT_RE.match(items["MpesaReceiptNumber"])
    assert items["PhoneNumber"] == 254700000001 and isinstance(items["PhoneNumber"], int)
    paid_at = datetime.datetime.strptime(str(items["TransactionDate"]), "%Y%m%d%H%M%S").replace(tzinfo=EAT)
    assert started - datetime.timedelta(seconds=2) <= paid_at <= datetime.datetime.now(tz=datetime.UTC)
    assert items["MpesaReceiptNumber"].startswith(ids.receipt_prefix(paid_at))
    # the query agrees, and the delivery is on record with the receiver's answer
    query = requests.post(
        base + "/mpesa/stkpushquery/v1/query",
        timeout=5,
        headers=bearer,
        json=query_request(answer["CheckoutRequestID"]),
    ).json()
    assert query["ResultCode"] == "0"

    def deliveries_on_record():
        log = requests.get(base + "/__emulator/", timeout=5).json()
        return [(d["status"], d["response_status"]) for d in log["deliveries"]]

    # the receiver's answer is on record once the emulator has read it, a moment after the receiver has the callback
    wait_for(lambda: deliveries_on_record() == [("sent", 200)], message="the receiver's answer is not on record")


@pytest.mark.parametrize(
    ("phone", "vector_name"),
    [
        ("254700000002", "stk_callback_insufficient_1"),
        ("254700000003", "stk_callback_cancelled_1032"),
        ("254700000004", "stk_callback_timeout_1037"),
    ],
)
def test_failure_numbers_call_back_like_their_vectors(daraja, receiver, phone, vector_name):
    answer = _push(daraja, phone, receiver.url + "/cb")
    (delivered,) = receiver.wait_for(1)
    body = json.loads(delivered["raw"])
    expected = vector(vector_name)
    assert_same_shape(body, expected)
    callback, wanted = body["Body"]["stkCallback"], expected["Body"]["stkCallback"]
    assert (callback["ResultCode"], callback["ResultDesc"]) == (wanted["ResultCode"], wanted["ResultDesc"])
    assert callback["CheckoutRequestID"] == answer["CheckoutRequestID"]


def test_the_no_callback_number_succeeds_and_never_calls_back(daraja, receiver):
    answer = _push(daraja, "254700000005", receiver.url + "/cb")
    wait_for(emulator_idle)  # settled, and whatever it had to send is sent
    assert receiver.received == []
    assert daraja(QUERY, query_request(answer["CheckoutRequestID"])).json()["ResultCode"] == "0"
    push = StkPush.objects.get()
    assert push.receipt and not push.deliveries.exists()


def test_the_duplicate_number_delivers_the_same_callback_three_times(daraja, receiver):
    _push(daraja, "254700000006", receiver.url + "/cb")
    deliveries = receiver.wait_for(3)
    wait_for(emulator_idle)  # nothing more is on its way
    assert len(receiver.received) == 3
    assert len({d["raw"] for d in deliveries}) == 1
    assert metadata(json.loads(deliveries[0]["raw"]))["MpesaReceiptNumber"] == StkPush.objects.get().receipt


def test_the_late_number_shows_success_in_the_query_before_its_callback(daraja, receiver):
    sent = time.monotonic()
    answer = _push(daraja, "254700000007", receiver.url + "/cb")
    wait_for(lambda: StkPush.objects.get().status == StkPush.Status.COMPLETED)  # settled; its callback comes later
    assert daraja(QUERY, query_request(answer["CheckoutRequestID"])).json()["ResultCode"] == "0"
    assert receiver.received == []
    (delivered,) = receiver.wait_for(1, timeout=10)
    assert delivered["at"] - sent >= 1.4
    assert json.loads(delivered["raw"])["Body"]["stkCallback"]["ResultCode"] == 0


@pytest.mark.parametrize("status", [500, 404])
def test_a_callback_is_sent_once_whatever_the_receiver_answers(daraja, transactional_db, status):
    failing = Receiver(status=status)
    try:
        _push(daraja, "254700000001", failing.url + "/cb")
        failing.wait_for(1)
        wait_for(emulator_idle)  # the answer is recorded and nothing is scheduled again
        assert len(failing.received) == 1
        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.response_status) == ("sent", status)
    finally:
        dispatcher.stop()
        failing.close()


def test_an_unreachable_receiver_is_recorded_and_not_retried(daraja, receiver):
    port = receiver.server.server_address[1]
    receiver.close()
    _push(daraja, "254700000001", f"http://127.0.0.1:{port}/cb")
    wait_for(lambda: Delivery.objects.filter(status="failed").exists(), timeout=5)
    delivery = Delivery.objects.get()
    assert delivery.status == "failed" and delivery.error and delivery.response_status is None
    receiver.server = type("Closed", (), {"shutdown": lambda self: None, "server_close": lambda self: None})()


# -- the virtual phone --------------------------------------------------------------------------------------------


def test_approving_on_the_virtual_phone_sends_the_success_callback(client, daraja, receiver):
    answer = _push(daraja, "254708374149", receiver.url + "/cb")
    page = client.get("/daraja/phone/?number=0708374149")
    assert answer["CheckoutRequestID"].encode() in page.content and b"KES 4,500" in page.content
    services.run_due()  # one round of the sender, here and now: nothing is due
    assert receiver.received == []  # it waits for the payer
    response = client.post(
        f"/daraja/phone/{answer['CheckoutRequestID']}/approve/", {"pin": "1234", "number": "254708374149"}
    )
    assert response.status_code == 302
    body = json.loads(receiver.wait_for(1)[0]["raw"])
    assert body["Body"]["stkCallback"]["ResultCode"] == 0 and metadata(body)["Amount"] == 4500


def test_cancelling_on_the_virtual_phone_sends_1032(client, daraja, receiver):
    answer = _push(daraja, "254708374149", receiver.url + "/cb")
    response = client.post(f"/daraja/phone/{answer['CheckoutRequestID']}/cancel/", headers={"HX-Request": "true"})
    assert response.status_code == 200 and b"You cancelled" in response.content and b"<html" not in response.content
    body = json.loads(receiver.wait_for(1)[0]["raw"])
    assert_same_shape(body, vector("stk_callback_cancelled_1032"))
    assert body["Body"]["stkCallback"]["ResultCode"] == 1032


def test_an_unanswered_prompt_times_out_with_no_response_from_user(daraja, receiver, settings):
    settings.MPESA_EMULATOR_PROMPT_TIMEOUT_SECONDS = 0.5
    answer = _push(daraja, "254708374149", receiver.url + "/cb")
    body = json.loads(receiver.wait_for(1)[0]["raw"])
    expected = vector("stk_callback_timeout_1037_no_response")
    assert_same_shape(body, expected)
    assert body["Body"]["stkCallback"]["ResultDesc"] == expected["Body"]["stkCallback"]["ResultDesc"]
    query = daraja(QUERY, query_request(answer["CheckoutRequestID"])).json()
    assert (query["ResultCode"], query["ResultDesc"]) == ("1037", "DS timeout user cannot be reached.")


# -- Reversal and Transaction Status results ---------------------------------------------------------------------


def _paid(daraja, receiver) -> str:
    _push(daraja, "254700000001", receiver.url + "/cb")
    receiver.wait_for(1)
    return StkPush.objects.get().receipt


def _reversal(receipt: str, url: str, amount: str = "4500") -> dict:
    return vector("reversal_request") | {
        "TransactionID": receipt,
        "Amount": amount,
        "ResultURL": url + "/result",
        "QueueTimeOutURL": url + "/timeout",
    }


def test_a_reversal_result_arrives_then_a_second_reversal_is_r000001(daraja, receiver):
    receipt = _paid(daraja, receiver)
    ack = daraja(REVERSAL, _reversal(receipt, receiver.url)).json()
    result = json.loads(receiver.wait_for(2)[1]["raw"])
    assert receiver.received[1]["path"] == "/result"
    expected = vector("reversal_result_success")
    assert_same_shape(result, expected)
    assert result["Result"]["ResultCode"] == 0 and result["Result"]["ConversationID"] == ack["ConversationID"]
    parameters = {p["Key"]: p.get("Value") for p in result["Result"]["ResultParameters"]["ResultParameter"]}
    assert parameters["OriginalTransactionID"] == receipt and parameters["Amount"] == 4500
    assert RECEIPT_RE.match(result["Result"]["TransactionID"]) and result["Result"]["TransactionID"] != receipt

    daraja(REVERSAL, _reversal(receipt, receiver.url))
    again = json.loads(receiver.wait_for(3)[2]["raw"])
    assert_same_shape(again, vector("reversal_result_failed_R000002"))
    assert again["Result"]["ResultCode"] == "R000001"


def test_reversing_an_unknown_receipt_is_r000002(daraja, receiver):
    daraja(REVERSAL, _reversal("UKK4H7TQ2M", receiver.url))
    result = json.loads(receiver.wait_for(1)[0]["raw"])
    expected = vector("reversal_result_failed_R000002")
    assert_same_shape(result, expected)
    assert (result["Result"]["ResultCode"], result["Result"]["ResultDesc"]) == (
        "R000002",
        "The OriginalTransactionID is invalid.",
    )
    assert result["Result"]["TransactionID"].endswith("0000000")


def test_reversing_more_than_was_paid_fails(daraja, receiver):
    receipt = _paid(daraja, receiver)
    daraja(REVERSAL, _reversal(receipt, receiver.url, amount="4501"))
    assert json.loads(receiver.wait_for(2)[1]["raw"])["Result"]["ResultCode"] == 2


def test_a_transaction_status_result_has_the_vector_shape(daraja, receiver):
    receipt = _paid(daraja, receiver)
    body = vector("transaction_status_request") | {"TransactionID": receipt, "ResultURL": receiver.url + "/status"}
    daraja(STATUS, body)
    result = json.loads(receiver.wait_for(2)[1]["raw"])
    assert_same_shape(result, vector("transaction_status_result_success"))
    parameters = {p["Key"]: p.get("Value") for p in result["Result"]["ResultParameters"]["ResultParameter"]}
    assert parameters["ReceiptNo"] == receipt and parameters["TransactionStatus"] == "Completed"
    assert parameters["DebitPartyName"].startswith("0700000001 - ")


def test_a_wrong_initiator_gets_2001_in_the_result(daraja, receiver, settings):
    settings.MPESA_SECURITY_CREDENTIAL = "the-real-one"
    daraja(STATUS, vector("transaction_status_request") | {"ResultURL": receiver.url + "/status"})
    assert json.loads(receiver.wait_for(1)[0]["raw"])["Result"]["ResultCode"] == 2001


# -- several senders ---------------------------------------------------------------------------------------------


def test_two_senders_never_send_the_same_delivery_twice(receiver):
    now = services.emulator_now()
    Delivery.objects.bulk_create(
        Delivery(
            kind="result",
            url=f"{receiver.url}/{n}",
            headers={"Content-Type": "application/json"},
            body="{}",
            due_at=now,
        )
        for n in range(30)
    )
    barrier = threading.Barrier(3)

    def sender():
        barrier.wait()
        try:
            services.run_due()
        finally:
            from django.db import connection

            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    for _ in range(3):
        services.run_due()
    receiver.wait_for(30)
    wait_for(emulator_idle)  # every delivery answered: a second send of any would be on record
    assert sorted(int(r["path"][1:]) for r in receiver.received) == list(range(30))
    assert Delivery.objects.filter(status="sent").count() == 30


def test_simultaneous_pushes_to_one_phone_open_one_prompt(live_server, receiver):
    base = live_server.url + "/daraja"
    token = requests.get(OAUTH.replace("/daraja", base, 1), headers={"Authorization": BASIC}, timeout=5).json()
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    barrier = threading.Barrier(4)
    answers = []

    def push():
        barrier.wait()
        response = requests.post(
            base + "/mpesa/stkpush/v1/processrequest",
            json=for_phone("254708374149", receiver.url + "/cb"),
            headers=bearer,
            timeout=30,
        )
        answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=push) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(status for status, _ in answers) == [200, 500, 500, 500]
    assert {body.get("errorCode") for status, body in answers if status == 500} == {"500.001.1001"}
    assert StkPush.objects.filter(status="pending").count() == 1


def test_the_push_is_answered_without_waiting_for_its_callback(daraja, settings, transactional_db):
    settings.MPESA_EMULATOR_CALLBACK_DELAY_SECONDS = 0
    slow = Receiver(answer_after=3)
    try:
        started = time.monotonic()
        _push(daraja, "254700000001", slow.url + "/cb")
        answered = time.monotonic() - started
        slow.wait_for(1)
        assert answered < 2.5  # the slow receiver holds its answer for 3 s: the push did not wait for it
        assert Delivery.objects.get().attempted_at is not None
    finally:
        dispatcher.stop()
        slow.close()
