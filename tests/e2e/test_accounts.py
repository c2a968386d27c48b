"""Account journeys in a real browser, at 360 px and at desktop width."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from notifications.models import NotificationPreference
from tests.helpers.browser import assert_no_horizontal_scroll
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = re.compile(r"^\s*Password\*?\s*$")


def _verification_link(live_server, to: str) -> str:
    message = next(m for m in reversed(mail.outbox) if m.to == [to])
    path = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", message.body).group(1)
    return live_server.url + path


def _sign_in(page, live_server, email: str, password: str, query: str = "") -> None:
    page.goto(f"{live_server.url}/accounts/login/{query}")
    page.get_by_label("Email").fill(email)
    page.get_by_label(PASSWORD).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_sign_up_verify_sign_out_and_sign_in_again(live_server, sms_emulator, sized_page):
    page = sized_page
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign up").first.click()
    assert_no_horizontal_scroll(page)
    page.get_by_label("Full name").fill("Achieng Odhiambo")
    page.get_by_label("Mobile number").fill("0712 345 678")
    page.get_by_label("Email").fill("achieng@example.com")
    page.get_by_label(PASSWORD).fill("safari-njema-2026")
    page.get_by_label("Password (again)").fill("safari-njema-2026")
    expect(page.get_by_role("heading", name="Sign up", exact=True)).to_be_visible()
    page.get_by_role("button", name="Sign up", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("phone verification code", re.I))).to_be_visible()
    assert_no_horizontal_scroll(page)
    texts = wait_for(lambda: [m for m in sms_emulator.messages(to="0712345678") if m["messageId"]])
    page.get_by_placeholder("Code").fill(re.search(r"\d{6}", texts[-1]["body"]).group(0))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_label("Account menu")).to_contain_text("Achieng")

    # The address, optional, is verified by its link.
    page.goto(_verification_link(live_server, "achieng@example.com"))
    page.get_by_role("button", name="Confirm").click()
    page.goto(live_server.url + "/accounts/profile/")
    expect(page.locator("[data-email-address]")).to_contain_text("achieng@example.com · verified")

    page.get_by_label("Account menu").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in", exact=True)).to_be_visible()

    _sign_in(page, live_server, "achieng@example.com", "safari-njema-2026")
    expect(page.get_by_label("Account menu")).to_contain_text("Achieng")
    page.goto(live_server.url + "/accounts/profile/")
    expect(page.locator("[data-mobile-number]")).to_contain_text("0712 345 678 · verified")
    assert_no_horizontal_scroll(page)


def test_wrong_password_shows_a_clear_message_and_keeps_the_email(live_server, sized_page, make_user):
    make_user(email="kamau@example.com")
    _sign_in(sized_page, live_server, "kamau@example.com", "not-my-password")
    summary = sized_page.locator("[data-error-summary]")
    expect(summary).to_contain_text("The email address and/or password you specified are not correct.")
    expect(summary).to_be_focused()
    expect(sized_page.get_by_label("Email")).to_have_value("kamau@example.com")
    assert_no_horizontal_scroll(sized_page)


def test_sign_up_with_a_taken_address_reveals_nothing_and_mails_the_owner(live_server, page, make_user):
    make_user(email="taken@example.com")
    page.goto(live_server.url + "/accounts/signup/")
    page.get_by_label("Full name").fill("Somebody Else")
    page.get_by_label("Mobile number").fill("0712 345 678")
    page.get_by_label("Email").fill("taken@example.com")
    page.get_by_label(PASSWORD).fill("another-long-pass-77")
    page.get_by_label("Password (again)").fill("another-long-pass-77")
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Enter Phone Verification Code")).to_be_visible()
    body = page.locator("main").inner_text().lower()
    assert "already" not in body and "exists" not in body
    owner_mail = [m for m in mail.outbox if m.to == ["taken@example.com"]]
    assert len(owner_mail) == 1 and "already" in owner_mail[0].body.lower()


def test_next_pointing_off_site_stays_on_our_site(live_server, page, make_user):
    make_user(email="otieno@example.com")
    _sign_in(page, live_server, "otieno@example.com", "nexus-demo", query="?next=//evil.example")
    expect(page.get_by_label("Account menu")).to_contain_text("Amina")
    assert page.url.startswith(live_server.url)


def test_password_reset_in_the_browser(live_server, sized_page, make_user):
    page = sized_page
    make_user(email="njoki@example.com")
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("njoki@example.com")
    page.get_by_role("button", name="Reset my password", exact=True).click()
    expect(page.get_by_role("heading", name="Password reset", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Back to sign in")).to_have_attribute("href", "/accounts/login/")
    message = next(m for m in mail.outbox if m.to == ["njoki@example.com"])
    page.goto(live_server.url + re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", message.body).group(1))
    page.get_by_label(re.compile(r"^\s*New password\*?\s*$")).fill("kilimanjaro-view-12")
    page.get_by_label("New password (again)", exact=False).fill("kilimanjaro-view-12")
    page.get_by_role("button", name="Change password", exact=True).click()
    expect(page.get_by_text("Your password is now changed.")).to_be_visible()
    _sign_in(page, live_server, "njoki@example.com", "kilimanjaro-view-12")
    expect(page.get_by_label("Account menu")).to_contain_text("Amina")


def test_htmx_request_after_the_session_expired_lands_on_sign_in(live_server, page, make_user):
    make_user(email="mutua@example.com")
    _sign_in(page, live_server, "mutua@example.com", "nexus-demo")
    page.goto(live_server.url + "/accounts/profile/")
    # The message preferences load by htmx: settled before the cookie goes, or their answer would set a new one.
    expect(page.locator("#message-preferences")).to_be_visible()
    # The phone field checks itself through htmx; meanwhile the session has gone.
    page.context.clear_cookies(name="sessionid")
    page.get_by_label("M-Pesa phone number").fill("0733 123 456")
    page.get_by_label("Full name").click()
    page.wait_for_url(re.compile(r"/accounts/login/\?next=%2Faccounts%2Fprofile%2F$"))
    expect(page.get_by_label("Email")).to_be_visible()


def test_htmx_request_with_a_rotated_csrf_token_reloads_the_page(live_server, page, make_user):
    make_user(email="chebet@example.com")
    _sign_in(page, live_server, "chebet@example.com", "nexus-demo")
    page.goto(live_server.url + "/accounts/profile/")
    # The message preferences load by htmx: settled before the cookie goes, or their answer would set a new one.
    expect(page.locator("#message-preferences")).to_be_visible()
    page.context.clear_cookies(name="csrftoken")
    page.get_by_label("M-Pesa phone number").fill("0733 123 456")
    page.get_by_label("Full name").click()
    # The page reloads itself (HX-Refresh) and works again with a fresh token.
    expect(page.get_by_label("M-Pesa phone number")).to_have_value("")
    page.get_by_label("M-Pesa phone number").fill("0733 123 456")
    page.get_by_label("Full name").click()
    expect(page.get_by_text("not in a Safaricom range")).to_be_visible()


def test_phone_field_checks_itself_while_signed_in(live_server, page, make_user):
    make_user(email="wafula@example.com")
    _sign_in(page, live_server, "wafula@example.com", "nexus-demo")
    page.goto(live_server.url + "/accounts/profile/")
    page.get_by_label("M-Pesa phone number").fill("020 123 4567")
    page.get_by_label("Full name").click()
    expect(page.get_by_text("Enter a Kenyan mobile number")).to_be_visible()
    page.get_by_label("M-Pesa phone number").fill("0733 123 456")
    page.get_by_label("Full name").click()
    expect(page.get_by_text("not in a Safaricom range")).to_be_visible()
    expect(page.get_by_text("Enter a Kenyan mobile number")).to_have_count(0)


def test_message_preferences_on_the_profile_page(live_server, page, make_user):
    user = make_user(email="akinyi@example.com")
    _sign_in(page, live_server, "akinyi@example.com", "nexus-demo")
    page.goto(live_server.url + "/accounts/profile/")
    page.get_by_label("Kiswahili").check()
    page.get_by_label("Dates held for you").uncheck()
    page.get_by_role("button", name="Save message preferences").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    preference = NotificationPreference.objects.get(user=user)
    assert preference.language == "sw" and preference.sms_off == ["hold_created"]
    page.reload()
    expect(page.get_by_label("Kiswahili")).to_be_checked()
    expect(page.get_by_label("Dates held for you")).not_to_be_checked()
    expect(page.get_by_label("A booking is confirmed")).to_be_checked()
