"""The tokens of our M-Pesa callback and result URLs never reach a log: ours (Django's logging, as configured) or
gunicorn's access log, started with render.yaml's own command."""

import os
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import requests
import yaml

from core.redact import mask_payment_tokens, masked
from tests.helpers.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "3f9c2b7e81d04a6f9e5b1c8d7a2f4e60"
SMS_TOKEN = "test-only-sms-delivery-token-0123456789"  # config.settings.test's SMS_DELIVERY_TOKEN


def test_the_token_segment_of_every_payments_path_is_masked():
    text = f"POST https://nexus.example/payments/result/{TOKEN}/ and /payments/stk-callback/{TOKEN}?a=1"
    assert mask_payment_tokens(text) == "POST https://nexus.example/payments/result/…/ and /payments/stk-callback/…?a=1"
    body = {"ResultURL": f"https://x/payments/timeout/{TOKEN}/", "Amount": 5}
    assert masked(body) == {"ResultURL": "https://x/payments/timeout/…/", "Amount": 5}
    assert mask_payment_tokens("/trips/NX-ABC123/pay/") == "/trips/NX-ABC123/pay/"
    report = f"POST /notifications/sms/delivery/{TOKEN}/ 200"
    assert mask_payment_tokens(report) == "POST /notifications/sms/delivery/…/ 200"


def test_our_application_log_shows_no_token():
    # A fresh process with the settings as deployed: Django logs these refusals (405) with their path.
    script = (
        "import django; django.setup();"
        "from django.test import Client; c = Client();"
        f"c.get('/payments/result/{TOKEN}/'); c.get('/payments/timeout/{TOKEN}/');"
        f"c.get('/payments/stk-callback/{TOKEN}/');"
        f"c.get('/notifications/sms/delivery/{SMS_TOKEN}/')"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert "Method Not Allowed (GET): /payments/result/…/" in result.stderr, result.stderr
    assert "/payments/stk-callback/…/" in result.stderr
    assert "/notifications/sms/delivery/…/" in result.stderr
    assert TOKEN not in result.stderr + result.stdout and SMS_TOKEN not in result.stderr + result.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _gunicorn_as_deployed(port: int) -> list[str]:
    """render.yaml's web start command, serving a stand-in app on a free port."""
    blueprint = yaml.safe_load((ROOT / "render.yaml").read_text())
    web = next(service for service in blueprint["services"] if service["type"] == "web")
    argv = shlex.split(web["startCommand"])
    assert argv[:2] == ["gunicorn", "config.wsgi:application"]
    options = [arg.replace("$PORT", str(port)).replace("0.0.0.0", "127.0.0.1") for arg in argv[2:]]
    return [sys.executable, "-m", "gunicorn", "tests.core.gunicorn_app:app", *options]


def test_gunicorn_started_as_in_the_blueprint_masks_tokens_in_its_access_log():
    port = _free_port()
    server = subprocess.Popen(
        _gunicorn_as_deployed(port), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        base = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                requests.get(f"{base}/healthz", timeout=5)
                return True
            except requests.RequestException:  # refused, or accepted while the worker still starts: asked again
                assert server.poll() is None, "gunicorn did not start"
                return False

        wait_for(answers, timeout=20, message="gunicorn did not start")
        requests.post(f"{base}/payments/result/{TOKEN}/", data=b"{}", timeout=5)
        requests.post(f"{base}/payments/timeout/{TOKEN}", data=b"{}", timeout=5)
        requests.post(f"{base}/payments/stk-callback/{TOKEN}/?x=1", data=b"{}", timeout=5)
    finally:
        server.terminate()
        out, err = server.communicate(timeout=20)
    assert '"POST /payments/result/…/ HTTP/1.1" 200' in out, out + err
    assert '"POST /payments/timeout/… HTTP/1.1" 200' in out
    assert '"POST /payments/stk-callback/…/?x=1 HTTP/1.1" 200' in out
    assert TOKEN not in out + err
