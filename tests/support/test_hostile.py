"""Whatever an agent's browser sends to a console action, the answer is a message with 422, never a 500."""

import re

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
    from support.services import refund_request

    payment = paid_payment()
    refund = refund_request(
        actor=agent, payment_id=payment.pk, amount_kes=25_000, method="reversal", reason="Due", key="k" * 10
    )
    client.force_login(lead)
    response = client.post(f"/support/refunds/{refund.pk}/approve/", {"reason": "", "key": "a" * 10}, headers=HX)
    assert response.status_code == 422
    refund.refresh_from_db()
    assert refund.status == Refund.Status.REQUESTED


# -- The search page, its fragment and the export over hostile parameters ------------------------------------------

CONSOLE_PARAMETERS = ["q", "status", "date_from", "date_to", "amount_min", "amount_max", "page"]
HOSTILE_VALUES = [
    # numbers: huge, negative, not whole, not ASCII
    "9" * 30,
    "99999999999",
    "10000001",
    "-1",
    "-99999999999",
    "0",
    "1.5",
    "1e308",
    "1e3",
    "0x10",
    "١٢٣",
    "+7",
    "NaN",
    # dates: far, impossible, other formats
    "9999-12-31",
    "0001-01-01",
    "9999-12-30",
    "1900-01-01",
    "2026-02-30",
    "10000-01-01",
    "-2026-01-01",
    "31/12/9999",
    "12/31/9999",
    "1/1/1",
    "2026-W01",
    # phone numbers: foreign, short, long, other digits
    "+44 20 7946 0958",
    "0712",
    "+2547",
    "0712 345 67",
    "+254 712 345 6789",
    "(0712) 345-678",
    "254-712-345-678-9",
    "٠٧١٢٣٤٥٦٧٨",
    "０７１２３４５６７８",
    "+1 (555) 010-9999",
    "00254712345678",
    "2026-11-21",
    "12345678901234567890",
    # letters, emoji, odd text, lengths
    "abc",
    "😀😀😀",
    "💸",
    "Zoë",
    "\u0301\u0301\u0301",
    "\u202eevil",
    "ⅷⅷⅷ",
    "' OR 1=1 --",
    "<script>",
    "%",
    "_",
    "",
    " ",
    "x" * 5000,
    "ws_CO_" + "x" * 300,
    "NX-",
    "UKK4H7TQ2M" * 10,
    # statuses that do not exist
    "hacked",
    "SUCCEEDED",
    "succeeded ",
    "refunded",
]


def _answers_clearly(response) -> str:
    """Empty when the answer is a 200 or a 422 that says what is wrong; else what went wrong."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if response.status_code == 200:
        return ""
    if response.status_code != 422:
        return f"HTTP {response.status_code}"
    text = body.decode()
    if response["Content-Type"].startswith("text/plain"):
        return "" if text.startswith("The filters are not valid: ") and len(text) > 30 else f"unclear: {text!r}"
    errors = re.search(r"<ul role=\"alert\"[^>]*data-errors>(.*?)</ul>", text, re.S)
    return "" if errors and "<li>" in errors.group(1) else "422 without a message"


@pytest.mark.parametrize("where", ["page", "fragment", "export"])
@pytest.mark.parametrize("name", CONSOLE_PARAMETERS)
def test_every_console_parameter_is_answered_with_results_or_a_clear_error(agent_client, paid_payment, where, name):
    paid_payment()
    agent_client.raise_request_exception = False
    url = "/support/export.csv" if where == "export" else "/support/"
    headers = {"HX-Request": "true"} if where == "fragment" else {}
    failures = []
    for value in [*HOSTILE_VALUES, ["abc", "+44 20 7946 0958"], ["9999-12-31", "x"], ["", "-1", "1"]]:
        response = agent_client.get(url, {name: value}, headers=headers)
        problem = _answers_clearly(response)
        if problem:
            failures.append((value if len(str(value)) < 60 else str(value)[:60] + "…", problem))
    assert not failures, failures


def test_far_dates_and_foreign_numbers_together_over_the_export(agent_client, paid_payment):
    paid_payment()
    agent_client.raise_request_exception = False
    for params in [
        {"date_from": "0001-01-01", "date_to": "9999-12-31", "q": "+44 20 7946 0958"},
        {"date_to": "9999-12-31", "amount_min": "0", "amount_max": "10000000", "status": "succeeded"},
    ]:
        for url in ("/support/", "/support/export.csv"):
            assert not _answers_clearly(agent_client.get(url, params)), (url, params)
