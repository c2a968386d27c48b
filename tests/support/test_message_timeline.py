"""The payment page's timeline shows every message about the booking: kind, channel, status and time, never a
body."""

import pytest

from notifications.models import Notification
from notifications.outbox import notification_queue
from notifications.services import delivery_report_apply, delivery_report_record, notification_set_status

pytestmark = pytest.mark.django_db


def test_each_message_shows_kind_channel_status_and_time_and_no_body(
    agent_client, paid_payment, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        payment = paid_payment(phone="254708374149", receipt="UKK4H7TQ2M")
    booking = payment.booking
    sms = Notification.objects.get(channel="sms", kind="booking_confirmed", address="+254708374149")
    # As if Africa's Talking had taken it, then reported the handset absent.
    Notification.objects.filter(pk=sms.pk).update(status="queued")
    sms.refresh_from_db()
    notification_set_status(sms, "sent", message="Taken.", provider_message_id="ATXid_abc123")
    event = delivery_report_record(
        raw_body=b"id=ATXid_abc123&status=AbsentSubscriber&phoneNumber=%2B254708374149&failureReason=AbsentSubscriber",
        size=96,
        source_ip="127.0.0.1",
    )
    delivery_report_apply(event_id=event.pk)
    code = notification_queue(
        kind="phone_code",
        object_key="code:1",
        channel="sms",
        address="0712345678",
        body="Your Nexus code is 482913",
        booking_ref=booking.ref,
        secret=True,
    )

    response = agent_client.get(f"/support/payments/{payment.pk}/")
    html = response.content.decode()
    entries = [e for e in response.context["detail"].timeline if e.source == "message"]
    by_id = {e.meta["id"]: e for e in entries}
    failed = by_id[sms.pk]
    assert failed.title == "SMS: booking confirmed" and failed.meta["status"] == "failed"
    assert "To 0708 ••• 149: Failed (AbsentSubscriber)." in failed.message and "queued " in failed.message
    assert 'data-status="failed" data-channel="sms"' in html
    email = next(e for e in entries if e.meta["channel"] == "email")
    assert email.title == "E-mail: booking confirmed" and email.meta["status"] == "sent"
    assert by_id[code.pk].meta["status"] == "queued"
    # Never a body: not the code, not the receipt the booker's SMS carried.
    assert "482913" not in html and "M-Pesa receipt UKK4H7TQ2M" not in html
