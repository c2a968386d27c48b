"""The outbox: created in the caller's transaction, once per (kind, object, recipient, channel), sent through the task
queue after commit; e-mail through Django's mailer; statuses only through the transition table."""

import datetime
import socket

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications import services
from notifications.client import SENT, SendAnswer
from notifications.models import Notification, NotificationEvent
from notifications.outbox import notification_queue, notifications_sweep
from notifications.selectors import notification_timeline
from notifications.services import NotificationError, notification_create, notification_set_status

pytestmark = pytest.mark.django_db

Status = Notification.Status


def _email(**fields) -> Notification:
    values = {
        "kind": "booking_confirmed",
        "object_key": "booking-event:7",
        "channel": Notification.Channel.EMAIL,
        "address": "Amina@Example.com",
        "subject": "[Nexus] Booking NX-7K2M9Q is confirmed",
        "body": "Hello Amina,\n\nYour stay is confirmed.",
        "html_body": "<p>Hello Amina,</p>",
        "booking_ref": "NX-7K2M9Q",
    }
    return notification_queue(**{**values, **fields})


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_email_is_created_in_the_transaction_and_sent_after_commit(django_capture_on_commit_callbacks, user):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification = _email(recipient=user)
        assert mail.outbox == [] and notification.status == Status.QUEUED
    assert len(callbacks) == 1
    (message,) = mail.outbox
    assert message.to == ["amina@example.com"] and message.subject == "[Nexus] Booking NX-7K2M9Q is confirmed"
    assert message.body.startswith("Hello Amina") and message.alternatives[0][1] == "text/html"
    notification.refresh_from_db()
    assert (notification.status, notification.attempts, notification.recipient) == (Status.SENT, 1, user)
    assert notification.sent_at is not None
    assert list(notification.events.values_list("kind", "to_status")) == [("attempt", ""), ("decision", "sent")]


def test_nothing_is_sent_when_the_transaction_rolls_back(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            _email()
            raise RuntimeError("the event that caused it failed")
    assert callbacks == [] and mail.outbox == [] and not Notification.objects.exists()


def test_the_same_event_is_queued_once_per_recipient_and_channel(django_capture_on_commit_callbacks):
    other_channel = _email(channel=Notification.Channel.SMS, address="0712345678")  # queued, never sent here
    with django_capture_on_commit_callbacks(execute=True):
        first = _email()
        again = _email(address="amina@example.com", body="A second rendering")
        other_address = _email(address="peter@example.com")
        other_event = _email(object_key="booking-event:8")
    assert again.pk == first.pk
    assert Notification.objects.count() == 4
    assert sorted(m.to[0] for m in mail.outbox) == ["amina@example.com", "amina@example.com", "peter@example.com"]
    assert {other_address.pk, other_channel.pk, other_event.pk}.isdisjoint({first.pk})


def test_the_database_refuses_a_second_row_for_the_same_recipient():
    first, _ = notification_create(
        kind="k", object_key="payment-event:45", channel="email", address="a@example.com", body="x"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            kind="k", object_key="payment-event:45", channel="email", address="a@example.com", body="y"
        )
    assert Notification.objects.get().pk == first.pk


@pytest.mark.parametrize(
    ("channel", "address"),
    [
        ("email", "not an address"),
        ("email", ""),
        ("sms", "0712"),
        ("sms", "+1 415"),
        ("sms", "+254 20 1234567"),
        ("fax", "x"),
    ],
)
def test_an_unusable_address_is_refused_and_nothing_is_queued(channel, address):
    with pytest.raises(NotificationError):
        notification_create(kind="k", object_key="o:1", channel=channel, address=address, body="x")
    assert not Notification.objects.exists()


def test_sms_numbers_are_kept_as_e164():
    notification, _ = notification_create(kind="k", object_key="o:1", channel="sms", address="0712 345 678", body="x")
    assert notification.address == "+254712345678"
    same, created = notification_create(kind="k", object_key="o:1", channel="sms", address="254712345678", body="x")
    assert (same.pk, created) == (notification.pk, False)


def test_a_mail_server_that_cannot_be_reached_is_tried_again_then_failed(settings, django_capture_on_commit_callbacks):
    settings.NOTIFICATION_SEND_ATTEMPTS = 3
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": _closed_port(), "timeout": 2},
        }
    }
    with django_capture_on_commit_callbacks(execute=True):
        notification = _email()
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.FAILED, 3)
    assert "ConnectionRefusedError" in notification.error
    assert notification.events.filter(kind="attempt").count() == 3


def test_the_daily_cap_per_address_stops_emails(settings, django_capture_on_commit_callbacks):
    settings.EMAIL_PER_ADDRESS_PER_DAY = 2
    with django_capture_on_commit_callbacks(execute=True):
        sent = [_email(object_key=f"booking-event:{n}") for n in range(3)]
        elsewhere = _email(address="peter@example.com")
    statuses = list(Notification.objects.filter(pk__in=[n.pk for n in sent]).values_list("status", flat=True))
    assert statuses == [Status.SENT, Status.SENT, Status.FAILED]
    assert Notification.objects.get(pk=elsewhere.pk).status == Status.SENT
    assert len(mail.outbox) == 3


@pytest.mark.parametrize(
    ("start", "target", "allowed"),
    [
        (Status.QUEUED, Status.SENT, True),
        (Status.QUEUED, Status.UNKNOWN, True),
        (Status.QUEUED, Status.DELIVERED, False),
        (Status.SENT, Status.QUEUED, False),
        (Status.UNKNOWN, Status.QUEUED, False),  # a send that may have gone out is never queued again
        (Status.UNKNOWN, Status.DELIVERED, True),
        (Status.FAILED, Status.DELIVERED, True),
        (Status.DELIVERED, Status.FAILED, False),
    ],
)
def test_statuses_change_only_through_the_transition_table(start, target, allowed):
    notification, _ = notification_create(kind="k", object_key="o:1", channel="sms", address="0712345678", body="x")
    Notification.objects.filter(pk=notification.pk).update(status=start)
    notification.refresh_from_db()
    if allowed:
        notification_set_status(notification, target, message="test")
        assert Notification.objects.get(pk=notification.pk).status == target
        assert notification.events.get(kind="decision").from_status == start
    else:
        with pytest.raises(NotificationError):
            notification_set_status(notification, target, message="test")
        assert Notification.objects.get(pk=notification.pk).status == start


def test_the_timeline_shows_kind_channel_status_and_time_never_a_body(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _email(body="Your code is 583019", secret=True, kind="sign_in_code")
        _email(object_key="booking-event:8")
    rows = list(notification_timeline(booking_ref="NX-7K2M9Q"))
    assert [(row["kind"], row["channel"], row["status"]) for row in rows] == [
        ("sign_in_code", "email", "sent"),
        ("booking_confirmed", "email", "sent"),
    ]
    assert all(row["created_at"] for row in rows) and "583019" not in str(rows)
    code = Notification.objects.get(kind="sign_in_code")
    assert code.body == "" and code.shown_body == ""  # erased once sent


def test_the_admin_never_shows_a_codes_body(admin_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        code = _email(body="Your code is 583019", secret=True, kind="sign_in_code")
    page = admin_client.get(f"/admin/notifications/notification/{code.pk}/change/")
    assert page.status_code == 200 and "583019" not in page.content.decode()
    assert Notification.objects.get(pk=code.pk).body == "Your code is 583019"  # kept until it is sent


def test_the_sweep_settles_attempts_that_never_reported_back_and_resends_lost_tasks(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False):
        stuck = _email(object_key="booking-event:1")
        lost = _email(object_key="booking-event:2")
        fresh = _email(object_key="booking-event:3")
    long_ago = timezone.now() - datetime.timedelta(minutes=30)
    Notification.objects.filter(pk=stuck.pk).update(attempts=1, sending_since=long_ago, updated_at=long_ago)
    Notification.objects.filter(pk=lost.pk).update(updated_at=long_ago)
    assert notifications_sweep() == (1, 1)
    states = dict(Notification.objects.values_list("pk", "status"))
    assert (states[stuck.pk], states[lost.pk], states[fresh.pk]) == (Status.UNKNOWN, Status.SENT, Status.QUEUED)
    assert [m.to for m in mail.outbox] == [["amina@example.com"]]
    assert NotificationEvent.objects.filter(notification=stuck, to_status="unknown").exists()


def test_the_sweep_command_says_what_it_did(capsys):
    call_command("send_notifications")
    assert "0 attempt(s) marked unknown, 0 message(s) queued again." in capsys.readouterr().out


def test_an_outcome_that_comes_back_after_the_sweep_gave_up_changes_no_status(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        notification = _email()
    long_ago = timezone.now() - datetime.timedelta(minutes=30)
    Notification.objects.filter(pk=notification.pk).update(attempts=1, sending_since=long_ago)
    notifications_sweep()
    services._record(notification.pk, SendAnswer(SENT))  # the worker was only slow
    notification.refresh_from_db()
    assert notification.status == Status.UNKNOWN and notification.sending_since is None
    assert notification.events.filter(kind="attempt").count() == 1
