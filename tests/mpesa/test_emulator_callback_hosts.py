"""A deployed emulator calls back only this site, so a public demo cannot be used to POST elsewhere."""

import json

import pytest

from tests.mpesa.emulator_support import BASIC, OAUTH, PUSH, for_phone

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_site_only(settings):
    settings.MPESA_ENV = "emulator"
    settings.MPESA_CONSUMER_KEY = settings.MPESA_CONSUMER_SECRET = ""
    settings.MPESA_SHORTCODE = settings.MPESA_PASSKEY = ""
    settings.MPESA_EMULATOR_CALLBACK_DELAY_SECONDS = 60
    settings.MPESA_EMULATOR_CALLBACK_HOSTS = []
    settings.ALLOWED_HOSTS = ["testserver", "nexus-demo.onrender.com"]


def push(client, callback_url: str):
    token = client.get(OAUTH, headers={"Authorization": BASIC}).json()["access_token"]
    return client.post(
        PUSH,
        data=json.dumps(for_phone("254700000001", callback_url)),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.mark.parametrize(
    "url", ["https://evil.example/steal", "https://169.254.169.254/latest/", "http://10.0.0.5/admin/"]
)
def test_callbacks_to_other_hosts_are_refused(client, url):
    response = push(client, url)
    assert response.status_code == 400
    assert response.json()["errorMessage"] == "Bad Request - Invalid CallBackURL"


def test_callbacks_to_this_site_are_accepted(client):
    response = push(client, "https://nexus-demo.onrender.com/payments/stk-callback/abc/")
    assert response.status_code == 200 and response.json()["ResponseCode"] == "0"
