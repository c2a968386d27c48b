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
