"""Rate limits hold across worker processes because they count in the shared database cache."""

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.db import connection

from tests.helpers.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        user = db.get("USER") or "postgres"
        auth = f"{user}:{db['PASSWORD']}" if db.get("PASSWORD") else user
        return f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=5).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def two_worker_processes(transactional_db):
    """Two separate server processes on two ports, sharing only the database."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": _database_url()}
    servers = []
    for _ in range(2):
        port = _free_port()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.offset_clock",  # the session's clock offset, if any
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        servers.append((process, f"http://127.0.0.1:{port}"))
    try:
        for process, url in servers:
            # A loaded machine can take many seconds to start a server: wait up to a minute.
            try:
                wait_for(lambda url=url: _healthy(url), timeout=60, interval=0.2)
            except AssertionError:
                process.kill()
                pytest.fail(f"server at {url} did not start: {process.stderr.read().decode()[-2000:]}")
        yield [url for _, url in servers]
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait(timeout=10)


def _login(session: requests.Session, base: str, email: str, password: str) -> str:
    # One site name for both processes, as behind a load balancer (allauth keys the limit by site and e-mail).
    session.headers["Host"] = "localhost"
    page = session.get(f"{base}/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(
        f"{base}/accounts/login/",
        data={"csrfmiddlewaretoken": token, "login": email, "password": password},
        allow_redirects=False,
    )
    return response.text if response.status_code == 200 else f"redirect {response.headers['Location']}"


@pytest.mark.django_db(transaction=True)
def test_failed_sign_ins_are_counted_across_two_worker_processes(two_worker_processes, make_user):
    make_user(email="wanjiru@example.com")
    first, second = two_worker_processes
    session = requests.Session()
    # Five failures, alternating between the processes: neither saw five on its own.
    for attempt in range(5):
        answer = _login(session, (first, second)[attempt % 2], "wanjiru@example.com", "not-the-password")
        assert "not correct" in answer
    refused = _login(session, second, "wanjiru@example.com", "nexus-demo")
    assert "Too many failed login attempts" in refused
    refused_elsewhere = _login(session, first, "wanjiru@example.com", "nexus-demo")
    assert "Too many failed login attempts" in refused_elsewhere
