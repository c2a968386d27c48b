"""The Africa's Talking emulator: its messaging endpoint validates and answers like the documented one, its hooks are
loopback-only, and its virtual inbox shows each visitor only what they may read."""

import json
import threading
import xml.etree.ElementTree as ElementTree
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest
from django.db import connection, transaction
from django.test import Client

from africastalking_emulator import dispatcher
from africastalking_emulator.models import DeliveryReport, Message
from africastalking_emulator.services import report_send
from core.africastalking_wire import AUDIENCE_HEADER, EMULATOR_API_KEY, audience_sign, session_tag
from notifications.models import Notification, NotificationEvent
from notifications.outbox import notification_queue
from tests.helpers.waiting import wait_for
from tests.vectors.africastalking import INDEX, at_vector

pytestmark = pytest.mark.django_db

URL = "/africastalking/version1/messaging"
HOOKS = "/africastalking/__emulator"
ELSEWHERE = "203.0.113.9"  # not this machine
KEY = {"HTTP_APIKEY": EMULATOR_API_KEY, "HTTP_ACCEPT": "application/json"}


def _send(client: Client | None = None, *, headers: dict | None = None, **form):
    fields = {"username": "sandbox", "to": "+254712345678", "message": "Hello World!", **form}
    fields = {name: value for name, value in fields.items() if value is not None}
    return (client or Client()).post(URL, data=fields, **(KEY if headers is None else headers))


def _same_shape(answer, documented) -> None:
    """The same keys at every level, and the same JSON types."""
    assert type(answer) is type(documented), (answer, documented)
    if isinstance(documented, dict):
        assert set(answer) == set(documented)
        for key in documented:
            _same_shape(answer[key], documented[key])
    elif isinstance(documented, list):
        for item in answer:
            _same_shape(item, documented[0])


def test_the_documented_request_is_taken_and_answered_like_the_documented_answer():
    form = {name: values[0] for name, values in parse_qs(at_vector("send_request")).items()}
    form.update(username="sandbox", to="+254711082001,+254733082002", **{"from": "AFRICASTKNG"})
    headers = {f"HTTP_{name.upper()}": value for name, value in INDEX["send_request"]["headers"].items()}
    headers["HTTP_APIKEY"] = EMULATOR_API_KEY
    response = Client().post(URL, data=form, **{k: v for k, v in headers.items() if k != "HTTP_CONTENT_TYPE"})
    assert response.status_code == INDEX["send_response_sent"]["http_status"] == 201
    answer = response.json()
    _same_shape(answer, at_vector("send_response_sent"))
    assert answer["SMSMessageData"]["Message"] == "Sent to 2/2 Total Cost: KES 1.6000"
    recipients = answer["SMSMessageData"]["Recipients"]
    assert [(r["number"], r["statusCode"], r["status"], r["cost"]) for r in recipients] == [
        ("+254711082001", 101, "Success", "KES 0.8000"),
        ("+254733082002", 101, "Success", "KES 0.8000"),
    ]
    assert all(r["messageId"].startswith("ATXid_") and len(r["messageId"]) == 38 for r in recipients)
    assert list(Message.objects.values_list("to", "body", "status")) == [
        ("+254711082001", "Hello World!", "Sent"),
        ("+254733082002", "Hello World!", "Sent"),
    ]


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ACCEPT": "application/json"},
        {"HTTP_APIKEY": "wrong", "HTTP_ACCEPT": "application/json"},
        {"HTTP_APIKEY": "", "HTTP_ACCEPT": "application/json"},
    ],
)
def test_a_wrong_key_is_refused_like_africas_talking(headers):
    response = _send(headers=headers)
    assert response.status_code == INDEX["send_error_invalid_authentication"]["http_status"]
    assert response.content.decode() == at_vector("send_error_invalid_authentication")
    assert not Message.objects.exists()


def test_a_wrong_username_is_refused():
    assert _send(username="someone").status_code == 401
    assert _send(username=None).status_code == 401


def test_the_configured_key_and_username_are_accepted_beside_the_development_pair(settings):
    settings.AT_API_KEY, settings.AT_USERNAME = "live-looking-key", "nexus"
    assert _send(username="nexus", headers={"HTTP_APIKEY": "live-looking-key", "HTTP_ACCEPT": "application/json"})
    assert _send(username="nexus").status_code == 201
    assert _send(headers={"HTTP_APIKEY": "live-looking-key", "HTTP_ACCEPT": "application/json"}).status_code == 201


@pytest.mark.parametrize(("field", "value"), [("to", None), ("to", " "), ("message", None), ("message", "")])
def test_a_missing_recipient_or_message_is_a_400(field, value):
    response = _send(**{field: value})
    assert response.status_code == 400
    assert response.content.decode() == f"Request is missing required form field '{field}'"
    assert not Message.objects.exists()


def test_numbers_without_the_country_code_or_not_kenyan_mobiles_are_refused_per_recipient():
    response = _send(to="0712345678,+254712345678,+1415555010,+25420123456")
    data = response.json()["SMSMessageData"]
    assert response.status_code == 201 and data["Message"] == "Sent to 1/4 Total Cost: KES 0.8000"
    refused = [r for r in data["Recipients"] if r["statusCode"] != 101]
    assert [(r["statusCode"], r["status"], r["messageId"], r["cost"]) for r in refused] == [
        (403, "InvalidPhoneNumber", "None", "0")
    ] * 3
    _same_shape(refused[0], at_vector("send_response_refused_dnd")["SMSMessageData"]["Recipients"][0])


def test_an_unknown_sender_id_refuses_the_whole_request(settings):
    response = _send(**{"from": "SOMEBRAND"})
    assert response.status_code == 201 and response.json() == at_vector("send_response_no_recipients")
    settings.AT_SENDER_ID = "NEXUS"
    assert _send(**{"from": "NEXUS"}).json()["SMSMessageData"]["Recipients"][0]["statusCode"] == 101
    assert _send(**{"from": "AFRICASTKNG"}).json()["SMSMessageData"]["Recipients"][0]["statusCode"] == 101


def test_a_client_that_does_not_ask_for_json_gets_xml():
    response = _send(headers={"HTTP_APIKEY": EMULATOR_API_KEY})
    assert response.status_code == 201 and response["Content-Type"].startswith("application/xml")
    root = ElementTree.fromstring(response.content)
    assert root.findtext("SMSMessageData/Recipients/Recipient/statusCode") == "101"


def test_a_long_or_non_gsm_message_costs_several_parts():
    two_parts = _send(message="x" * 161).json()["SMSMessageData"]["Recipients"][0]
    unicode_two = _send(message="Habari 😀 " + "y" * 70).json()["SMSMessageData"]["Recipients"][0]
    assert (two_parts["cost"], unicode_two["cost"]) == ("KES 1.6000", "KES 1.6000")


def test_other_methods_and_paths_are_refused():
    assert Client().get(URL, **KEY).status_code == 405
    assert Client().post("/africastalking/version1/airtime/send", **KEY).status_code == 404


# -- hooks -------------------------------------------------------------------------------------------------------


def test_the_hooks_answer_only_this_machine():
    client = Client(REMOTE_ADDR=ELSEWHERE)
    assert client.get(f"{HOOKS}/").status_code == 404
    assert client.post(f"{HOOKS}/phone/0712345678/outcome", {"statusCode": 406}, "application/json").status_code == 404
    assert client.post(f"{HOOKS}/reset").status_code == 404
    assert client.post(f"{HOOKS}/dispatch").status_code == 404


@pytest.mark.parametrize("to", ["0712 345 678", "+254712345678", "254712345678", "712345678", "+254 712-345-678"])
def test_the_message_list_takes_any_form_of_a_number_and_lists_oldest_first(to):
    _send(message="first")
    _send(to="+254722000111", message="elsewhere")
    _send(message="second", to="+254712345678,+254712345678")
    listed = Client().get(f"{HOOKS}/", {"to": to}).json()
    assert [(m["to"], m["body"]) for m in listed] == [("+254712345678", "first")] + [("+254712345678", "second")] * 2
    assert set(listed[0]) >= {"to", "body", "status", "messageId"} and listed[0]["status"] == "Sent"
    assert len(Client().get(f"{HOOKS}/").json()) == 4


@pytest.mark.parametrize("to", ["", "07123", "+1 415 555 0100"])
def test_a_number_the_normaliser_refuses_is_a_400(to):
    response = Client().get(f"{HOOKS}/", {"to": to})
    assert response.status_code == 400 and response.json()["error"]
    assert Client().get(f"{HOOKS}/", {"to": "07\x0012"}).status_code == 400  # NUL: refused before the view


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"statusCode": 101},
        {"statusCode": "Sent"},
        {"statusCode": True},
        {"statusCode": 999},
        {"status": "Delivered"},
        {"status": "Sent"},
        {"status": "Success", "failureReason": "UserInBlackList"},
        {"status": "Failed", "failureReason": "Bored"},
        {"answer": "slow"},
        {"statusCode": 406, "status": "Failed"},
        {"statusCode": 406, "times": 0},
        {"statusCode": 406, "times": "2"},
        [],
        "406",
    ],
)
def test_an_outcome_hook_explains_a_bad_request(body):
    response = Client().post(f"{HOOKS}/phone/0712345678/outcome", json.dumps(body), "application/json")
    assert response.status_code == 400 and response.json()["error"]


def test_an_outcome_for_a_number_the_normaliser_refuses_is_a_400():
    response = Client().post(f"{HOOKS}/phone/07123/outcome", json.dumps({"statusCode": 406}), "application/json")
    assert response.status_code == 400


def test_a_planned_refusal_applies_to_its_number_for_the_times_asked():
    hook = Client().post(
        f"{HOOKS}/phone/0712345678/outcome", {"statusCode": "UserInBlacklist", "times": 1}, "application/json"
    )
    assert hook.status_code == 201 and hook.json()["statusCode"] == 406
    codes = [_send().json()["SMSMessageData"]["Recipients"][0]["statusCode"] for _ in range(2)]
    other = _send(to="+254722000111").json()["SMSMessageData"]["Recipients"][0]["statusCode"]
    assert (codes, other) == ([406, 101], 101)


def test_reset_forgets_everything():
    _send()
    Client().post(f"{HOOKS}/phone/0712345678/outcome", {"statusCode": 406}, "application/json")
    assert Client().post(f"{HOOKS}/reset").json() == {"reset": True}
    assert Client().get(f"{HOOKS}/").json() == []
    assert _send().json()["SMSMessageData"]["Recipients"][0]["statusCode"] == 101


# -- delivery reports over HTTP ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("number", "outcome", "network", "status", "reason"),
    [
        ("+254712345678", None, "63902", "Success", None),
        ("+254733123456", None, "63903", "Success", None),
        (
            "+254712345678",
            {"status": "Failed", "failureReason": "UserInBlackList"},
            "63902",
            "Failed",
            "UserInBlackList",
        ),
        ("+254712345678", {"status": "Expired"}, "63902", "Expired", None),
    ],
)
def test_each_taken_message_gets_a_documented_delivery_report(sms_emulator, number, outcome, network, status, reason):
    if outcome:
        sms_emulator.outcome(number, **outcome)
    sent = _send(to=number).json()["SMSMessageData"]["Recipients"][0]
    wait_for(lambda: NotificationEvent.objects.filter(kind="report").exists(), message="no report")
    report = NotificationEvent.objects.get(kind="report")
    documented = parse_qs(at_vector("delivery_report_failed" if reason else "delivery_report_success"))
    fields = parse_qs(bytes(report.raw_bytes).decode())
    assert set(fields) == set(documented)
    assert {name: values[0] for name, values in fields.items()} == {
        "id": sent["messageId"],
        "status": status,
        "phoneNumber": number,
        "networkCode": network,
        "retryCount": "0",
        **({"failureReason": reason} if reason else {}),
    }
    wait_for(lambda: sms_emulator.messages(to=number)[0]["status"] == status, message="status not kept")


@pytest.mark.django_db(transaction=True)
def test_the_outbox_shows_a_reports_status_by_the_time_the_merchant_hears_it(settings):
    """A merchant that lists its messages when a delivery report arrives sees the report's status in the list."""
    listed_on_arrival = []

    class Merchant(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            listed_on_arrival.append(Client().get(f"{HOOKS}/").json()[0]["status"])
            connection.close()
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    merchant = HTTPServer(("127.0.0.1", 0), Merchant)
    threading.Thread(target=merchant.serve_forever, daemon=True).start()
    settings.SITE_URL = f"http://127.0.0.1:{merchant.server_port}"
    settings.AT_EMULATOR_REPORT_DELAY_SECONDS = 3600  # posted below, not by the background sender
    try:
        _send()
        report_send(report=DeliveryReport.objects.get())
    finally:
        dispatcher.stop()
        merchant.shutdown()
        merchant.server_close()
    assert listed_on_arrival == ["Success"]


@pytest.mark.django_db(transaction=True)
def test_no_report_is_posted_without_a_delivery_report_url(sms_emulator, settings):
    settings.SMS_DELIVERY_TOKEN = ""
    _send()
    assert sms_emulator.dispatch() == 0


# -- the virtual inbox ---------------------------------------------------------------------------------------------


@pytest.fixture
def inbox(make_user):
    """Messages for Amina's account, for a waiting browser session, for nobody in particular, and a refusal."""
    amina = make_user()
    waiting = Client(REMOTE_ADDR=ELSEWHERE)
    session = waiting.session
    session.save()
    for body, audience in [
        ("Nexus: booking NX-7K2M9Q is confirmed.", audience_sign(user_id=amina.pk, session="")),
        ("Your Nexus code is 583019.", audience_sign(user_id=None, session=session_tag(session.session_key))),
        ("For nobody in particular.", ""),
        ("Forged: for Amina.", audience_sign(user_id=amina.pk, session="")[:-2] + "xx"),
    ]:
        _send(message=body, headers={**KEY, f"HTTP_{AUDIENCE_HEADER.upper().replace('-', '_')}": audience})
    Client().post(f"{HOOKS}/phone/0722000111/outcome", {"statusCode": 406}, "application/json")
    _send(to="+254722000111", message="Refused, never on a phone.")
    return {"amina": amina, "waiting": waiting}


def _shown(response) -> list[str]:
    page = response.content.decode()
    bodies = [
        "Nexus: booking NX-7K2M9Q is confirmed.",
        "Your Nexus code is 583019.",
        "For nobody in particular.",
        "Forged: for Amina.",
        "Refused, never on a phone.",
    ]
    return [body for body in bodies if body in page]


def test_this_machine_and_debug_see_every_message_on_a_phone(inbox, settings):
    everything = [
        "Nexus: booking NX-7K2M9Q is confirmed.",
        "Your Nexus code is 583019.",
        "For nobody in particular.",
        "Forged: for Amina.",
    ]
    assert _shown(Client().get("/africastalking/phone/")) == everything
    settings.DEBUG = True
    assert _shown(Client(REMOTE_ADDR=ELSEWHERE).get("/africastalking/phone/")) == everything


def test_a_visitor_from_elsewhere_sees_nothing_even_by_number(inbox):
    client = Client(REMOTE_ADDR=ELSEWHERE)
    for query in ("", "?number=0712345678", "?number=%2B254712345678"):
        response = client.get(f"/africastalking/phone/{query}")
        assert response.status_code == 200 and _shown(response) == []
        assert "No messages yet" in response.content.decode()


def test_a_signed_in_person_sees_only_what_was_sent_to_their_account(inbox, make_user):
    client = Client(REMOTE_ADDR=ELSEWHERE)
    client.force_login(inbox["amina"])
    assert _shown(client.get("/africastalking/phone/?number=0712345678")) == ["Nexus: booking NX-7K2M9Q is confirmed."]
    other = Client(REMOTE_ADDR=ELSEWHERE)
    other.force_login(make_user(email="peter@example.com"))
    assert _shown(other.get("/africastalking/phone/")) == []


def test_a_browser_waiting_for_a_code_sees_only_its_own(inbox):
    assert _shown(inbox["waiting"].get("/africastalking/phone/")) == ["Your Nexus code is 583019."]
    fragment = inbox["waiting"].get("/africastalking/phone/", headers={"HX-Request": "true"})
    assert "<html" not in fragment.content.decode() and 'id="inbox-messages"' in fragment.content.decode()
    assert _shown(fragment) == ["Your Nexus code is 583019."]


@pytest.mark.django_db(transaction=True)
def test_the_outbox_tells_the_emulator_whom_a_message_is_for(sms_emulator, make_user):
    amina = make_user()
    browser = Client()
    session = browser.session
    session.save()
    with transaction.atomic():
        for key, fields in [("a", {"recipient": amina}), ("b", {"session_key": session.session_key}), ("c", {})]:
            notification_queue(
                kind="sign_in_code",
                object_key=f"o:{key}",
                channel=Notification.Channel.SMS,
                address="0712345678",
                body=f"message {key}",
                **fields,
            )
    audiences = dict(Message.objects.values_list("body", "audience_user_id"))
    sessions = dict(Message.objects.values_list("body", "audience_session"))
    assert audiences == {"message a": amina.pk, "message b": None, "message c": None}
    assert sessions == {"message a": "", "message b": session_tag(session.session_key), "message c": ""}
