"""The outbox's SMS end to end over real HTTP: queued in a transaction, sent to the Africa's Talking emulator after
commit, its delivery report posted back to /notifications/sms/delivery/<token>/ and applied. At most once: a send
whose outcome is unknown is never repeated; only refusals are, a bounded number of times."""

import dataclasses

import pytest
from django.db import transaction

from notifications.client import SmsClient, SmsConfig
from notifications.models import Notification, NotificationEvent
from notifications.outbox import notification_queue, notifications_sweep
from tests.helpers.sms import status_of
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

NUMBER = "+254712345678"
BODY = "Nexus: booking NX-7K2M9Q is confirmed. Check-in Fri 5 Dec from 14:00."


def _queue(*, address: str = "0712 345 678", key: str = "booking-event:1", **fields) -> Notification:
    with transaction.atomic():
        return notification_queue(
            kind="booking_confirmed",
            object_key=key,
            channel=Notification.Channel.SMS,
            address=address,
            body=fields.pop("body", BODY),
            booking_ref="NX-7K2M9Q",
            **fields,
        )


def test_a_queued_sms_goes_out_once_after_commit_and_its_delivery_report_makes_it_delivered(sms_emulator):
    with transaction.atomic():
        notification = notification_queue(
            kind="booking_confirmed",
            object_key="booking-event:1",
            channel=Notification.Channel.SMS,
            address="0712 345 678",
            body=BODY,
        )
        assert sms_emulator.messages() == []  # nothing leaves before the transaction commits
        assert status_of(notification) == Notification.Status.QUEUED
    messages = sms_emulator.messages(to=NUMBER)
    assert [(m["to"], m["body"], m["statusCode"]) for m in messages] == [(NUMBER, BODY, 101)]
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT and notification.attempts == 1
    assert notification.provider_message_id == messages[0]["messageId"] and notification.cost == "KES 0.8000"
    wait_for(lambda: status_of(notification) == Notification.Status.DELIVERED, message="no delivery report")
    notification.refresh_from_db()
    assert notification.provider_status == "Success" and notification.finished_at is not None
    assert sms_emulator.messages(to=NUMBER)[0]["status"] == "Success"
    report = notification.events.get(kind=NotificationEvent.Kind.REPORT)
    assert report.body["id"] == notification.provider_message_id and report.raw_bytes
    # The same event queued again sends nothing more.
    again = _queue()
    assert again.pk == notification.pk and len(sms_emulator.messages()) == 1


@pytest.mark.parametrize(
    ("outcome", "provider_status", "failure_reason"),
    [
        ({"status": "Failed", "failureReason": "UserInBlackList"}, "Failed", "UserInBlackList"),
        ({"status": "AbsentSubscriber"}, "AbsentSubscriber", ""),
        ({"status": "Rejected", "failureReason": "DeliveryFailure"}, "Rejected", "DeliveryFailure"),
    ],
)
def test_a_delivery_report_that_says_not_delivered_makes_it_failed(
    sms_emulator, outcome, provider_status, failure_reason
):
    sms_emulator.outcome("0712345678", **outcome)
    notification = _queue()
    wait_for(lambda: status_of(notification) == Notification.Status.FAILED, message="no failure report")
    notification.refresh_from_db()
    assert (notification.provider_status, notification.failure_reason) == (provider_status, failure_reason)
    assert notification.sent_at is not None and notification.attempts == 1
    assert len(sms_emulator.messages(to=NUMBER)) == 1


def test_a_send_that_times_out_is_unknown_and_never_sent_again(sms_emulator):
    sms_emulator.outcome("+254712345678", answer="timeout")
    notification = _queue()
    notification.refresh_from_db()
    assert notification.status == Notification.Status.UNKNOWN and notification.attempts == 1
    assert "did not answer in time" in notification.error
    # The message did go out; its report names a messageId we never learnt: recorded, changes nothing.
    wait_for(lambda: NotificationEvent.objects.filter(kind="report").exists(), message="no report")
    report = NotificationEvent.objects.get(kind="report")
    assert report.notification is None and "no message of ours" in report.message
    assert notifications_sweep() == (0, 0)  # the sweep sends nothing again either
    assert status_of(notification) == Notification.Status.UNKNOWN
    assert len(sms_emulator.messages()) == 1


@pytest.mark.parametrize("answer", ["http_500", "unparseable"])
def test_an_answer_that_proves_nothing_is_unknown_and_never_sent_again(sms_emulator, answer):
    sms_emulator.outcome("254712345678", answer=answer)
    notification = _queue()
    notification.refresh_from_db()
    assert notification.status == Notification.Status.UNKNOWN and notification.attempts == 1
    assert len(sms_emulator.messages()) == 1


@pytest.mark.parametrize("status_code", [405, "InsufficientBalance", 500, 502])
def test_a_refusal_is_tried_again_a_bounded_number_of_times(sms_emulator, settings, status_code):
    settings.NOTIFICATION_SEND_ATTEMPTS = 3
    sms_emulator.outcome("0712345678", statusCode=status_code)
    notification = _queue()
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED and notification.attempts == 3
    refusals = sms_emulator.messages(to=NUMBER)
    assert len(refusals) == 3 and {m["messageId"] for m in refusals} == {"None"}
    assert notification.events.filter(kind="attempt").count() == 3


def test_a_refusal_that_passes_on_a_later_attempt_sends_once(sms_emulator):
    sms_emulator.outcome("0712345678", statusCode="RiskHold", times=1)
    notification = _queue()
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT and notification.attempts == 2
    assert [m["statusCode"] for m in sms_emulator.messages(to=NUMBER)] == [401, 101]


@pytest.mark.parametrize("status_code", [406, 403, 404])
def test_a_refusal_for_good_is_not_tried_again(sms_emulator, status_code):
    sms_emulator.outcome("0712345678", statusCode=status_code)
    notification = _queue()
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED and notification.attempts == 1
    assert len(sms_emulator.messages()) == 1


def test_a_wrong_api_key_is_refused_and_tried_again_a_bounded_number_of_times(sms_emulator, settings, monkeypatch):
    settings.NOTIFICATION_SEND_ATTEMPTS = 2
    wrong_key = dataclasses.replace(SmsConfig.from_settings(), api_key="not-the-key")
    monkeypatch.setattr("notifications.client.sms_client", lambda: SmsClient(wrong_key))
    notification = _queue()
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED and notification.attempts == 2
    assert "HTTP 401: The supplied authentication is invalid" in notification.error
    assert sms_emulator.messages() == []


def test_the_daily_cap_per_number_stops_sending(sms_emulator, settings):
    settings.SMS_PER_NUMBER_PER_DAY = 2
    sent = [_queue(key=f"booking-event:{n}") for n in range(3)]
    statuses = [status_of(notification) for notification in sent]
    assert statuses == [Notification.Status.SENT, Notification.Status.SENT, Notification.Status.FAILED]
    assert "daily cap" in Notification.objects.get(pk=sent[2].pk).error
    assert len(sms_emulator.messages()) == 2
    other = _queue(address="0722 000 111")  # another number has its own count
    assert status_of(other) == Notification.Status.SENT


def test_the_daily_cap_for_the_site_stops_sending(sms_emulator, settings):
    settings.SMS_PER_DAY = 1
    first, second = _queue(), _queue(address="0722 000 111")
    assert (status_of(first), status_of(second)) == (Notification.Status.SENT, Notification.Status.FAILED)
    assert len(sms_emulator.messages()) == 1


def test_a_code_is_sent_then_erased_from_the_outbox(sms_emulator):
    code = "Nexus code 483920. It expires in 10 minutes."
    notification = _queue(body=code, secret=True)
    assert sms_emulator.messages()[0]["body"] == code
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT and notification.body == ""
    assert code not in str(list(notification.events.values()))


def test_the_dispatch_hook_posts_scheduled_reports_now(sms_emulator, settings):
    settings.AT_EMULATOR_REPORT_DELAY_SECONDS = 3600
    notification = _queue()
    assert status_of(notification) == Notification.Status.SENT
    assert sms_emulator.dispatch() == 1
    wait_for(lambda: status_of(notification) == Notification.Status.DELIVERED, message="not dispatched")
