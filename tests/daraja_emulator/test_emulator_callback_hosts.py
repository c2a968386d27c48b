"""A deployed emulator calls back only this site, so a public demo cannot be used to POST elsewhere, nor to another
port of its own machine: MPESA_EMULATOR_CALLBACK_HOSTS names `host` (the scheme's default port) or `host:port`,
`*` is any, and empty means the authority the emulator itself was reached at."""

import itertools
import json

import pytest

from tests.daraja_emulator.emulator_support import BASIC, OAUTH, PUSH, REVERSAL, STATUS, for_phone
from tests.vectors import vector

pytestmark = pytest.mark.django_db

INVALID = "Bad Request - Invalid CallBackURL"
_payers = itertools.count(1)  # one pending push per phone: each push has its own payer


@pytest.fixture(autouse=True)
def _own_site_only(settings):
    settings.MPESA_ENV = "emulator"
    settings.MPESA_CONSUMER_KEY = settings.MPESA_CONSUMER_SECRET = ""
    settings.MPESA_SHORTCODE = settings.MPESA_PASSKEY = ""
    settings.MPESA_EMULATOR_CALLBACK_DELAY_SECONDS = 60
    settings.MPESA_EMULATOR_RESULT_DELAY_SECONDS = 60
    settings.MPESA_EMULATOR_CALLBACK_HOSTS = []
    settings.ALLOWED_HOSTS = ["testserver", "nexus-demo.onrender.com", "127.0.0.1"]


def _bearer(client, host: str) -> dict:
    token = client.get(OAUTH, headers={"Authorization": BASIC, "Host": host}).json()["access_token"]
    return {"Authorization": f"Bearer {token}", "Host": host}


def push(client, callback_url: str, *, host: str = "nexus-demo.onrender.com"):
    """An STK push that reaches the emulator at `host` (the Host header)."""
    return client.post(
        PUSH,
        data=json.dumps(for_phone(f"25471{next(_payers):07d}", callback_url)),
        content_type="application/json",
        headers=_bearer(client, host),
    )


def accepted(response) -> bool:
    if response.status_code == 200 and response.json()["ResponseCode"] == "0":
        return True
    assert response.status_code == 400, response.content
    return False


@pytest.mark.parametrize(
    "url", ["https://evil.example/steal", "https://169.254.169.254/latest/", "http://10.0.0.5/admin/"]
)
def test_callbacks_to_other_hosts_are_refused(client, url):
    response = push(client, url)
    assert response.status_code == 400
    assert response.json()["errorMessage"] == INVALID


def test_callbacks_to_this_site_are_accepted(client):
    response = push(client, "https://nexus-demo.onrender.com/payments/stk-callback/abc/")
    assert response.status_code == 200 and response.json()["ResponseCode"] == "0"


def test_unset_the_emulator_calls_back_only_where_it_was_reached_port_included(client):
    here = "127.0.0.1:8000"
    assert accepted(push(client, "http://127.0.0.1:8000/payments/stk-callback/abc/", host=here))
    for elsewhere in [
        "http://127.0.0.1:5432/",  # another service on the same machine
        "http://127.0.0.1:6379/",
        "http://127.0.0.1/payments/stk-callback/abc/",  # port 80, not 8000
        "http://127.0.0.1:8001/payments/stk-callback/abc/",
        "http://localhost:8000/payments/stk-callback/abc/",  # another name is another authority
        "https://nexus-demo.onrender.com/payments/stk-callback/abc/",  # an allowed host, but not where it was reached
    ]:
        assert not accepted(push(client, elsewhere, host=here)), elsewhere
    demo = "nexus-demo.onrender.com"
    assert accepted(push(client, "https://nexus-demo.onrender.com:443/payments/stk-callback/abc/", host=demo))
    assert not accepted(push(client, "https://nexus-demo.onrender.com:8443/payments/stk-callback/abc/", host=demo))


def test_a_host_entry_means_its_default_port_and_host_port_that_port_only(client, settings):
    settings.MPESA_EMULATOR_CALLBACK_HOSTS = ["nexus.example", "127.0.0.1:8000", "[::1]:9000"]
    for url, expected in [
        ("https://nexus.example/payments/stk-callback/abc/", True),
        ("https://nexus.example:443/payments/stk-callback/abc/", True),
        ("https://nexus.example:8443/payments/stk-callback/abc/", False),
        ("http://127.0.0.1:8000/payments/stk-callback/abc/", True),
        ("http://127.0.0.1:6379/", False),
        ("http://127.0.0.1/payments/stk-callback/abc/", False),
        ("http://[::1]:9000/payments/stk-callback/abc/", True),
        ("http://[::1]:9001/payments/stk-callback/abc/", False),
        ("https://nexus-demo.onrender.com/payments/stk-callback/abc/", False),  # where it was reached: not listed
    ]:
        assert accepted(push(client, url)) is expected, url


def test_a_star_still_allows_any_host_and_port(client, settings):
    settings.MPESA_EMULATOR_CALLBACK_HOSTS = ["*"]
    assert accepted(push(client, "http://127.0.0.1:6379/"))
    assert accepted(push(client, "https://nexus.example:8443/payments/stk-callback/abc/"))


@pytest.mark.parametrize("path, name", [(REVERSAL, "reversal_request"), (STATUS, "transaction_status_request")])
def test_result_urls_follow_the_same_rule(client, path, name):
    here = "127.0.0.1:8000"

    def ask(url: str):
        body = vector(name) | {"ResultURL": url, "QueueTimeOutURL": url}
        return client.post(path, data=json.dumps(body), content_type="application/json", headers=_bearer(client, here))

    assert ask("http://127.0.0.1:8000/payments/result/abc/").status_code == 200
    refused = ask("http://127.0.0.1:5432/")
    assert refused.status_code == 400 and refused.json()["errorMessage"] == "Bad Request - Invalid ResultURL"
