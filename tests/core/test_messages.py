"""A message waits for the page that shows it: requests that read no messages (a fragment) leave it where it is
stored, and it is shown once (core.middleware.MessageMiddleware makes a request's storage on first use)."""

import pytest

pytestmark = pytest.mark.django_db

SAVED = "Your profile was saved."


def test_a_message_survives_fragments_and_is_shown_once(client, user):
    client.force_login(user)
    response = client.post("/accounts/profile/", {"full_name": "Achieng Otieno", "mpesa_phone": "0712345678"})
    assert response.status_code == 302
    stored = client.cookies["messages"].value

    fragment = client.post(
        "/accounts/profile/", {"action": "check-phone", "mpesa_phone": "0712345678"}, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200 and SAVED not in fragment.text
    assert "messages" not in fragment.cookies  # neither rewritten nor cleared
    assert client.cookies["messages"].value == stored

    page = client.get("/accounts/profile/")
    assert page.text.count(SAVED) == 1
    assert SAVED not in client.get("/accounts/profile/").text


def test_a_message_added_in_a_request_that_read_none_is_stored(client, user):
    client.force_login(user)
    client.post("/accounts/profile/", {"full_name": "Achieng Otieno", "mpesa_phone": "0712345678"})
    client.post("/accounts/profile/", {"full_name": "Achieng Otieno", "mpesa_phone": "0712345678"})
    assert client.get("/accounts/profile/").text.count(SAVED) == 2
