"""The SMS emulator's virtual inbox in a real browser: a text message queued by the outbox appears by itself once
sent, and its delivery report shows on it, at phone and desktop widths."""

import pytest
from django.db import transaction
from playwright.sync_api import expect

from notifications.models import Notification
from notifications.outbox import notification_queue
from tests.helpers.browser import assert_no_horizontal_scroll
from tests.helpers.sms import status_of
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_sent_message_appears_in_the_inbox_and_shows_its_delivery(live_server, sms_emulator, sized_page, settings):
    settings.AT_EMULATOR_REPORT_DELAY_SECONDS = 3600  # the report waits for the dispatch hook below
    page = sized_page
    page.goto(live_server.url + "/africastalking/phone/?number=0712345678")
    expect(page.get_by_role("heading", name="Virtual inbox")).to_be_visible()
    expect(page.get_by_text("No messages yet")).to_be_visible()

    body = "Nexus: booking NX-7K2M9Q is confirmed. Check-in Fri 5 Dec from 14:00. Receipt UKK4H7TQ2M."
    with transaction.atomic():
        notification = notification_queue(
            kind="booking_confirmed",
            object_key="booking-event:1",
            channel=Notification.Channel.SMS,
            address="0712 345 678",
            body=body,
        )
    message = page.locator("[data-message]")
    expect(message).to_contain_text(body)  # polled in, no reload
    expect(message).to_contain_text("Sent")
    assert_no_horizontal_scroll(page)

    sms_emulator.dispatch()
    wait_for(lambda: status_of(notification) == Notification.Status.DELIVERED, message="no delivery report")
    expect(message).to_contain_text("Success")
    page.goto(live_server.url + "/africastalking/phone/?number=0722000111")
    expect(page.get_by_text("No messages yet")).to_be_visible()
