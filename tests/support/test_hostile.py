"""Whatever an agent's browser sends to a console action, the answer is a message with 422, never a 500."""

import pytest

from mpesa.models import Refund, SupportAction

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


@pytest.mark.parametrize(
    "form",
    [
        {"amount_kes": "abc", "method": "reversal", "reason": "Refund", "key": "k" * 10},
        {"amount_kes": "1e9", "method": "reversal", "reason": "Refund", "key": "k" * 10},
        {"amount_kes": "99999999999", "method": "reversal", "reason": "Refund", "key": "k" * 10},
        {"amount_kes": "0", "method": "reversal", "reason": "Refund", "key": "k" * 10},
        {"amount_kes": "100", "method": "cash", "reason": "Refund", "key": "k" * 10},
        {"amount_kes": "100", "method": "reversal", "reason": "", "key": "k" * 10},
        {"amount_kes": "100", "method": "reversal", "reason": "a\x00b", "key": "k" * 10},
        {"amount_kes": "100", "method": "reversal", "reason": "  ", "key": "k" * 10},
        {"amount_kes": "100", "method": "reversal", "reason": "Refund"},
        {"amount_kes": "100", "method": "reversal", "reason": "Refund", "key": "<script>alert(1)</script>"},
        {"amount_kes": "100", "method": "manual", "manual_reference": "", "reason": "Refund", "key": "k" * 10},
    ],
)
def test_a_refund_form_with_bad_input_is_refused(agent_client, paid_payment, daraja, form):
    payment = paid_payment()
    response = agent_client.post(f"/support/payments/{payment.pk}/refund/", form, headers=HX)
    assert response.status_code == 422 and b'id="payment-page"' in response.content
    assert not Refund.objects.exists() and not SupportAction.objects.exists() and daraja.calls == []


@pytest.mark.parametrize(
    "url, form",
    [
        ("/support/attention/resolve/", {"kind": "anything", "object_id": "1", "reason": "Done", "key": "k" * 10}),
        ("/support/attention/resolve/", {"kind": "payment", "object_id": "-5", "reason": "Done", "key": "k" * 10}),
        ("/support/attention/resolve/", {"kind": "payment", "object_id": "9" * 30, "reason": "Done", "key": "k" * 9}),
        ("/support/attention/resolve/", {"kind": "refund_due", "object_id": "x", "reason": "Done", "key": "k" * 10}),
        ("/support/attention/link/", {"event_id": "1", "payment_id": "abc", "reason": "Same", "key": "k" * 10}),
        ("/support/attention/link/", {"event_id": "99999", "payment_id": "1", "reason": "Same", "key": "k" * 10}),
        ("/support/payments/1/query/", {"kind": "teleport", "reason": "Check", "key": "k" * 10}),
        ("/support/payments/1/query/", {"kind": "status", "receipt": "", "reason": "Check", "key": "k" * 10}),
    ],
)
def test_other_actions_with_bad_input_are_refused(agent_client, paid_payment, url, form, daraja):
    paid_payment()  # payment 1 in a fresh database; unknown ids are a 404 anyway
    response = agent_client.post(url, form, headers=HX)
    assert response.status_code in (404, 422), response.status_code
    if response.status_code == 422 and "attention" in url:
        assert b"data-error" in response.content or b"text-red-700" in response.content
    assert not SupportAction.objects.exists()


def test_a_refund_approval_without_a_note_is_refused(client, lead, agent, paid_payment, daraja):
    from mpesa.support_services import refund_request

    payment = paid_payment()
    refund = refund_request(
        actor=agent, payment_id=payment.pk, amount_kes=25_000, method="reversal", reason="Due", key="k" * 10
    )
    client.force_login(lead)
    response = client.post(f"/support/refunds/{refund.pk}/approve/", {"reason": "", "key": "a" * 10}, headers=HX)
    assert response.status_code == 422
    refund.refresh_from_db()
    assert refund.status == Refund.Status.REQUESTED
