"""The emulator's "spoofed delivery from a non-listed source" switch, over real HTTP: a push whose outcome hook says
"spoofed_source": true is called back from MPESA_EMULATOR_SPOOFED_SOURCE_IP (127.0.0.2 by default) instead of
127.0.0.1, and the app, with MPESA_CALLBACK_ALLOWED_IPS set, records that callback and changes nothing; the STK
Query still settles the payment."""

import json

import pytest
import requests

from daraja_emulator import dispatcher
from daraja_emulator.models import Delivery, PlannedOutcome, StkPush
from mpesa.models import Payment, PaymentEvent
from mpesa.services import payment_start, payments_reconcile
from reservations.models import Booking
from tests.daraja import emulator_idle, use_emulator
from tests.daraja_emulator.emulator_support import BASIC, OAUTH, PUSH, for_phone
from tests.helpers.bookings import booking_for
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = "254711222333"  # off the number table, so hooks decide its outcome


@pytest.fixture
def daraja(client, settings):
    """The emulator called through the test client; pushes wait 30 s unless a hook says otherwise."""
    settings.MPESA_ENV = "emulator"
    settings.MPESA_CONSUMER_KEY = settings.MPESA_CONSUMER_SECRET = ""
    settings.MPESA_SHORTCODE = settings.MPESA_PASSKEY = ""
    settings.MPESA_EMULATOR_CALLBACK_DELAY_SECONDS = 30
    settings.MPESA_EMULATOR_QUERY_NOT_FOUND_SECONDS = 0
    settings.MPESA_EMULATOR_DELIVERY_TIMEOUT_SECONDS = 2
    token = client.get(OAUTH, headers={"Authorization": BASIC}).json()["access_token"]

    def _push(phone: str, url: str) -> str:
        response = client.post(
            PUSH,
            data=json.dumps(for_phone(phone, url, Amount=4500)),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.content
        return response.json()["CheckoutRequestID"]

    return _push


def _set_outcome(client, checkout_request_id: str, body) -> object:
    return client.post(
        f"/daraja/__emulator/stk/{checkout_request_id}/outcome", data=json.dumps(body), content_type="application/json"
    )


# -- the emulator side ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("configured", "expected"), [(None, "127.0.0.2"), ("127.0.0.3", "127.0.0.3")])
def test_a_spoofed_delivery_comes_from_the_spoofed_address(client, daraja, receiver, settings, configured, expected):
    if configured:
        settings.MPESA_EMULATOR_SPOOFED_SOURCE_IP = configured
    checkout_request_id = daraja(PHONE, receiver.url + "/cb")
    response = _set_outcome(client, checkout_request_id, {"ResultCode": 0, "delay_s": 0, "spoofed_source": True})
    assert response.status_code == 200 and response.json()["spoofed_source"] is True
    (delivered,) = receiver.wait_for(1)
    assert delivered["client"] == expected
    assert json.loads(delivered["raw"])["Body"]["stkCallback"]["CheckoutRequestID"] == checkout_request_id
    delivery = Delivery.objects.get()
    assert (delivery.source_address, delivery.spoofed) == (expected, True)
    wait_for(lambda: Delivery.objects.get().status == Delivery.Status.SENT)
    (logged,) = client.get("/daraja/__emulator/").json()["deliveries"]
    assert (logged["spoofed_source"], logged["source_address"], logged["status"]) == (True, expected, "sent")


def test_without_the_switch_the_callback_comes_from_the_usual_address(client, daraja, receiver):
    checkout_request_id = daraja(PHONE, receiver.url + "/cb")
    assert _set_outcome(client, checkout_request_id, {"ResultCode": 0, "delay_s": 0}).status_code == 200
    (delivered,) = receiver.wait_for(1)
    assert delivered["client"] == "127.0.0.1"
    assert Delivery.objects.get().spoofed is False
    assert client.get("/daraja/__emulator/").json()["deliveries"][0]["source_address"] is None


def test_the_phone_hook_plans_a_spoofed_delivery_for_the_next_push(client, daraja, receiver):
    response = client.post(
        f"/daraja/__emulator/phone/{PHONE}/outcome",
        data={"ResultCode": 1032, "delay_s": 0, "callbacks": 2, "spoofed_source": True},
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["spoofed_source"] is True
    daraja(PHONE, receiver.url + "/cb")
    deliveries = receiver.wait_for(2)
    assert [d["client"] for d in deliveries] == ["127.0.0.2", "127.0.0.2"]
    assert json.loads(deliveries[0]["raw"])["Body"]["stkCallback"]["ResultCode"] == 1032


def test_a_spoofed_source_that_is_not_an_address_fails_the_delivery_on_record(client, daraja, receiver, settings):
    settings.MPESA_EMULATOR_SPOOFED_SOURCE_IP = "not-an-address"
    checkout_request_id = daraja(PHONE, receiver.url + "/cb")
    _set_outcome(client, checkout_request_id, {"ResultCode": 0, "delay_s": 0, "spoofed_source": True})
    wait_for(lambda: Delivery.objects.filter(status=Delivery.Status.FAILED).exists(), timeout=10)
    delivery = Delivery.objects.get()
    assert "MPESA_EMULATOR_SPOOFED_SOURCE_IP" in delivery.error and delivery.response_status is None
    wait_for(emulator_idle)  # nothing else is on its way to the receiver
    assert receiver.received == []
    assert StkPush.objects.get().result_code == "0"  # the push itself settled; only its delivery failed


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, None, [True], {"on": True}])
def test_the_hooks_refuse_a_spoofed_source_that_is_not_a_boolean(client, daraja, value):
    checkout_request_id = daraja(PHONE, "http://127.0.0.1:9/cb")
    before = StkPush.objects.values().get()
    body = {"ResultCode": 1032, "delay_s": 0, "spoofed_source": value}
    for url in (
        f"/daraja/__emulator/stk/{checkout_request_id}/outcome",
        f"/daraja/__emulator/phone/{PHONE}/outcome",
    ):
        response = client.post(url, data=json.dumps(body), content_type="application/json")
        assert response.status_code == 400
        assert response.json() == {"error": "spoofed_source must be true or false."}
    assert StkPush.objects.values().get() == before  # still the plan it had: success after 30 s, usual source
    assert not PlannedOutcome.objects.exists()


# -- the app's defence, end to end --------------------------------------------------------------------------------


@pytest.fixture
def app_with_allow_list(settings, live_server):
    use_emulator(
        settings,
        live_server,
        MPESA_QUERY_AFTER_SECONDS=0,
        MPESA_QUERY_EVERY_SECONDS=0,
        MPESA_PUSHES_PER_PHONE=100,
        MPESA_CALLBACK_ALLOWED_IPS=["127.0.0.1"],
    )
    yield live_server
    dispatcher.stop()


def _plan_next_push(live_server, body: dict) -> None:
    response = requests.post(f"{live_server.url}/daraja/__emulator/phone/{PHONE}/outcome", json=body, timeout=5)
    assert response.status_code == 201, response.content


def _callback_event(payment: Payment) -> PaymentEvent:
    return wait_for(lambda: payment.events.filter(kind=PaymentEvent.Kind.CALLBACK).first())


@pytest.mark.parametrize(
    ("code", "trusted_proxies", "payment_status", "booking_status"),
    [
        (0, 0, Payment.Status.SUCCEEDED, Booking.Status.CONFIRMED),
        (0, 1, Payment.Status.SUCCEEDED, Booking.Status.CONFIRMED),
        (1032, 0, Payment.Status.FAILED, Booking.Status.HELD),
    ],
)
def test_a_spoofed_callback_is_recorded_and_ignored_and_the_query_settles_the_payment(
    app_with_allow_list, people, settings, code, trusted_proxies, payment_status, booking_status
):
    # With one trusted proxy and none in front, the app falls back to the connection's address: the spoofed
    # source is what it sees either way.
    settings.MPESA_TRUSTED_PROXIES = trusted_proxies
    guest, host = people
    booking = booking_for(guest, host)
    _plan_next_push(app_with_allow_list, {"ResultCode": code, "spoofed_source": True})
    payment = payment_start(booking=booking, user=guest, phone="0711 222 333")

    event = _callback_event(payment)
    assert event.source_ip == "127.0.0.2"
    assert json.loads(Delivery.objects.get().body)["Body"]["stkCallback"]["ResultCode"] == code
    wait_for(lambda: Delivery.objects.get().status == Delivery.Status.SENT)
    delivery = Delivery.objects.get()
    assert (delivery.response_status, json.loads(delivery.response_body)) == (
        200,
        {"ResultCode": 0, "ResultDesc": "Accepted"},
    )
    wait_for(emulator_idle)  # the callback was answered, so whatever it set off is done; nothing else is on its way
    payment.refresh_from_db()
    assert (payment.status, payment.receipt, payment.result_code) == (Payment.Status.PENDING, None, "")
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.AWAITING_PAYMENT
    assert not payment.events.filter(kind__in=[PaymentEvent.Kind.QUERY, PaymentEvent.Kind.DECISION]).exists()

    payments_reconcile()
    payment.refresh_from_db()
    assert (payment.status, payment.result_code) == (payment_status, str(code))
    assert payment.receipt is None  # the receipt came only in the ignored callback
    assert Booking.objects.get(pk=booking.pk).status == booking_status
    assert payment.events.filter(kind=PaymentEvent.Kind.QUERY).exists()


def test_the_same_callback_from_the_listed_address_is_processed(app_with_allow_list, people):
    guest, host = people
    booking = booking_for(guest, host)
    _plan_next_push(app_with_allow_list, {"ResultCode": 0})
    payment = payment_start(booking=booking, user=guest, phone="0711 222 333")

    assert _callback_event(payment).source_ip == "127.0.0.1"
    wait_for(lambda: Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.receipt == StkPush.objects.get().receipt
    assert Delivery.objects.get().spoofed is False
