"""One site name and one site URL: e-mail senders, subjects and sign-offs, absolute links, menu links."""

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core import mail

from core.site import absolute_url, site_url
from reservations.models import Booking
from reservations.services import _move, booking_confirm
from tests.helpers.bookings import booking_for

ROOT = Path(__file__).resolve().parent.parent.parent


def _settings_in_fresh_process(script: str, **env: str) -> list[str]:
    prefixes = ("DJANGO_", "MPESA_", "RENDER_", "SITE_", "DEFAULT_FROM_EMAIL")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup()\n{script}"],
        cwd=ROOT,
        env={**clean, "DATABASE_URL": "", **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


SHOW = (
    "from django.conf import settings\nfrom core.site import site_url, email_sender\n"
    "print(site_url()); print(email_sender()); print(settings.DEFAULT_FROM_EMAIL); print(settings.MFA_TOTP_ISSUER)"
)


def test_site_url_defaults_to_renders_address_and_the_local_one_for_make_run():
    prod = {"DJANGO_SETTINGS_MODULE": "config.settings.prod", "DJANGO_SECRET_KEY": "x" * 50}
    on_render = _settings_in_fresh_process(SHOW, **prod, RENDER_EXTERNAL_URL="https://nexus-web.onrender.com")
    assert on_render == [
        "https://nexus-web.onrender.com",
        "Nexus <no-reply@nexus.test>",
        "Nexus <no-reply@nexus.test>",
        "Nexus",
    ]
    named = _settings_in_fresh_process(
        SHOW,
        **prod,
        RENDER_EXTERNAL_URL="https://nexus-web.onrender.com",
        SITE_URL="https://stays.example/",
        SITE_NAME="Safari Stays",
        DEFAULT_FROM_EMAIL="Someone Else <bookings@stays.example>",
    )
    assert named == [
        "https://stays.example",
        "Safari Stays <bookings@stays.example>",
        "Safari Stays <bookings@stays.example>",
        "Safari Stays",
    ]
    local = _settings_in_fresh_process(SHOW, DJANGO_SETTINGS_MODULE="config.settings.dev")
    assert local[0] == "http://127.0.0.1:8000"


def test_absolute_links_are_on_site_url_whatever_host_they_were_built_on(settings):
    settings.SITE_URL = "https://stays.example/"
    assert site_url() == "https://stays.example"
    assert absolute_url("/trips/NX-1/") == "https://stays.example/trips/NX-1/"
    assert (
        absolute_url("http://10.0.0.3:8000/accounts/x/?next=%2F#top")
        == "https://stays.example/accounts/x/?next=%2F#top"
    )


@pytest.mark.django_db
def test_booking_e_mails_come_from_and_are_signed_by_the_site(
    settings, guest, host, django_capture_on_commit_callbacks
):
    settings.SITE_NAME = "Safari Stays"
    settings.SITE_URL = "https://stays.example"
    booking = booking_for(guest, host)
    mail.outbox.clear()
    _move(booking, Booking.Status.AWAITING_PAYMENT, action="payment_started", message="x", actor_kind="mpesa")
    with django_capture_on_commit_callbacks(execute=True):
        booking_confirm(booking_id=booking.pk)
    assert mail.outbox
    for message in mail.outbox:
        assert message.from_email == "Safari Stays <no-reply@nexus.test>"
        assert message.subject.startswith("[Safari Stays] Booking ")
        assert "Safari Stays https://stays.example/" in message.body
        assert ">Safari Stays</a>" in message.alternatives[0][0]
        assert "Nexus" not in message.body


# -- Menu links -----------------------------------------------------------------------------------------------------


def _menu(client, user) -> str:
    client.force_login(user)
    html = client.get("/").content.decode()
    return html[html.index("data-account-menu") : html.index("</details>")]


@pytest.mark.django_db
def test_a_host_finds_the_host_dashboard_and_everyone_else_list_your_place(client, make_user, listing, host):
    menu = _menu(client, host)
    assert 'href="/host/"' in menu and "Host dashboard" in menu and "List your place" not in menu
    assert 'href="/support/"' not in menu
    newcomer = make_user(email="newcomer@example.com")
    menu = _menu(client, newcomer)
    assert 'href="/host/"' in menu and "List your place" in menu and "Host dashboard" not in menu
    assert 'href="/support/"' not in menu


@pytest.mark.django_db
def test_support_staff_find_the_support_console(client, make_user):
    agent = make_user(email="agent@example.com")
    agent.user_permissions.add(Permission.objects.get(codename="view_transactions", content_type__app_label="mpesa"))
    menu = _menu(client, agent)
    assert 'href="/support/"' in menu and "Support console" in menu


@pytest.mark.django_db
def test_the_console_link_follows_the_permission_through_a_group_and_its_withdrawal(client, make_user):
    from django.contrib.auth.models import Group

    group = Group.objects.create(name="Menu test group")
    group.permissions.add(Permission.objects.get(codename="view_transactions", content_type__app_label="mpesa"))
    agent = make_user(email="grouped@example.com")
    agent.groups.add(group)
    assert 'href="/support/"' in _menu(client, agent)
    group.permissions.remove(Permission.objects.get(codename="view_transactions", content_type__app_label="mpesa"))
    assert 'href="/support/"' not in _menu(client, agent)
    other = Permission.objects.get(codename="export_transactions", content_type__app_label="mpesa")
    agent.user_permissions.add(other)  # another console permission alone does not open the first page
    assert 'href="/support/"' not in _menu(client, agent)


# -- Compression ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/listings/", "/static/css/app.css", "/static/django_htmx/htmx-2.min.js"])
def test_pages_css_and_js_come_compressed_with_debug_off(client, settings, path):
    settings.DEBUG = False
    response = client.get(path, headers={"accept-encoding": "gzip, deflate, br"})
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert len(gzip.decompress(body)) > len(body)
    assert client.get(path).get("Content-Encoding") is None  # a client that cannot unpack gets it plain


@pytest.mark.django_db
def test_a_superuser_finds_the_support_console_and_the_menu_costs_one_query(
    client, make_user, django_assert_num_queries
):
    from support.selectors.menu import account_menu

    boss = make_user(email="boss@example.com", is_superuser=True)
    assert 'href="/support/"' in _menu(client, boss)
    with django_assert_num_queries(1):
        menu = account_menu(boss)
    assert menu.supports and not menu.hosts


def test_a_worker_freezes_what_it_loaded_before_its_first_request():
    """config.wsgi loads every view through the URLconf and freezes it: the collector stops scanning the objects a
    worker keeps for its whole life, and looks at a request's garbage less often than Python's default of every 700
    allocations (bench/instructions.py's figures are in the module)."""
    lines = _settings_in_fresh_process(
        "import gc, sys\nimport config.wsgi\n"
        "print(gc.get_freeze_count()); print('listings.views' in sys.modules and 'support.views' in sys.modules)\n"
        "print(gc.get_threshold()[0])",
        DJANGO_SETTINGS_MODULE="config.settings.dev",
    )
    assert int(lines[0]) > 50_000 and lines[1] == "True"
    assert int(lines[2]) == 10_000
