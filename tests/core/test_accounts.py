import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from core.models import User

pytestmark = pytest.mark.django_db

SIGNUP = {
    "full_name": "Baraka Ochieng",
    "email": "baraka@example.com",
    "mpesa_phone": "0712 345 678",
    "password1": "tembea-mombasa-2026",
    "password2": "tembea-mombasa-2026",
}


def _link_in(message) -> str:
    """The path of the account link in an e-mail (the link itself is on SITE_URL, not on the request's host)."""
    return re.search(r"https?://[^/\s]+(/accounts/[^\s]+)", message.body).group(1)


def test_sign_up_verify_by_link_and_be_signed_in(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_signup"), SIGNUP)
    assert response.status_code == 302
    user = User.objects.get(email="baraka@example.com")
    assert (user.full_name, user.mpesa_phone) == ("Baraka Ochieng", "254712345678")
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["baraka@example.com"]
    # Unverified: not signed in yet.
    assert client.get(reverse("profile")).status_code == 302

    confirm_url = _link_in(mail.outbox[0])
    assert "Confirm" in client.get(confirm_url).content.decode()
    response = client.post(confirm_url)
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    assert client.get(reverse("profile")).status_code == 200


def test_unverified_account_cannot_sign_in(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_signup"), SIGNUP)
    client.logout()
    response = client.post(reverse("account_login"), {"login": SIGNUP["email"], "password": SIGNUP["password1"]})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert client.get(reverse("profile")).status_code == 302


def test_sign_up_with_a_taken_address_reveals_nothing_and_mails_the_owner(
    client, make_user, django_capture_on_commit_callbacks
):
    make_user(email="baraka@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        taken = client.post(reverse("account_signup"), SIGNUP)
    client2 = type(client)()
    with django_capture_on_commit_callbacks(execute=True):
        fresh = client2.post(reverse("account_signup"), {**SIGNUP, "email": "new-person@example.com"})
    # Both answers look the same to the person signing up.
    assert taken.status_code == fresh.status_code == 302
    assert taken["Location"] == fresh["Location"]
    assert User.objects.filter(email__iexact="baraka@example.com").count() == 1
    owner_mail = [m for m in mail.outbox if m.to == ["baraka@example.com"]]
    assert len(owner_mail) == 1
    assert "already" in owner_mail[0].body.lower()


def test_sign_up_with_a_bad_phone_shows_a_field_error(client):
    response = client.post(reverse("account_signup"), {**SIGNUP, "mpesa_phone": "+44 7911 123456"})
    assert response.status_code == 200
    assert "Enter a Kenyan mobile number" in response.content.decode()
    assert not User.objects.exists()


def test_wrong_password_gives_a_clear_message_and_keeps_the_email(client, user):
    response = client.post(reverse("account_login"), {"login": user.email, "password": "wrong-password"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in html
    assert f'value="{user.email}"' in html


def test_sign_in_and_sign_out(client, user):
    response = client.post(reverse("account_login"), {"login": user.email.upper(), "password": "nexus-demo"})
    assert response.status_code == 302
    assert client.get(reverse("profile")).status_code == 200
    client.post(reverse("account_logout"))
    assert client.get(reverse("profile")).status_code == 302


@pytest.mark.parametrize(
    "next_url", ["//evil.example", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_next_pointing_off_site_stays_on_our_site(client, user, next_url):
    response = client.post(reverse("account_login"), {"login": user.email, "password": "nexus-demo", "next": next_url})
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/") and not location.startswith("//") and "evil" not in location


def test_next_on_our_site_is_followed(client, user):
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": "nexus-demo", "next": "/accounts/profile/"}
    )
    assert response["Location"] == "/accounts/profile/"


def test_password_reset_by_e_mailed_link(client, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": user.email})
    assert response.status_code == 302
    reset_url = _link_in(mail.outbox[0])
    form_url = client.get(reset_url)["Location"]  # allauth moves the key out of the URL
    response = client.post(form_url, {"password1": "a-new-safari-pass", "password2": "a-new-safari-pass"})
    assert response.status_code == 302
    assert client.login(email=user.email, password="a-new-safari-pass")


def test_password_reset_for_an_unknown_address_looks_the_same(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password_done")


def test_repeated_failed_sign_ins_are_refused(client, user):
    for _ in range(5):
        client.post(reverse("account_login"), {"login": user.email, "password": "wrong"})
    response = client.post(reverse("account_login"), {"login": user.email, "password": "nexus-demo"})
    assert "Too many failed login attempts" in response.content.decode()
    assert client.get(reverse("profile")).status_code == 302


@pytest.mark.parametrize(
    "url_name",
    [
        "account_login",
        "account_signup",
        "account_reset_password",
        "account_reset_password_done",
        "account_email_verification_sent",
    ],
)
def test_account_pages_use_our_layout(client, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="htmx-config"' in html and "Stays across Kenya" in html


@pytest.mark.parametrize("url_name", ["account_email", "account_change_password", "account_logout", "profile"])
def test_signed_in_account_pages_use_our_layout(client, user, url_name):
    client.force_login(user)
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert "Stays across Kenya" in response.content.decode()


def test_account_e_mails_name_the_site_and_link_to_site_url(client, user, settings, django_capture_on_commit_callbacks):
    settings.SITE_NAME = "Safari Stays"
    settings.SITE_URL = "https://stays.example"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_signup"), SIGNUP)
        client.post(reverse("account_reset_password"), {"email": user.email})
    assert [message.to for message in mail.outbox] == [["baraka@example.com"], [user.email]]
    for message in mail.outbox:
        assert "Hello from Safari Stays!" in message.body
        assert "Hello from !" not in message.body
        links = re.findall(r"https?://[^\s]+", message.body)
        assert links and all(link.startswith("https://stays.example/accounts/") for link in links), links
        assert "testserver" not in message.body
    assert re.search(r"https://stays.example/accounts/confirm-email/\S+", mail.outbox[0].body)
    assert re.search(r"https://stays.example/accounts/password/reset/key/\S+", mail.outbox[1].body)
