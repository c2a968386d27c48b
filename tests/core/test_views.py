import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


def test_healthz_answers_200_without_cookies_or_template(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Content-Type"].startswith("text/plain")
    assert not response.cookies


def test_healthz_ignores_the_host_header_and_https_redirect(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/healthz", headers={"host": "10.0.0.7:10000"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "database_url",
    ["postgres://postgres@127.0.0.1:1/nexus", "sqlite:////nonexistent-directory/nexus.sqlite3"],
    ids=["postgres-down", "sqlite-unopenable"],
)
def test_healthz_answers_503_when_the_database_is_unreachable(database_url):
    script = (
        "import django; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/healthz'); print(r.status_code, r.content.decode().strip())"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": database_url}
    # No date is read on this path, so the process needs no clock offset.
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.stdout.strip() == "503 database unavailable", result.stderr


def test_unknown_page_is_a_404_in_the_layout(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "We could not find that page" in html
    assert 'href="/"' in html and "Nexus" in html
    assert 'name="htmx-config"' in html


def test_server_error_page_renders_in_the_layout_without_a_request(rf):
    from core.views import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_base_layout_has_csp_nonce_on_htmx(client, db):
    response = client.get(reverse("home"))
    html = response.content.decode()
    policy = response["Content-Security-Policy"]
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in html
    assert "htmx" in html
    assert "disableInheritance" in html
    assert "unsafe-inline" not in policy


def test_a_visitor_not_signed_in_is_given_no_csrf_token_until_a_form_needs_one(db):
    from django.test import Client

    visitor = Client(enforce_csrf_checks=True)
    for path in ("/", reverse("listings:search")):
        page = visitor.get(path)
        assert "X-CSRFToken" not in page.content.decode() and "csrftoken" not in page.cookies
    sign_in = visitor.get(reverse("account_login"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', sign_in.content.decode()).group(1)
    answer = visitor.post(reverse("account_login"), {"csrfmiddlewaretoken": token, "login": "nobody@example.com",
                                                     "password": "wrong"})  # fmt: skip
    assert answer.status_code == 200 and "not correct" in answer.content.decode()


def test_htmx_sends_a_signed_in_persons_csrf_token_with_every_request(db, user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get("/")
    token = re.search(r'hx-headers=\'{"X-CSRFToken": "(\w+)"}\'', page.content.decode()).group(1)
    # A button that posts outside a form (the profile's phone check) is accepted with the token htmx sends.
    answer = client.post(
        reverse("profile"), {"action": "check-phone"}, headers={"HX-Request": "true", "X-CSRFToken": token}
    )
    assert answer.status_code == 200


def test_profile_needs_sign_in(client, db):
    response = client.get(reverse("profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_profile_saves_name_and_normalised_phone(client, user):
    client.force_login(user)
    response = client.post(reverse("profile"), {"full_name": "  Amina   Wanjiru ", "mpesa_phone": "0712 345 678"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.full_name == "Amina Wanjiru"
    assert user.mpesa_phone == "254712345678"
    assert "Your profile was saved." in client.get(reverse("profile")).content.decode()


def test_profile_with_a_bad_phone_shows_the_error_and_changes_nothing(client, make_user):
    user = make_user(mpesa_phone="254712345678")
    client.force_login(user)
    response = client.post(reverse("profile"), {"full_name": "New Name", "mpesa_phone": "020 123 4567"})
    assert response.status_code == 422
    assert "Enter a Kenyan mobile number" in response.content.decode()
    user.refresh_from_db()
    assert (user.full_name, user.mpesa_phone) == ("Amina Njeri", "254712345678")


def test_phone_check_fragment_returns_only_the_field(client, user):
    client.force_login(user)
    headers = {"HX-Request": "true"}
    bad = client.post(
        reverse("profile"), {"action": "check-phone", "full_name": "A", "mpesa_phone": "12"}, headers=headers
    )
    assert bad.status_code == 422
    html = bad.content.decode()
    assert "<html" not in html and 'id="phone-field"' in html and "Enter a Kenyan mobile number" in html

    airtel = client.post(
        reverse("profile"), {"action": "check-phone", "full_name": "A", "mpesa_phone": "0733123456"}, headers=headers
    )
    assert airtel.status_code == 200
    assert "not in a Safaricom range" in airtel.content.decode()
    user.refresh_from_db()
    assert user.mpesa_phone == ""


def test_htmx_request_with_an_expired_session_is_sent_to_sign_in_as_a_whole_page(client, db):
    response = client.post(
        reverse("profile"),
        {"action": "check-phone"},
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/accounts/profile/?tab=phone"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=%2Faccounts%2Fprofile%2F%3Ftab%3Dphone"
    assert response.content == b""


def test_htmx_redirect_ignores_a_current_url_on_another_site(client, db):
    response = client.post(
        reverse("profile"),
        {"action": "check-phone"},
        headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/phish"},
    )
    assert response["HX-Redirect"] == "/accounts/login/?next=%2Faccounts%2Fprofile%2F"


def test_htmx_request_with_a_stale_csrf_token_refreshes_the_page(db, user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(reverse("profile"), {"action": "check-phone"}, headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert response["HX-Refresh"] == "true"

    plain = client.post(reverse("profile"), {"full_name": "X"})
    assert plain.status_code == 403
    assert "This page had expired" in plain.content.decode()


def test_the_support_console_link_shows_only_with_the_permission(client, make_user):
    from django.contrib.auth.models import Permission

    agent = make_user(email="agent@example.com")
    agent.user_permissions.add(Permission.objects.get(codename="view_transactions"))
    guest = make_user(email="plain@example.com")
    client.force_login(guest)
    assert "support console" not in client.get("/accounts/profile/").content.decode()
    client.force_login(agent)
    assert 'href="/support/"' in client.get("/accounts/profile/").content.decode()
