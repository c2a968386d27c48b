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


def test_a_fragment_that_adds_a_message_stores_it_as_djangos_middleware_does(rf):
    from django.contrib import messages
    from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.http import HttpResponse

    from core.middleware import MessageMiddleware

    def adds_one(request):
        messages.success(request, "Dates saved.")
        return HttpResponse("<td>saved</td>")

    def stored(middleware_class, headers) -> list[str]:
        request = rf.post("/", headers=headers)
        SessionMiddleware(lambda request: None).process_request(request)
        response = middleware_class(adds_one)(request)
        storage = CookieStorage(rf.get("/"))
        return [str(message) for message in storage._decode(response.cookies["messages"].value)]

    for headers in ({"HX-Request": "true"}, {}):
        assert stored(MessageMiddleware, headers) == stored(DjangoMessageMiddleware, headers) == ["Dates saved."]
