"""Review requests and reminders through the outbox, from the daily send_review_requests command."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from notifications.models import Notification
from reviews.models import Review
from reviews.requests import review_requests_send
from tests.helpers.bookings import stay_booking
from tests.helpers.reviews import host_form
from tests.helpers.stays import past_stay

pytestmark = pytest.mark.django_db


def _sent(kind: str) -> set[tuple[str, str]]:
    return set(Notification.objects.filter(kind=kind).values_list("channel", "address"))


def test_both_sides_are_asked_the_day_after_check_out_once(guest, host, listing):
    guest.mpesa_phone = "254708374149"
    guest.save()
    yesterday = stay_booking(listing, guest, past_stay(checked_out_days_ago=1))
    stay_booking(listing, guest, past_stay(checked_out_days_ago=-3))  # still to come: nothing
    today = timezone.localdate()
    review_requests_send(today=today)
    assert _sent("review_request") == {("email", guest.email), ("sms", "+254708374149"), ("email", host.email)}
    guest_email = Notification.objects.get(kind="review_request", address=guest.email)
    assert f"/trips/{yesterday.ref}/review/" in guest_email.body
    assert "never asks for payment outside the site" in guest_email.body
    host_email = Notification.objects.get(kind="review_request", address=host.email)
    assert f"/host/bookings/{yesterday.ref}/review/" in host_email.body
    sms = Notification.objects.get(kind="review_request", channel="sms")
    assert len(sms.body) <= 160 and sms.body.isascii() and f"/trips/{yesterday.ref}/review/" in sms.body
    assert "never asks for payment outside the site" in host_email.html_body
    review_requests_send(today=today)  # the cron runs again: nothing more
    assert Notification.objects.filter(kind="review_request").count() == 3


def test_only_the_side_that_has_not_written_is_reminded_before_the_window_closes(client, guest, host, listing):
    booking = stay_booking(listing, guest, past_stay(checked_out_days_ago=12))
    client.force_login(host)
    assert client.post(f"/host/bookings/{booking.ref}/review/", host_form()).status_code == 302
    review_requests_send(today=timezone.localdate())
    assert _sent("review_reminder") == {("email", guest.email)}
    assert not _sent("review_request")


def test_unpaid_cancelled_and_closed_stays_get_nothing(guest, listing):
    stay_booking(listing, guest, past_stay(checked_out_days_ago=2), paid=False)
    stay_booking(listing, guest, past_stay(checked_out_days_ago=5), status="cancelled")
    stay_booking(listing, guest, past_stay(checked_out_days_ago=15))
    review_requests_send(today=timezone.localdate())
    assert not Notification.objects.exists()


def test_the_daily_command_publishes_lone_reviews_whose_window_closed(client, guest, listing):
    booking = stay_booking(listing, guest, past_stay(checked_out_days_ago=14))
    client.force_login(guest)
    client.post(
        f"/trips/{booking.ref}/review/",
        {
            "rating": "4",
            **dict.fromkeys(("cleanliness", "accuracy", "check_in", "communication", "location", "value"), "4"),
            "text": "A calm, clean flat close to everything we needed.",
        },
    )
    review = Review.objects.get()
    assert review.published_at is None
    call_command("send_review_requests")
    review.refresh_from_db()
    assert review.published_at is None  # the window's last day is today
    Review.objects.filter(pk=review.pk).update(window_ends_on=timezone.localdate() - datetime.timedelta(days=1))
    call_command("send_review_requests")
    review.refresh_from_db()
    listing.refresh_from_db()
    assert review.published_at is not None and listing.review_count == 1


def test_sms_follow_the_language_and_the_preferences_of_each_account(guest, host, listing):
    from notifications.models import NotificationPreference

    guest.mpesa_phone = "254708374149"
    guest.save()
    host.mpesa_phone = "254712345678"
    host.save()
    NotificationPreference.objects.create(user=guest, language="sw")
    NotificationPreference.objects.create(user=host, sms_off=["review_request"])
    booking = stay_booking(listing, guest, past_stay(checked_out_days_ago=1))
    review_requests_send(today=timezone.localdate())
    sms = Notification.objects.get(kind="review_request", channel="sms")
    assert sms.address == "+254708374149" and "tafadhali" in sms.body and booking.ref in sms.body
    assert _sent("review_request") == {("email", guest.email), ("sms", "+254708374149"), ("email", host.email)}
