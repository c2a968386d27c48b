"""Codes sent by SMS in the emulator's virtual inbox, seen from another machine (a public demo): a sign-up code shows
to the browser that signed up, a sign-in code for a verified number to nobody who merely typed the number."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from core.models import User
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

AWAY = {"REMOTE_ADDR": "203.0.113.7"}  # not this machine: the inbox shows only what is this visitor's


def _inbox(client: Client) -> str:
    return client.get("/africastalking/phone/", **AWAY).content.decode()


def test_a_sign_up_code_shows_to_the_browser_that_signed_up_and_no_other(live_server, sms_emulator):
    browser, stranger = Client(), Client()
    browser.post(
        reverse("account_signup"),
        {
            "full_name": "Achieng",
            "phone": "0712 345 678",
            "password1": "safari-njema-26",
            "password2": "safari-njema-26",
        },
        **AWAY,
    )
    texts = wait_for(lambda: [m for m in sms_emulator.messages(to="0712345678") if m["messageId"]])
    code = re.search(r"\d{6}", texts[-1]["body"]).group(0)
    assert code in _inbox(browser)
    stranger.get("/", **AWAY)
    assert code not in _inbox(stranger)


def test_a_sign_in_code_does_not_show_to_whoever_typed_the_number(live_server, sms_emulator):
    owner = User.objects.create(full_name="Otieno", phone="+254722000111", phone_verified=True)
    typist = Client()
    response = typist.post(reverse("account_request_login_code"), {"phone": "0722 000 111"}, **AWAY)
    assert response.status_code == 302
    texts = wait_for(lambda: [m for m in sms_emulator.messages(to="0722000111") if m["messageId"]])
    code = re.search(r"\d{6}", texts[-1]["body"]).group(0)
    assert code not in _inbox(typist)
    # The account's own signed-in browser would see it.
    own = Client()
    own.force_login(owner)
    assert code in _inbox(own)
