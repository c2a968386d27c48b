"""Paying with M-Pesa in a real browser, over real HTTP: our client, the emulator served by the live server,
and its callbacks to our endpoint. The panel turns to "confirmed" by itself, without a reload."""

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from daraja_emulator import dispatcher
from tests.daraja import use_emulator
from tests.helpers.accounts import DEMO_PASSWORD
from tests.helpers.browser import assert_no_horizontal_scroll
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = re.compile(r"^\s*Password\*?\s*$")


@pytest.fixture(autouse=True)
def _emulated_daraja(settings, live_server):
    use_emulator(
        settings,
        live_server,
        MPESA_EMULATOR_CALLBACK_DELAY_SECONDS=0.5,
        MPESA_EMULATOR_TIMEOUT_SECONDS=0.5,
        MPESA_QUERY_AFTER_SECONDS=5,
    )
    yield
    dispatcher.stop()


def _sign_in(page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label(PASSWORD).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_label("Account menu")).to_be_visible()


def _pay(page, phone: str) -> None:
    panel = page.locator("#payment-status")
    panel.get_by_label("M-Pesa phone number").fill(phone)
    panel.get_by_role("button", name=re.compile(r"^Pay KES")).click()


def test_search_book_for_two_and_pay_the_panel_confirms_without_a_reload(live_server, sized_page, make_user):
    page = sized_page
    host = make_user(email="host@example.com", full_name="Hassan Host")
    make_listing(host, title="Baobab Beach Cottage", county="kwale", town="Diani", nightly_price_kes=10_000)
    make_user(email="achieng@example.com", full_name="Achieng Odhiambo")
    check_in = timezone.localdate() + datetime.timedelta(days=15)
    check_out = check_in + datetime.timedelta(days=3)

    _sign_in(page, live_server, "achieng@example.com")
    page.goto(f"{live_server.url}/listings/?where=Diani&check_in={check_in}&check_out={check_out}&guests=2")
    page.locator("#search-results").get_by_role("link", name=re.compile("Baobab Beach Cottage")).click()
    page.locator("#stay-quote").get_by_role("link", name="Reserve").click()
    rows = page.locator("[data-guest-row]")
    expect(rows).to_have_count(2)
    rows.nth(1).get_by_label("Full name").fill("Baraka Otieno")
    rows.nth(1).get_by_label("E-mail").fill("baraka@example.com")
    page.get_by_role("button", name="Hold these dates").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Baobab Beach Cottage")
    trip_url = page.url

    _pay(page, "0700 000 001")
    panel = page.locator("#payment-status")
    expect(panel).to_contain_text("Check your phone (0700 ••• 001)")
    expect(panel.locator('[data-payment-state="confirmed"]')).to_be_visible(timeout=20_000)
    expect(panel).to_contain_text("is confirmed")
    # The rest of the trip page follows the panel: status, arrival details, activity.
    expect(page.locator("#trip-status")).to_contain_text("Confirmed.")
    expect(page.locator("[data-private-details]")).to_be_visible()
    expect(page.locator("[data-timeline]")).to_contain_text("Paid and confirmed.")
    assert page.url == trip_url
    assert_no_horizontal_scroll(page)

    page.reload()
    expect(page.locator('[data-payment-state="confirmed"]')).to_be_visible()
    to = {m.to[0] for m in mail.outbox if "is confirmed" in m.subject}
    assert {"achieng@example.com", "baraka@example.com"} <= to


def test_pay_on_the_virtual_phone_a_cancel_then_a_retry(live_server, page, browser, make_user):
    host = make_user(email="host@example.com", full_name="Hassan Host")
    listing = make_listing(host, title="Lamu Roof House", county="lamu", town="Shela", nightly_price_kes=8_000)
    make_user(email="chebet@example.com", full_name="Chebet Koech")
    check_in = timezone.localdate() + datetime.timedelta(days=12)
    check_out = check_in + datetime.timedelta(days=2)
    _sign_in(page, live_server, "chebet@example.com")
    page.goto(f"{live_server.url}/listings/{listing.slug}/book/?check_in={check_in}&check_out={check_out}&guests=1")
    page.get_by_role("button", name="Hold these dates").click()
    panel = page.locator("#payment-status")

    # The guest cancels on the phone: the panel says so and offers the form again.
    _pay(page, "254700000003")
    expect(panel.locator('[data-payment-state="failed"]')).to_have_text(
        "You cancelled the request on your phone.", timeout=20_000
    )

    # A retry on the virtual phone, approved in a second tab.
    _pay(page, "254708374149")
    expect(panel).to_contain_text("enter your M-Pesa PIN")
    phone = page.context.new_page()
    phone.goto(f"{live_server.url}/daraja/phone/?number=254708374149")
    prompt = phone.locator("[data-prompt]").first
    expect(prompt).to_be_visible(timeout=10_000)
    prompt.get_by_label("Enter M-Pesa PIN").fill("1234")
    prompt.get_by_role("button", name="Approve").click()
    expect(panel.locator('[data-payment-state="confirmed"]')).to_be_visible(timeout=20_000)


def test_the_prompt_help_stays_open_while_the_panel_polls(live_server, page, make_user):
    host = make_user(email="host@example.com", full_name="Hassan Host")
    listing = make_listing(host, title="Lamu Roof House", county="lamu", town="Shela", nightly_price_kes=8_000)
    make_user(email="chebet@example.com", full_name="Chebet Koech")
    check_in = timezone.localdate() + datetime.timedelta(days=12)
    check_out = check_in + datetime.timedelta(days=2)
    _sign_in(page, live_server, "chebet@example.com")
    page.goto(f"{live_server.url}/listings/{listing.slug}/book/?check_in={check_in}&check_out={check_out}&guests=1")
    page.get_by_role("button", name="Hold these dates").click()
    panel = page.locator("#payment-status")
    _pay(page, "254708374149")  # the virtual phone waits for a PIN that nobody types
    expect(panel).to_contain_text("enter your M-Pesa PIN")
    panel.get_by_text("No prompt on your phone?").click()
    help_text = panel.locator("[data-prompt-help]")
    expect(help_text).to_have_attribute("open", "")
    for _ in range(2):  # the panel is swapped by its poll every 2 s
        with page.expect_response(lambda response: "/payment-status/" in response.url, timeout=10_000):
            pass
    expect(panel).to_contain_text("enter your M-Pesa PIN")
    expect(help_text).to_have_attribute("open", "")
    expect(panel.get_by_text("SIM toolkit")).to_be_visible()
