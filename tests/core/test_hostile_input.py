"""Whatever a visitor types into the forms of the account pages, the answer is never a 500."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

HOSTILE_VALUES = [
    "",
    " ",
    "\x00",
    "a\x00b@example.com",
    "x" * 10_000,
    "<script>alert(1)</script>",
    "' OR 1=1; --",
    "../../etc/passwd",
    "😀" * 50,
    "\u202e\u0000\ufeff",
    "%00%0d%0a",
    "0" * 40,
    "-1",
    "1e309",
    "{{ 7*7 }}",
    "\ufffd\U0010ffff",
]

FORMS = {
    "account_login": ["login", "password", "remember", "next"],
    "account_signup": ["full_name", "phone", "email", "password1", "password2"],
    "account_reset_password": ["email"],
    "account_request_login_code": ["phone", "email"],
}
SIGNED_IN_FORMS = {
    "profile": ["full_name", "mpesa_phone", "action"],
    "account_change_password": ["oldpassword", "password1", "password2"],
    "account_email": ["email", "action_add", "action_remove", "action_primary", "action_send"],
    "account_change_phone": ["phone", "action", "action_add"],
}


def _assert_handled(response):
    assert response.status_code < 500, response.status_code


@pytest.mark.parametrize("url_name", FORMS)
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_public_account_forms_survive_hostile_values(client, url_name, value):
    fields = FORMS[url_name]
    _assert_handled(client.post(reverse(url_name), dict.fromkeys(fields, value)))
    _assert_handled(client.post(reverse(url_name), {field: [value, value] for field in fields}))


@pytest.mark.parametrize("url_name", SIGNED_IN_FORMS)
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_signed_in_forms_survive_hostile_values(client, user, url_name, value):
    client.force_login(user)
    fields = SIGNED_IN_FORMS[url_name]
    _assert_handled(client.post(reverse(url_name), dict.fromkeys(fields, value)))
    _assert_handled(client.post(reverse(url_name), dict.fromkeys(fields, value), headers={"HX-Request": "true"}))
    user.refresh_from_db()
    assert user.mpesa_phone in {"", "254712345678"}


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_query_strings_and_headers_survive_hostile_values(client, value):
    _assert_handled(client.get(reverse("account_login"), {"next": value}))
    _assert_handled(client.get(reverse("home"), {"q": value}))
    _assert_handled(
        client.post(
            reverse("profile"), {"action": "check-phone"}, headers={"HX-Request": "true", "HX-Current-URL": value}
        )
    )


def test_bad_verification_and_reset_keys_are_handled(client):
    _assert_handled(client.get("/accounts/confirm-email/not-a-real-key/"))
    _assert_handled(client.post("/accounts/confirm-email/not-a-real-key/"))
    _assert_handled(client.get("/accounts/password/reset/key/zz-not-a-key/"))
    _assert_handled(client.post("/accounts/password/reset/key/zz-not-a-key/", {"password1": "x", "password2": "x"}))
