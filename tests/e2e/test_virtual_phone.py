"""The emulator's virtual phone in a real browser: a push's prompt appears by itself, a PIN approves it (or the payer
cancels), and the merchant's callback URL receives the matching callback over HTTP."""

import json

import pytest
import requests
from playwright.sync_api import expect

from daraja_emulator import dispatcher
from tests.daraja_emulator.emulator_support import BASIC, Receiver, for_phone
from tests.helpers.browser import assert_no_horizontal_scroll

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _emulator(settings):
    settings.MPESA_ENV = "emulator"
    settings.MPESA_CONSUMER_KEY = settings.MPESA_CONSUMER_SECRET = ""
    settings.MPESA_SHORTCODE = settings.MPESA_PASSKEY = ""
    settings.MPESA_EMULATOR_PROMPT_TIMEOUT_SECONDS = 60


@pytest.fixture
def receiver(live_server):
    server = Receiver()
    yield server
    dispatcher.stop()
    server.close()


def _push(live_server, receiver, amount: int) -> str:
    base = live_server.url + "/daraja"
    token = requests.get(
        base + "/oauth/v1/generate?grant_type=client_credentials", headers={"Authorization": BASIC}, timeout=5
    ).json()["access_token"]
    response = requests.post(
        base + "/mpesa/stkpush/v1/processrequest",
        json=for_phone("254708374149", receiver.url + "/payments/stk-callback/t0k3n/", Amount=amount),
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return response.json()["CheckoutRequestID"]


def test_a_prompt_appears_and_approving_it_sends_the_success_callback(live_server, receiver, sized_page):
    page = sized_page
    page.goto(live_server.url + "/daraja/phone/?number=0708374149")
    expect(page.get_by_role("heading", name="Virtual phone")).to_be_visible()
    expect(page.get_by_text("No prompts waiting")).to_be_visible()

    checkout_request_id = _push(live_server, receiver, 4500)
    prompt = page.locator(f'[data-prompt="{checkout_request_id}"]')
    expect(prompt).to_be_visible()  # polled in, no reload
    expect(prompt).to_contain_text("KES 4,500")
    expect(prompt).to_contain_text("BK2611200042")
    assert_no_horizontal_scroll(page)

    pin = prompt.get_by_label("Enter M-Pesa PIN")
    pin.fill("12")
    for _ in range(2):  # two polls: nothing new, so the half-typed PIN stays
        with page.expect_response(lambda response: "/daraja/phone/?" in response.url and "seen=" in response.url):
            pass
    expect(pin).to_have_value("12")
    pin.fill("1234")
    prompt.get_by_role("button", name="Approve").click()

    notice = page.locator("[data-phone-notice]")
    expect(notice).to_contain_text("Confirmed. KES 4,500 sent to NEXUS STAYS for account BK2611200042.")
    expect(prompt).to_have_count(0)
    (delivered,) = receiver.wait_for(1)
    callback = json.loads(delivered["raw"])["Body"]["stkCallback"]
    assert delivered["path"] == "/payments/stk-callback/t0k3n/"
    assert (callback["CheckoutRequestID"], callback["ResultCode"]) == (checkout_request_id, 0)
    items = {item["Name"]: item.get("Value") for item in callback["CallbackMetadata"]["Item"]}
    assert items["Amount"] == 4500 and items["PhoneNumber"] == 254708374149
    assert notice.inner_text().startswith(items["MpesaReceiptNumber"] + " Confirmed.")


def test_cancelling_a_prompt_sends_1032(live_server, receiver, page):
    checkout_request_id = _push(live_server, receiver, 1200)
    page.goto(live_server.url + "/daraja/phone/")
    prompt = page.locator(f'[data-prompt="{checkout_request_id}"]')
    expect(prompt).to_contain_text("KES 1,200")
    prompt.get_by_role("button", name="Cancel").click()
    expect(page.locator("[data-phone-notice]")).to_contain_text("You cancelled the payment of KES 1,200")
    (delivered,) = receiver.wait_for(1)
    callback = json.loads(delivered["raw"])["Body"]["stkCallback"]
    assert (callback["CheckoutRequestID"], callback["ResultCode"]) == (checkout_request_id, 1032)
    assert "CallbackMetadata" not in callback
