"""The messages of a booking in a served copy: booked and paid in a real browser over both emulators (Daraja and
Africa's Talking, reached over HTTP), then read back through the SMS emulator's list, the mail outbox and the support
console."""

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from africastalking_emulator import dispatcher as sms_dispatcher
from core.money import format_kes
from daraja_emulator import dispatcher
from listings.models import Listing
from mpesa.models import Payment
from notifications.models import Notification
from reservations.models import Booking
from tests.daraja import use_emulator
from tests.helpers.accounts import DEMO_PASSWORD
from tests.helpers.sms import SmsEmulator, use_sms_emulator
from tests.helpers.waiting import wait_for
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = re.compile(r"^\s*Password\*?\s*$")
PAYER = "+254700000001"  # the Daraja emulator's number that pays after about 2 s
FRIEND = "+254711000222"  # a linked guest's number, whose handset is switched off
ADDRESS = "Plot 14, Beach Road, Diani"


@pytest.fixture
def emulators(settings, live_server):
    use_emulator(
        settings,
        live_server,
        MPESA_EMULATOR_CALLBACK_DELAY_SECONDS=0.5,
        MPESA_EMULATOR_TIMEOUT_SECONDS=0.5,
        MPESA_QUERY_AFTER_SECONDS=5,
    )
    use_sms_emulator(settings, live_server)
    yield SmsEmulator(live_server.url)
    dispatcher.stop()
    sms_dispatcher.stop()


def _status(pk: int) -> str:
    return Notification.objects.values_list("status", flat=True).get(pk=pk)


def test_book_and_pay_one_confirmation_sms_to_the_booker_and_each_person_told_only_their_share(
    live_server, page, make_user, emulators, agent_client
):
    host = make_user(email="host@example.com", full_name="Hassan Host")
    listing = make_listing(host, title="Baobab Beach Cottage", nightly_price_kes=10_000)
    Listing.objects.filter(pk=listing.pk).update(
        street_address=ADDRESS, check_in_instructions="Juma meets you at the gate.", host_phone=""
    )
    make_user(email="achieng@example.com", full_name="Achieng Odhiambo")
    make_user(email="peter@example.com", full_name="Peter Friend", mpesa_phone=FRIEND.lstrip("+"))
    emulators.outcome(FRIEND, status="AbsentSubscriber")
    check_in = timezone.localdate() + datetime.timedelta(days=15)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("achieng@example.com")
    page.get_by_label(PASSWORD).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_label("Account menu")).to_be_visible()
    page.goto(
        f"{live_server.url}{listing.get_absolute_url()}?check_in={check_in}&check_out="
        f"{check_in + datetime.timedelta(days=3)}&guests=3"
    )
    page.locator("#stay-quote").get_by_role("link", name="Reserve").click()
    rows = page.locator("[data-guest-row]")
    expect(rows).to_have_count(3)
    rows.nth(1).get_by_label("Full name").fill("Peter Friend")
    rows.nth(1).get_by_label("E-mail").fill("peter@example.com")  # a verified account: linked
    rows.nth(2).get_by_label("Full name").fill("Baraka Otieno")
    rows.nth(2).get_by_label("E-mail").fill("baraka@example.com")  # typed, no account
    page.get_by_role("button", name="Hold these dates").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Baobab Beach Cottage")

    panel = page.locator("#payment-status")
    panel.get_by_label("M-Pesa phone number").fill("0700 000 001")
    panel.get_by_role("button", name=re.compile(r"^Pay KES")).click()
    expect(panel.locator('[data-payment-state="confirmed"]')).to_be_visible(timeout=20_000)
    booking = Booking.objects.get(listing=listing)
    payment = Payment.objects.get(booking=booking, status=Payment.Status.SUCCEEDED)
    receipt = payment.receipt
    assert receipt and booking.status == Booking.Status.CONFIRMED

    # The emulator's list for the number that paid: exactly one confirmation, with the reference and the receipt,
    # delivered (its delivery report came back over HTTP).
    def booker_messages():
        return emulators.messages(to="0700 000 001")

    confirmations = wait_for(
        lambda: [m for m in booker_messages() if booking.ref in m["body"] and "confirmed" in m["body"]],
        message="no confirmation SMS",
    )
    assert len(confirmations) == 1 and confirmations[0]["to"] == PAYER
    assert receipt in confirmations[0]["body"] and format_kes(booking.total_kes) in confirmations[0]["body"]
    sms = Notification.objects.get(channel="sms", kind="booking_confirmed", address=PAYER)
    wait_for(lambda: _status(sms.pk) == Notification.Status.DELIVERED, message="no delivery report")
    assert [m["status"] for m in booker_messages() if m["messageId"] == confirmations[0]["messageId"]] == ["Success"]

    # Nobody else is sent the receipt; the linked friend is told they are on the trip, without payment details.
    everything = emulators.messages()
    assert [m["to"] for m in everything if receipt in m["body"]] == [PAYER]
    (friend_sms,) = [m for m in everything if m["to"] == FRIEND]
    assert "You're on this trip" in friend_sms["body"] and "KES" not in friend_sms["body"]

    # The friend's handset was off: the failed delivery shows on the support console's timeline.
    friend = Notification.objects.get(channel="sms", address=FRIEND)
    wait_for(lambda: _status(friend.pk) == Notification.Status.FAILED, message="no failure report")
    html = agent_client.get(f"/support/payments/{payment.pk}/").content.decode()
    assert 'data-status="failed" data-channel="sms"' in html and "Failed (AbsentSubscriber)" in html
    assert 'data-status="delivered" data-channel="sms"' in html
    message_entries = [chunk.split("</li>", 1)[0] for chunk in html.split('data-source="message"')[1:]]
    assert len(message_entries) == Notification.objects.filter(booking_ref=booking.ref).count()
    assert not any(receipt in entry for entry in message_entries)  # a kind, a channel, a status: never a body

    # The e-mails: the booker's carries everything, the typed address only the reference, dates and a link.
    def mail_to(address):
        return next(m for m in mail.outbox if m.to == [address] and "is confirmed" in m.subject)

    booker_mail = mail_to("achieng@example.com").body
    for item in [
        booking.ref,
        receipt,
        format_kes(booking.total_kes),
        ADDRESS,
        "Juma meets you",
        f"/trips/{booking.ref}/",
    ]:
        assert item in booker_mail, item
    typed = mail_to("baraka@example.com")
    assert booking.ref in typed.body and f"{live_server.url}/trips/{booking.ref}/" in typed.body
    assert check_in.strftime("%-d %b %Y") in typed.body
    for secret in [receipt, "KES", ADDRESS, "Juma", "Achieng", "Peter Friend", "0700"]:
        assert secret not in typed.body and secret not in typed.alternatives[0][0], secret
