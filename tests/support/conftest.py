import datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from mpesa.client import new_token
from mpesa.models import Payment, PaymentEvent
from tests.mpesa.conftest import instalment_paid, pending_payment, post_callback  # noqa: F401 - fixtures
from tests.reservations.conftest import guest, hold, host, listing  # noqa: F401 - fixtures

AGENT_PERMISSIONS = ["view_transactions", "query_mpesa", "request_refund", "resolve_exception", "export_transactions"]


def with_second_factor(user):
    """Support accounts have a TOTP authenticator (required by the console when DEBUG is off)."""
    from allauth.mfa.models import Authenticator

    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "not-used-in-tests"})
    return user


def support_user(make_user, *, email: str, full_name: str, approves: bool = False):
    """A member of the support group (all console permissions but approving refunds), with TOTP set up."""
    group, _ = Group.objects.get_or_create(name="support")
    group.permissions.set(Permission.objects.filter(content_type__app_label="mpesa", codename__in=AGENT_PERMISSIONS))
    user = make_user(email=email, full_name=full_name)
    user.groups.add(group)
    if approves:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="mpesa", codename="approve_refund"))
    return with_second_factor(user)


@pytest.fixture
def support_group(db):
    group, _ = Group.objects.get_or_create(name="support")
    group.permissions.set(Permission.objects.filter(content_type__app_label="mpesa", codename__in=AGENT_PERMISSIONS))
    return group


@pytest.fixture
def agent(make_user):
    return support_user(make_user, email="agent@example.com", full_name="Sam Agent")


@pytest.fixture
def lead(make_user):
    return support_user(make_user, email="lead@example.com", full_name="Linet Lead", approves=True)


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def paid_payment(pending_payment):  # noqa: F811 - the fixture imported above
    """A payment M-Pesa confirmed, counted towards its booking (which is then confirmed)."""

    def _paid(*, receipt="UKK4H7TQ2M", **kwargs):
        from mpesa.client import StkQueryAnswer
        from mpesa.services import payment_settle_query

        with transaction.atomic():  # the helper locks rows; transactional tests have no outer transaction
            payment = pending_payment(**kwargs)
        Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.VERIFYING, receipt=receipt)
        return payment_settle_query(
            payment_id=payment.pk, answer=StkQueryAnswer(final=True, result_code="0", result_desc="ok")
        )

    return _paid


def unmatched_callback(*, body: str = '{"Body": {}}') -> PaymentEvent:
    return PaymentEvent.objects.create(
        kind=PaymentEvent.Kind.UNMATCHED,
        message="Callback for a token we do not know.",
        raw_body=body,
        path_token=new_token(),
        created_at=timezone.now() - datetime.timedelta(minutes=1),
    )


class FakeDaraja:
    """Answers like Daraja's acknowledgements; the outcomes arrive later as result callbacks posted by the test."""

    def __init__(self):
        from mpesa.client import StkQueryAnswer

        self.calls = []
        self.query_answer = StkQueryAnswer(final=False, result_code="4999", result_desc="Still processing")
        self.refuse = None

    def _accepted(self, endpoint: str, request: dict):
        from mpesa.client import AsyncAccepted, DarajaError, Exchange

        if self.refuse:
            error = DarajaError(self.refuse, code="500.002.1001")
            error.exchange = Exchange(endpoint, request, 500, {"errorMessage": self.refuse})
            raise error
        response = {
            "OriginatorConversationID": "c3f1-4a8e-9d2b-7e5c0a1f6b4d4472058",
            "ConversationID": f"AG_20261121_2010e4b7c1a9d3f25e{len(self.calls):02d}",
            "ResponseCode": "0",
            "ResponseDescription": "Accept the service request successfully.",
        }
        return AsyncAccepted(
            conversation_id=response["ConversationID"],
            originator_conversation_id=response["OriginatorConversationID"],
            exchange=Exchange(endpoint, request, 200, response),
        )

    def stk_query(self, *, checkout_request_id: str):
        self.calls.append(("stk_query", {"checkout_request_id": checkout_request_id}))
        return self.query_answer

    def transaction_status(self, **kwargs):
        self.calls.append(("transaction_status", kwargs))
        return self._accepted("/mpesa/transactionstatus/v1/query", {"TransactionID": kwargs["receipt"]})

    def reversal(self, **kwargs):
        self.calls.append(("reversal", kwargs))
        return self._accepted("/mpesa/reversal/v1/request", {"TransactionID": kwargs["receipt"]})


# Where mpesa makes its Daraja client, for the console's requests too: STK Query, Reversal, Transaction Status.
CONSOLE_CLIENTS = ("mpesa.client.daraja",)


def use_fake_daraja(monkeypatch, fake) -> None:
    for target in CONSOLE_CLIENTS:
        monkeypatch.setattr(target, lambda: fake)


@pytest.fixture
def daraja(monkeypatch):
    fake = FakeDaraja()
    use_fake_daraja(monkeypatch, fake)
    return fake


@pytest.fixture
def post_result(client, django_capture_on_commit_callbacks):
    """POST a result callback to /payments/result/<token>/ as Daraja would."""
    import json

    def _post(token: str, body: dict | None, *, raw: bytes | None = None, path: str = "result", ip="196.201.214.200"):
        data = raw if raw is not None else json.dumps(body).encode()
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(f"/payments/{path}/{token}/", data=data, content_type="application/json", REMOTE_ADDR=ip)

    return _post
