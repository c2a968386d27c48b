"""A message waits for the page that shows it: requests that read no messages (a fragment) leave it where it is
stored, and it is shown once (core.message_storage makes the cookie and session storages only when needed)."""

import secrets

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


@pytest.mark.parametrize("headers", [{"HX-Request": "true"}, {}])
def test_a_message_added_is_stored_as_djangos_storage_stores_it(rf, settings, headers):
    from django.contrib import messages
    from django.contrib.messages.middleware import MessageMiddleware
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.http import HttpResponse

    def adds_one(request):
        messages.success(request, "Dates saved.")
        return HttpResponse("<td>saved</td>")

    def stored(storage: str) -> list[str]:
        settings.MESSAGE_STORAGE = storage
        request = rf.post("/", headers=headers)
        SessionMiddleware(lambda request: None).process_request(request)
        response = MessageMiddleware(adds_one)(request)
        return [str(message) for message in CookieStorage(rf.get("/"))._decode(response.cookies["messages"].value)]

    ours = stored("core.message_storage.FallbackStorage")
    assert ours == stored("django.contrib.messages.storage.fallback.FallbackStorage") == ["Dates saved."]


def test_a_page_for_a_browser_holding_no_message_shows_none_and_sets_no_cookie(client, user):
    client.force_login(user)
    page = client.get("/accounts/profile/")
    assert page.status_code == 200 and 'id="messages"' not in page.text
    assert "messages" not in page.cookies


def test_messages_too_long_for_the_cookie_wait_in_the_session_and_are_all_read_back(rf, settings):
    """Django's storage keeps in the cookie what fits (about 2 KB) and the rest in the session; so does ours."""
    from django.contrib import messages
    from django.contrib.messages.middleware import MessageMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.http import HttpResponse

    from core.message_storage import FallbackStorage

    # Random text, which the cookie's compression cannot shrink.
    texts = [f"Booking {number}: {secrets.token_urlsafe(150)}" for number in range(12)]

    def adds_them(request):
        for text in texts:
            messages.info(request, text)
        return HttpResponse("ok")

    first = rf.get("/")
    SessionMiddleware(adds_them).process_request(first)
    response = MessageMiddleware(adds_them)(first)
    first.session.save()
    assert 0 < len(response.cookies["messages"].value) < 2048
    second = rf.get("/")
    second.COOKIES = {
        "messages": response.cookies["messages"].value,
        settings.SESSION_COOKIE_NAME: first.session.session_key,
    }
    SessionMiddleware(lambda request: None).process_request(second)
    assert [message.message for message in FallbackStorage(second)] == texts
