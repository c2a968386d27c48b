import pytest
from django.core.management import call_command

from core.models import User

pytestmark = pytest.mark.django_db


def test_the_demo_support_agent_has_the_console_and_only_the_lead_approves_refunds(settings, client):
    settings.DEBUG = True  # seed_demo's accounts have no TOTP; the console asks for it only with DEBUG off
    call_command("seed_demo")
    support = User.objects.get(email="support@nexus.test")
    lead = User.objects.get(email="lead@nexus.test")
    for user in (support, lead):
        for permission in ["view_transactions", "query_mpesa", "request_refund", "resolve_exception"]:
            assert user.has_perm(f"mpesa.{permission}")
        assert user.has_perm("mpesa.export_transactions")
    assert not support.has_perm("mpesa.approve_refund") and lead.has_perm("mpesa.approve_refund")
    assert not support.has_perm("reviews.moderate_content") and lead.has_perm("reviews.moderate_content")
    assert client.login(email="lead@nexus.test", password="nexus-demo")
    assert client.get("/support/").status_code == 200
    assert not User.objects.get(email="guest@nexus.test").has_perm("mpesa.view_transactions")
