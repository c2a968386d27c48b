"""Signing up and in with a mobile number in a real browser, with the codes sent as SMS to the Africa's Talking
emulator over HTTP and read back from it, at 360 px and at desktop width."""

import re

import pytest
from playwright.sync_api import expect

from core.models import User
from notifications.models import Notification
from tests.helpers.browser import assert_no_horizontal_scroll
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = re.compile(r"^\s*Password\*?\s*$")


def _code_in_inbox(sms_emulator, number: str, already: int = 0) -> str:
    """The code in the newest message the emulator took for this number (GET /africastalking/__emulator/?to=)."""
    messages = wait_for(
        lambda: [m for m in sms_emulator.messages(to=number) if m["messageId"]][already:],
        message=f"no SMS reached {number}",
    )
    return re.search(r"\b(\d{6})\b", messages[-1]["body"]).group(1)


def _sign_out(page) -> None:
    page.get_by_label("Account menu").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in", exact=True)).to_be_visible()


def test_sign_up_with_a_number_enter_the_texted_code_and_sign_in_again_by_number(live_server, sms_emulator, sized_page):
    page = sized_page
    page.goto(live_server.url + "/accounts/signup/")
    page.get_by_label("Full name").fill("Achieng Odhiambo")
    page.get_by_label("Mobile number").fill("0712 345 678")
    page.get_by_label(PASSWORD).fill("safari-njema-2026")
    page.get_by_label("Password (again)").fill("safari-njema-2026")
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Enter Phone Verification Code")).to_be_visible()
    assert_no_horizontal_scroll(page)

    code = _code_in_inbox(sms_emulator, "0712345678")
    page.get_by_placeholder("Code").fill(code)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_label("Account menu")).to_contain_text("Achieng")
    user = User.objects.get(phone="+254712345678")
    assert user.phone_verified and user.email is None
    # Secret: erased from the outbox once sent.
    wait_for(lambda: Notification.objects.get(kind="phone_code").body == "", message="code not erased")

    _sign_out(page)
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email or mobile number").fill("+254 712 345 678")
    page.get_by_label(PASSWORD).fill("safari-njema-2026")
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_label("Account menu")).to_contain_text("Achieng")
    page.goto(live_server.url + "/accounts/profile/")
    expect(page.locator("[data-mobile-number]")).to_contain_text("0712 345 678 · verified")
    assert_no_horizontal_scroll(page)


def test_sign_in_by_a_texted_code_and_none_for_a_number_without_an_account(live_server, sms_emulator, page):
    User.objects.create(full_name="Otieno Juma", phone="+254722000111", phone_verified=True)
    for number, has_account in (("0733 000 222", False), ("0722 000 111", True)):
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_role("link", name="Send me a sign-in code").click()
        page.get_by_label("Mobile number").fill(number)
        page.get_by_role("button", name="Request a code").click()
        expect(page.get_by_text("If this number has an account, a code is on its way")).to_be_visible()
        if not has_account:
            assert sms_emulator.messages(to=number) == []
            page.context.clear_cookies()
    page.get_by_placeholder("Code").fill(_code_in_inbox(sms_emulator, "0722000111"))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_label("Account menu")).to_contain_text("Otieno")
    assert sms_emulator.messages(to="0733000222") == []
    assert not Notification.objects.filter(address="+254733000222").exists()


def test_demo_style_accounts_still_sign_in_by_e_mail(live_server, page, make_user):
    make_user(email="guest@nexus.test", full_name="Demo Guest")
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email or mobile number").fill("guest@nexus.test")
    page.get_by_label(PASSWORD).fill("nexus-demo")
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_label("Account menu")).to_contain_text("Demo")
