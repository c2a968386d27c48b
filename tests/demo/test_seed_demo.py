import pytest
from allauth.account.models import EmailAddress
from django.core.management import CommandError, call_command

from core.models import User

pytestmark = pytest.mark.django_db

DEMO_EMAILS = {"guest@nexus.test", "host@nexus.test", "support@nexus.test"}


def test_seed_demo_creates_verified_demo_accounts_that_sign_in(client, settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    assert "nexus-demo" in capsys.readouterr().out
    assert DEMO_EMAILS <= set(User.objects.values_list("email", flat=True))
    for email in DEMO_EMAILS:
        assert EmailAddress.objects.get(email=email).verified
        assert client.login(email=email, password="nexus-demo")
    support = User.objects.get(email="support@nexus.test")
    assert support.groups.filter(name="support").exists()
    assert not User.objects.get(email="guest@nexus.test").groups.exists()


def test_seed_demo_is_idempotent(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    counts = (User.objects.count(), EmailAddress.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), EmailAddress.objects.count()) == counts


def test_seed_demo_refuses_without_debug_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo")
    assert not User.objects.filter(email__in=DEMO_EMAILS).exists()
    call_command("seed_demo", force=True)
    assert User.objects.filter(email__in=DEMO_EMAILS).count() == 3


def test_demo_accounts_sign_in_on_the_sign_in_page_by_e_mail_and_password(client, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    for email in [*DEMO_EMAILS, "lead@nexus.test"]:
        response = client.post("/accounts/login/", {"login": email, "password": "nexus-demo"})
        assert response.status_code == 302 and response["Location"] == "/", email
        assert client.get("/accounts/profile/").status_code == 200
        client.logout()
    # Unchanged by phone sign-up: no number, their addresses as before.
    assert not User.objects.filter(email__endswith="@nexus.test").exclude(phone="").exists()
