"""Every console URL needs its permission: the sign-in page for anonymous visitors, a 404 for anyone signed in
without it, and no fragment or export answers 200 to them. Support accounts need TOTP when DEBUG is off."""

import pytest
from django.contrib.auth.models import Permission

from mpesa.models import Refund, SupportAction
from support.services import refund_request
from tests.helpers.support import unmatched_callback, with_second_factor

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


@pytest.fixture
def world(paid_payment, lead, daraja):
    payment = paid_payment()
    refund = refund_request(
        actor=lead, payment_id=payment.pk, amount_kes=25_000, method="reversal", reason="Host cancelled", key="k" * 10
    )
    event = unmatched_callback()
    return {"payment": payment, "refund": refund, "event": event}


def console_requests(world):
    """(method, url, data, permission) for every console URL and action."""
    p, r, e = world["payment"].pk, world["refund"].pk, world["event"].pk
    return [
        ("get", "/support/", None, "view_transactions"),
        ("get", "/support/?q=UKK4H7TQ2M", None, "view_transactions"),
        ("get", "/support/attention/", None, "view_transactions"),
        ("get", f"/support/payments/{p}/", None, "view_transactions"),
        ("get", "/support/export.csv?q=UKK4H7TQ2M", None, "export_transactions"),
        ("post", f"/support/payments/{p}/query/", {"kind": "stk", "reason": "Check", "key": "q" * 10}, "query_mpesa"),
        (
            "post",
            f"/support/payments/{p}/refund/",
            {"amount_kes": 100, "method": "reversal", "reason": "Refund", "key": "r" * 10},
            "request_refund",
        ),
        ("post", f"/support/refunds/{r}/approve/", {"reason": "Approve", "key": "a" * 10}, "approve_refund"),
        (
            "post",
            "/support/attention/resolve/",
            {"kind": "refund", "object_id": r, "reason": "Done", "key": "s" * 10},  # listed: awaiting approval
            "resolve_exception",
        ),
        (
            "post",
            "/support/attention/link/",
            {"event_id": e, "payment_id": p, "reason": "Same", "key": "l" * 10},
            "resolve_exception",
        ),
    ]


def send(client, method, url, data, *, htmx=False):
    headers = HX if htmx else {}
    return getattr(client, method)(url, data or {}, headers=headers)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_anonymous_visitors_are_sent_to_sign_in(client, world, htmx):
    for method, url, data, _perm in console_requests(world):
        response = send(client, method, url, data, htmx=htmx)
        if htmx:
            assert response.status_code == 200 and response["HX-Redirect"].startswith("/accounts/login/?next="), url
            assert b"UKK4H7TQ2M" not in response.content
        else:
            assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next="), url
    assert not SupportAction.objects.exclude(kind="refund_request").exists()


@pytest.mark.parametrize("who", ["guest", "host"])
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_guests_and_hosts_get_a_404_everywhere(client, world, who, htmx, request):
    user = request.getfixturevalue(who)
    with_second_factor(user)
    client.force_login(user)
    for method, url, data, _perm in console_requests(world):
        response = send(client, method, url, data, htmx=htmx)
        assert response.status_code == 404, (who, url)
        assert b"UKK4H7TQ2M" not in response.content
    assert SupportAction.objects.count() == 1  # the lead's request made by the fixture


def test_an_agent_may_do_everything_but_approve(agent_client, world):
    for method, url, data, perm in console_requests(world):
        response = send(agent_client, method, url, data)
        if perm == "approve_refund":
            assert response.status_code == 404, url
        else:
            assert response.status_code in (200, 302), (url, response.status_code)
    assert Refund.objects.get(pk=world["refund"].pk).status == Refund.Status.REQUESTED


def test_the_lead_may_approve_what_another_agent_requested(client, lead, agent, world, settings):
    settings.SUPPORT_REFUND_APPROVAL_KES = 1_000
    refund = refund_request(
        actor=agent, payment_id=world["payment"].pk, amount_kes=6_000, method="reversal", reason="Rest", key="z" * 10
    )
    assert refund.status == Refund.Status.REQUESTED
    client.force_login(lead)
    response = client.post(f"/support/refunds/{refund.pk}/approve/", {"reason": "Fine", "key": "b" * 10})
    assert response.status_code == 302
    assert Refund.objects.get(pk=refund.pk).status == Refund.Status.SENT
    own = world["refund"]  # requested by the lead
    response = client.post(f"/support/refunds/{own.pk}/approve/", {"reason": "Fine", "key": "c" * 10})
    assert response.status_code == 422 and b"Another agent must approve" in response.content


@pytest.mark.parametrize("permission", ["view_transactions", "export_transactions"])
def test_each_permission_opens_only_its_own_urls(client, make_user, world, permission):
    user = with_second_factor(make_user(email="one@example.com"))
    user.user_permissions.add(Permission.objects.get(content_type__app_label="mpesa", codename=permission))
    client.force_login(user)
    for method, url, data, perm in console_requests(world):
        response = send(client, method, url, data)
        expected = (200, 302) if perm == permission else (404,)
        assert response.status_code in expected, (permission, url, response.status_code)


def test_the_console_refuses_a_support_account_without_two_factor_in_production(
    client, make_user, support_group, settings
):
    settings.DEBUG = False
    user = make_user(email="new-agent@example.com")
    user.groups.add(support_group)
    client.force_login(user)
    response = client.get("/support/")
    assert response.status_code == 403
    assert b"Two-factor sign-in needed" in response.content and b"today-figures" not in response.content
    assert client.get("/support/export.csv").status_code == 403
    with_second_factor(user)
    assert client.get("/support/").status_code == 200


def test_without_debug_off_two_factor_is_not_demanded(client, make_user, support_group, settings):
    settings.DEBUG = True
    user = make_user(email="dev-agent@example.com")
    user.groups.add(support_group)
    client.force_login(user)
    assert client.get("/support/").status_code == 200


def test_unknown_ids_are_404(agent_client):
    assert agent_client.get("/support/payments/999999/").status_code == 404
    assert agent_client.post("/support/payments/999999/query/", {"kind": "stk"}).status_code == 404
    assert agent_client.get("/support/payments/99999999999999999999999/").status_code == 404


def test_superusers_see_refunds_and_staff_actions_read_only_in_the_admin(client, make_user, world):
    admin_user = make_user(email="root@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    for model in ["refund", "supportaction", "statusrequest", "attentionresolution", "unmatchedcallbacklink"]:
        assert client.get(f"/admin/mpesa/{model}/").status_code == 200, model
        assert client.get(f"/admin/mpesa/{model}/add/").status_code == 403, model
    response = client.post(f"/admin/mpesa/refund/{world['refund'].pk}/change/", {"amount_kes": 1})
    assert response.status_code == 403
    assert Refund.objects.get(pk=world["refund"].pk).amount_kes == 25_000


def test_console_pages_show_the_agents_account_menu(agent_client, agent, make_user):
    from tests.listings.builders import make_listing

    def menu() -> str:
        html = agent_client.get("/support/").content.decode()
        return html[html.index("data-account-menu") : html.index("</details>")]

    assert 'href="/support/"' in menu() and "List your place" in menu()
    make_listing(agent, title="The agent's own cottage", slug="agents-cottage")
    assert 'href="/support/"' in menu() and "Host dashboard" in menu()
