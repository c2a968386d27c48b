"""The support console in a real browser, against the Daraja emulator over real HTTP: live search, the payment's
raw callback, a query that settles a payment, and a refund approved by the lead in a second browser that leaves
the attention list when the emulator's reversal result arrives."""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from daraja_emulator import dispatcher
from mpesa.models import Payment
from mpesa.services import payment_start
from reservations.models import Booking
from reservations.services import booking_cancel
from tests.helpers.bookings import booking_for
from tests.helpers.browser import DESKTOP, assert_no_horizontal_scroll
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _emulated_daraja(settings, live_server):
    settings.MPESA_ENV = "emulator"
    settings.MPESA_BASE_URL = live_server.url + "/daraja"
    settings.MPESA_CALLBACK_BASE_URL = live_server.url
    settings.MPESA_CONSUMER_KEY = settings.MPESA_CONSUMER_SECRET = ""
    settings.MPESA_SHORTCODE = settings.MPESA_PASSKEY = ""
    settings.MPESA_INITIATOR_NAME = settings.MPESA_SECURITY_CREDENTIAL = ""
    settings.MPESA_EMULATOR_CALLBACK_DELAY_SECONDS = 0.2
    settings.MPESA_EMULATOR_RESULT_DELAY_SECONDS = 0.2
    settings.MPESA_EMULATOR_QUERY_NOT_FOUND_SECONDS = 0
    settings.MPESA_QUERY_AFTER_SECONDS = 0
    settings.MPESA_QUERY_EVERY_SECONDS = 0
    settings.MPESA_PUSHES_PER_PHONE = 100
    yield
    dispatcher.stop()


def signed_in(context, live_server, user) -> None:
    """Give the browser a session for the user (their TOTP sign-in is allauth's, tested there)."""
    client = Client()
    client.force_login(user)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])


def paid(guest, host) -> Payment:
    booking = booking_for(guest, host)
    payment = payment_start(booking=booking, user=guest, phone="254700000001")
    wait_for(lambda: Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED)
    payment.refresh_from_db()
    return payment


def test_an_agent_finds_a_payment_live_reads_its_callback_and_settles_a_pending_one(
    live_server, sized_page, people, agent
):
    guest, host = people
    done = paid(guest, host)
    pending = payment_start(booking=booking_for(guest, host), user=guest, phone="254700000005")  # never calls back
    page = sized_page
    signed_in(page.context, live_server, agent)

    page.goto(f"{live_server.url}/support/")
    expect(page.get_by_role("heading", name="Transactions")).to_be_visible()
    page.evaluate("window.notReloaded = true")
    page.get_by_label("Search").fill(done.receipt)
    result = page.locator(f'[data-payment="{done.pk}"]')
    expect(result).to_be_visible(timeout=15_000)
    expect(page.locator("[data-results] li")).to_have_count(1, timeout=15_000)
    expect(page).to_have_url(re.compile(rf"q={done.receipt}"))
    assert page.evaluate("window.notReloaded") is True  # swapped in by htmx, no reload
    assert_no_horizontal_scroll(page)

    result.get_by_role("link").click()
    expect(page.get_by_role("heading", name=re.compile(f"Payment {done.pk}"))).to_be_visible()
    callback = page.locator('[data-kind="callback"]').first
    raw = callback.locator("[data-raw]")
    expect(raw).to_be_hidden()
    callback.get_by_text("Raw M-Pesa body").click()
    expect(raw).to_be_visible()
    expect(raw).to_contain_text('"MpesaReceiptNumber"')
    expect(raw).to_contain_text(done.receipt)
    assert_no_horizontal_scroll(page)

    page.goto(f"{live_server.url}/support/payments/{pending.pk}/")
    expect(page.locator("[data-payment-status]")).to_have_text("Waiting for the PIN")
    page.evaluate("window.notReloaded = true")
    query = page.locator("#query-form")
    query.get_by_label("STK Query").check()
    query.get_by_label("Reason").fill("Caller says she paid, SMS received")
    query.get_by_role("button", name="Ask M-Pesa").click()
    expect(page.locator("[data-payment-status]")).to_have_text("Succeeded")
    assert page.evaluate("window.notReloaded") is True
    expect(page.locator('[data-source="staff"]')).to_contain_text("Caller says she paid, SMS received")
    assert Booking.objects.get(pk=pending.booking_id).status == Booking.Status.CONFIRMED


def test_a_refund_for_a_cancelled_booking_is_approved_by_the_lead_and_leaves_attention_when_reversed(
    live_server, browser, people, agent, lead, settings
):
    settings.SUPPORT_REFUND_APPROVAL_KES = 20_000
    settings.MPESA_EMULATOR_RESULT_DELAY_SECONDS = 2
    guest, host = people
    payment = paid(guest, host)
    booking = booking_cancel(booking=Booking.objects.get(pk=payment.booking_id), user=guest, reason="Plans changed")
    due = booking.refund_due_kes
    assert due > 20_000

    agent_context = browser.new_context(viewport=DESKTOP)
    lead_context = browser.new_context(viewport=DESKTOP)
    signed_in(agent_context, live_server, agent)
    signed_in(lead_context, live_server, lead)
    page = agent_context.new_page()
    page.set_default_timeout(20_000)

    page.goto(f"{live_server.url}/support/attention/")
    item = page.locator(f'[data-item="refund_due-{booking.pk}"]')
    expect(item).to_contain_text(f"{due:,} KES due back to the guest")
    item.get_by_role("link", name=f"Payment {payment.pk}").click()
    page.wait_for_load_state()  # htmx is ready before the refund form is sent
    refund = page.locator("#refund-form")
    refund.get_by_label("Amount (KES)").fill(str(due))
    refund.get_by_label("M-Pesa reversal to the payer").check()
    refund.get_by_label("Reason").fill("Guest cancelled within the moderate policy")
    refund.get_by_role("button", name="Request refund").click()
    expect(page.locator("[data-refund] [data-refund-status]")).to_have_text("Awaiting approval")
    expect(page.get_by_role("button", name="Approve refund")).to_have_count(0)  # not the agent's to approve

    page.goto(f"{live_server.url}/support/attention/")
    expect(item).to_be_visible()

    lead_page = lead_context.new_page()
    lead_page.goto(f"{live_server.url}/support/attention/")
    waiting = lead_page.locator('[data-item^="refund-"]')
    expect(waiting).to_contain_text(f"Refund of {due:,} KES awaiting a second agent's approval")
    waiting.get_by_label("Approval note").fill("Policy checked, dates released")
    waiting.get_by_role("button", name="Approve refund").click()
    expect(waiting).to_have_count(0)

    # The agent's list updates by itself: the item goes once the emulator's reversal result has arrived
    # (a 2 s delay, then the list's next 3 s refresh).
    expect(item).to_have_count(0, timeout=20_000)
    booking.refresh_from_db()
    assert (booking.refund_due_kes, booking.refunded_kes) == (0, due)
    agent_context.close()
    lead_context.close()
