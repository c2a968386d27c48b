"""Delivery reports at /notifications/sms/delivery/<token>/: recorded raw first, matched by messageId, applied through
the transition table; anything else recorded and ignored, never a 5xx."""

import pytest
from django.test import Client

from notifications import services
from notifications.client import SENT, SendAnswer
from notifications.models import Notification, NotificationEvent
from notifications.services import notification_create, notification_set_status
from tests.vectors.africastalking import at_vector

pytestmark = pytest.mark.django_db

TOKEN = "test-only-sms-delivery-token-0123456789"  # config.settings.test
URL = f"/notifications/sms/delivery/{TOKEN}/"
MESSAGE_ID = "ATXid_03cb5ecf11ce748794c0f9a85c276259"  # the vectors' id
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def sent():
    """An SMS to +254705336634 that Africa's Talking took with the vectors' messageId."""

    def _sent(*, message_id: str = MESSAGE_ID, status: str = Notification.Status.SENT) -> Notification:
        notification, _ = notification_create(
            kind="booking_confirmed",
            object_key=f"booking-event:{message_id}",
            channel=Notification.Channel.SMS,
            address="0705 336 634",
            body="Nexus: booking NX-7K2M9Q is confirmed.",
            booking_ref="NX-7K2M9Q",
        )
        extra = {"provider_message_id": message_id} if status in (Notification.Status.SENT,) else {}
        return notification_set_status(notification, status, message="test", **extra)

    return _sent


def _post(body, *, url: str = URL, content_type: str = FORM, client: Client | None = None):
    return (client or Client()).post(url, data=body, content_type=content_type)


def _state(notification: Notification) -> tuple:
    notification.refresh_from_db()
    return notification.status, notification.provider_status, notification.failure_reason


def test_a_success_report_makes_the_sms_delivered(sent):
    notification = sent()
    response = _post(at_vector("delivery_report_success"))
    assert response.status_code == 200
    assert _state(notification) == ("delivered", "Success", "")
    report = NotificationEvent.objects.get(kind="report")
    assert report.notification == notification
    assert bytes(report.raw_bytes) == at_vector("delivery_report_success").encode()
    assert report.body == {
        "id": MESSAGE_ID,
        "status": "Success",
        "phoneNumber": "+254705336634",
        "networkCode": "63902",
        "retryCount": "0",
    }
    decision = notification.events.get(kind="decision", to_status="delivered")
    assert decision.from_status == "sent"


@pytest.mark.parametrize(
    ("vector", "expected"),
    [
        ("delivery_report_failed", ("failed", "Failed", "UserInBlackList")),
        ("delivery_report_absent_subscriber", ("failed", "AbsentSubscriber", "")),
        ("delivery_report_buffered", ("sent", "Buffered", "")),  # on its way: no final word yet
    ],
)
def test_each_documented_report_is_applied(sent, vector, expected):
    notification = sent()
    assert _post(at_vector(vector)).status_code == 200
    assert _state(notification) == expected


def test_a_report_is_applied_once_and_a_late_one_changes_nothing(sent):
    notification = sent()
    _post(at_vector("delivery_report_success"))
    _post(at_vector("delivery_report_success"))
    _post(at_vector("delivery_report_failed"))
    _post(at_vector("delivery_report_buffered"))
    assert _state(notification) == ("delivered", "Success", "")
    assert notification.events.filter(kind="decision", to_status="delivered").count() == 1
    assert NotificationEvent.objects.filter(kind="report", notification=notification).count() == 4


def test_a_handset_confirmation_after_a_failure_report_makes_it_delivered(sent):
    notification = sent()
    _post(at_vector("delivery_report_absent_subscriber"))
    _post(at_vector("delivery_report_success"))
    assert _state(notification)[0] == "delivered"


def test_a_report_for_no_message_of_ours_is_recorded_and_changes_nothing(sent):
    notification = sent(message_id="ATXid_ours")
    response = _post(at_vector("delivery_report_success"))
    assert response.status_code == 200
    assert _state(notification) == ("sent", "", "")
    report = NotificationEvent.objects.get(kind="report")
    assert report.notification is None and "no message of ours" in report.message


def test_a_report_whose_number_is_not_the_messages_changes_nothing(sent):
    notification = sent()
    body = at_vector("delivery_report_success").replace("%2B254705336634", "%2B254722000111")
    assert _post(body).status_code == 200
    assert _state(notification)[0] == "sent"
    assert "not the number" in NotificationEvent.objects.get(kind="report").message


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\x00\xff\xfe garbage \x80",
        b"id=" + MESSAGE_ID.encode() + b"&status=Delivered%00",
        b"id=" + MESSAGE_ID.encode() + b"&status=Teleported",
        b"id=" + MESSAGE_ID.encode() + b"&status=%ED%A0%80",
        b"id=" + MESSAGE_ID.encode() + b"&status=Success&phoneNumber=not-a-number",
        b'{"id": "' + MESSAGE_ID.encode() + b'", "status": "Success"}',
        b"id=%00&status=Success",
        b"status=Success",
        b"&&&===&&&",
        "id=ATXid_é&status=Succès".encode(),
        b"x=" + b"A" * 40_000,
        b"&".join(b"f%d=1" % n for n in range(5000)),
    ],
)
def test_garbage_is_recorded_and_changes_nothing_without_a_5xx(sent, body):
    notification = sent()
    response = _post(body, content_type="application/octet-stream" if body.startswith(b"\x00") else FORM)
    assert response.status_code == 200
    assert _state(notification) == ("sent", "", "")
    report = NotificationEvent.objects.get(kind="report")
    assert report.raw_size == len(body) and bytes(report.raw_bytes) == body[: len(bytes(report.raw_bytes))]


def test_a_report_is_not_subject_to_csrf(sent):
    notification = sent()
    response = _post(at_vector("delivery_report_success"), client=Client(enforce_csrf_checks=True))
    assert response.status_code == 200 and _state(notification)[0] == "delivered"


@pytest.mark.parametrize("token", ["wrong", TOKEN + "x", TOKEN[:-1], "%00"])
def test_a_wrong_token_is_a_404_and_records_nothing(sent, token):
    notification = sent()
    url = f"/notifications/sms/delivery/{token}/"
    assert _post(at_vector("delivery_report_success"), url=url).status_code == 404
    assert Client().get(url).status_code == 404
    assert _state(notification)[0] == "sent" and not NotificationEvent.objects.filter(kind="report").exists()


def test_without_a_token_configured_every_report_is_a_404(sent, settings):
    settings.SMS_DELIVERY_TOKEN = ""
    assert Client().post("/notifications/sms/delivery//", data="", content_type=FORM).status_code == 404
    assert _post(at_vector("delivery_report_success")).status_code == 404


def test_the_right_token_only_takes_posts(sent):
    assert Client().get(URL).status_code == 405


def test_a_report_that_arrives_before_the_sends_answer_is_applied_when_the_answer_is_recorded(sent):
    notification, _ = notification_create(
        kind="booking_confirmed",
        object_key="booking-event:early",
        channel=Notification.Channel.SMS,
        address="+254705336634",
        body="Nexus: hello.",
    )
    _post(at_vector("delivery_report_success"))  # the network was quicker than our bookkeeping
    assert "no message of ours (yet)" in NotificationEvent.objects.get(kind="report").message
    services._record(notification.pk, SendAnswer(SENT, status="Success", message_id=MESSAGE_ID))
    assert _state(notification) == ("delivered", "Success", "")
    assert NotificationEvent.objects.get(kind="report").notification == notification
