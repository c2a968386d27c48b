"""Transaction Status and Reversal results: applied only from the addresses M-Pesa calls from and only when they name
the acknowledged ConversationID; a result that overtakes its acknowledgement waits for it; a reported reversal
failure keeps its amount until a Transaction Status confirms it; refunds never pass the payment, and the approval
threshold counts every refund of the booking."""

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from mpesa.client import DarajaError
from mpesa.models import AttentionResolution, Payment, PaymentEvent, Refund, StatusRequest
from reservations.models import Booking
from support.services import SupportError, payment_query_status, refund_request
from tests.daraja import FakeDaraja, use_fake_daraja
from tests.helpers.payments import reversal_failure, reversal_success, status_result
from tests.helpers.support import key, with_second_factor

pytestmark = pytest.mark.django_db

MPESA_IP = "196.201.214.200"
ELSEWHERE = "203.0.113.9"


def refunded(payment: Payment) -> int:
    return Booking.objects.get(pk=payment.booking_id).refunded_kes


def committed(payment: Payment) -> int:
    payment.refresh_from_db()
    return payment.refund_committed_kes


# -- Forged results -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["result", "timeout"])
def test_a_forged_completed_status_from_outside_the_allow_list_confirms_nothing(
    agent_client, pending_payment, daraja, post_result, settings, path
):
    settings.MPESA_CALLBACK_ALLOWED_IPS = [MPESA_IP]
    payment = pending_payment()  # the guest never entered a PIN
    response = agent_client.post(
        f"/support/payments/{payment.pk}/query/",
        {"kind": "status", "receipt": "UKK4H7TQ2M", "reason": "Caller says paid", "key": key()},
    )
    assert response.status_code == 302
    request = StatusRequest.objects.get()
    forged = status_result(request, receipt="UKK4H7TQ2M", amount=payment.amount_kes)

    response = post_result(request.result_token, forged, path=path, ip=ELSEWHERE)
    assert response.status_code == 200 and response.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
    payment.refresh_from_db()
    request.refresh_from_db()
    assert payment.status == Payment.Status.PENDING and payment.receipt is None
    assert request.status == StatusRequest.Status.SENT
    booking = Booking.objects.get(pk=payment.booking_id)
    assert booking.status == Booking.Status.AWAITING_PAYMENT and booking.paid_kes == 0
    event = PaymentEvent.objects.get(kind=PaymentEvent.Kind.RESULT)
    assert event.source_ip == ELSEWHERE and "not applied" in event.message

    post_result(request.result_token, forged, path=path, ip=MPESA_IP)  # the same from M-Pesa's address applies
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED


def test_a_forged_reversal_failure_cannot_free_the_amount_for_a_second_refund(
    agent, paid_payment, daraja, post_result, settings
):
    settings.MPESA_CALLBACK_ALLOWED_IPS = [MPESA_IP]
    payment = paid_payment(amount=13_000)
    refund = refund_request(
        actor=agent, payment_id=payment.pk, amount_kes=13_000, method="reversal", reason="Host cancelled", key=key()
    )
    assert refund.status == Refund.Status.SENT

    post_result(refund.result_token, reversal_failure(refund), ip=ELSEWHERE)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SENT
    with pytest.raises(SupportError, match="At most KES 0"):
        refund_request(
            actor=agent, payment_id=payment.pk, amount_kes=13_000, method="reversal", reason="Try again", key=key(2)
        )

    post_result(refund.result_token, reversal_success(13_000, refund), ip=MPESA_IP)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED and refund.flag == ""
    assert refunded(payment) == 13_000 and committed(payment) == 13_000
    assert [name for name, _ in daraja.calls] == ["reversal"]


def test_a_result_naming_another_conversation_changes_nothing(agent, paid_payment, daraja, post_result):
    payment = paid_payment()
    refund = refund_request(
        actor=agent, payment_id=payment.pk, amount_kes=1_000, method="reversal", reason="Goodwill", key=key()
    )
    body = reversal_success(1_000, refund)
    body["Result"]["ConversationID"] = "AG_20261121_2010ffffffffffffffff"
    post_result(refund.result_token, body)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SENT and refunded(payment) == 0
    assert payment.events.filter(message__contains="names another ConversationID").exists()


# -- A reported reversal failure ------------------------------------------------------------------------------------


def test_a_success_after_a_reported_failure_is_applied_once_and_flagged(
    agent_client, agent, paid_payment, daraja, post_result
):
    payment = paid_payment(amount=13_000)
    refund = refund_request(
        actor=agent, payment_id=payment.pk, amount_kes=13_000, method="reversal", reason="Host cancelled", key=key()
    )
    post_result(refund.result_token, reversal_failure(refund))
    refund.refresh_from_db()
    assert refund.status == Refund.Status.FAILURE_REPORTED and committed(payment) == 13_000
    with pytest.raises(SupportError, match="At most KES 0"):
        refund_request(
            actor=agent, payment_id=payment.pk, amount_kes=13_000, method="reversal", reason="Again", key=key(2)
        )

    post_result(refund.result_token, reversal_success(13_000, refund))
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED and refund.flag == Refund.Flag.SUCCESS_AFTER_FAILURE
    assert refunded(payment) == 13_000 and committed(payment) == 13_000
    html = agent_client.get("/support/attention/").content.decode()
    assert f'data-item="refund-{refund.pk}"' in html and "possible double refund" in html


def test_a_reported_failure_stays_on_the_attention_list_until_a_later_transaction_status_confirms_it(
    agent_client, agent, paid_payment, daraja, post_result
):
    payment = paid_payment()
    refund = refund_request(
        actor=agent, payment_id=payment.pk, amount_kes=5_000, method="reversal", reason="Goodwill", key=key()
    )
    asked_before = payment_query_status(
        actor=agent, payment_id=payment.pk, receipt=payment.receipt, reason="Before the failure", key=key(2)
    )
    post_result(refund.result_token, reversal_failure(refund))
    item = f'data-item="refund-{refund.pk}"'

    html = agent_client.get("/support/attention/").content.decode()
    assert item in html and "stays held until a Transaction Status on receipt UKK4H7TQ2M" in html
    refused = agent_client.post(
        "/support/attention/resolve/",
        {"kind": "refund", "object_id": refund.pk, "reason": "Looks failed to me", "key": key(3)},
    )
    assert "Only M-Pesa&#x27;s answer to a Transaction Status can clear this item." in refused.content.decode()
    assert not AttentionResolution.objects.filter(kind="refund", object_id=refund.pk).exists()
    assert item in agent_client.get("/support/attention/").content.decode()

    # An answer to a question asked before M-Pesa reported the failure does not confirm it.
    post_result(asked_before.result_token, status_result(asked_before, receipt="UKK4H7TQ2M", amount=payment.amount_kes))
    refund.refresh_from_db()
    assert refund.status == Refund.Status.FAILURE_REPORTED and committed(payment) == 5_000

    asked_after = payment_query_status(
        actor=agent, payment_id=payment.pk, receipt=payment.receipt, reason="Did it go back?", key=key(4)
    )
    post_result(asked_after.result_token, status_result(asked_after, receipt="UKK4H7TQ2M", amount=payment.amount_kes))
    refund.refresh_from_db()
    assert refund.status == Refund.Status.FAILED and committed(payment) == 0
    assert "stays held" not in agent_client.get("/support/attention/").content.decode()


def test_committed_refunds_cannot_pass_the_payment_in_the_database(paid_payment):
    payment = paid_payment()
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(refund_committed_kes=F("amount_kes") + 1)


# -- Results that overtake their acknowledgement ---------------------------------------------------------------------


class AnswersBeforeReturning(FakeDaraja):
    """M-Pesa's result reaches us while the call that asked is still on its way back."""

    def __init__(self, post_result, *, timeout: bool = False, paid_kes: int = 0):
        super().__init__()
        self.post_result = post_result
        self.timeout = timeout
        self.paid_kes = paid_kes  # what the Transaction Status result says was paid

    def _answer_first(self, accepted, kwargs, body: dict):
        token = kwargs["result_url"].rstrip("/").rsplit("/", 1)[-1]
        body["Result"]["ConversationID"] = accepted.conversation_id
        assert self.post_result(token, body).status_code == 200
        if self.timeout:
            raise DarajaError("M-Pesa did not answer in time.", code="timeout")
        return accepted

    def reversal(self, **kwargs):
        accepted = super().reversal(**kwargs)
        return self._answer_first(accepted, kwargs, reversal_success(kwargs["amount_kes"]))

    def transaction_status(self, **kwargs):
        accepted = super().transaction_status(**kwargs)
        body = status_result(StatusRequest(), receipt=kwargs["receipt"], amount=self.paid_kes)
        return self._answer_first(accepted, kwargs, body)


@pytest.fixture
def answers_first(monkeypatch, post_result):
    def _use(**options):
        fake = AnswersBeforeReturning(post_result, **options)
        use_fake_daraja(monkeypatch, fake)
        return fake

    return _use


def _decisions(payment: Payment) -> list[str]:
    return list(payment.events.filter(kind=PaymentEvent.Kind.DECISION).values_list("message", flat=True))


def test_a_reversal_result_that_overtakes_its_acknowledgement_is_applied_once_it_is_recorded(
    agent, paid_payment, answers_first
):
    payment = paid_payment()
    answers_first()
    refund = refund_request(
        actor=agent, payment_id=payment.pk, amount_kes=2_000, method="reversal", reason="Goodwill", key=key()
    )
    assert refund.status == Refund.Status.SUCCEEDED and refunded(payment) == 2_000
    about_it = [message for message in _decisions(payment) if f"efund {refund.pk}" in message]
    assert len(about_it) == 3
    assert "arrived before M-Pesa's acknowledgement was recorded; kept" in about_it[0]
    assert about_it[1].startswith("Reversal of KES 2,000") and "accepted by M-Pesa" in about_it[1]
    assert "M-Pesa reversed it to the payer" in about_it[2]


def test_a_reversal_that_timed_out_is_settled_by_the_result_that_overtook_it(agent, paid_payment, answers_first):
    payment = paid_payment()
    answers_first(timeout=True)
    refund = refund_request(
        actor=agent, payment_id=payment.pk, amount_kes=2_000, method="reversal", reason="Goodwill", key=key()
    )
    assert refund.status == Refund.Status.SUCCEEDED and refund.conversation_id == ""
    assert refunded(payment) == 2_000


def test_a_status_result_that_overtakes_its_acknowledgement_is_applied_once_it_is_recorded(
    agent, pending_payment, answers_first
):
    payment = pending_payment()
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.UNKNOWN)
    answers_first(paid_kes=payment.amount_kes)
    request = payment_query_status(
        actor=agent, payment_id=payment.pk, receipt="UKK4H7TQ2M", reason="Guest has the SMS", key=key()
    )
    payment.refresh_from_db()
    assert request.status == StatusRequest.Status.ANSWERED and payment.status == Payment.Status.SUCCEEDED
    assert any("kept, and applied once it is" in message for message in _decisions(payment))


# -- The approval threshold counts the whole booking ----------------------------------------------------------------


def test_a_refund_split_in_two_by_an_agent_still_needs_approval(agent_client, agent, paid_payment, daraja, settings):
    settings.SUPPORT_REFUND_APPROVAL_KES = 20_000
    payment = paid_payment()
    for n, amount in enumerate([20_000, 6_000]):
        response = agent_client.post(
            f"/support/payments/{payment.pk}/refund/",
            {"amount_kes": amount, "method": "reversal", "reason": "Host cancelled", "key": key(n)},
        )
        assert response.status_code == 302
    statuses = list(Refund.objects.order_by("id").values_list("amount_kes", "status"))
    assert statuses == [(20_000, Refund.Status.SENT), (6_000, Refund.Status.REQUESTED)]
    assert [call["amount_kes"] for _, call in daraja.calls] == [20_000]


def test_the_threshold_counts_refunds_already_made_on_the_bookings_other_payments(
    agent, paid_payment, daraja, post_result, settings
):
    settings.SUPPORT_REFUND_APPROVAL_KES = 20_000
    first = paid_payment(amount=15_000)
    second = paid_payment(
        amount=15_000,
        booking=Booking.objects.get(pk=first.booking_id),
        checkout_id="ws_CO_second",
        receipt="UKK4H7TQ3N",
    )
    assert Booking.objects.get(pk=first.booking_id).paid_kes == 30_000
    refund = refund_request(
        actor=agent, payment_id=first.pk, amount_kes=15_000, method="reversal", reason="Instalment back", key=key()
    )
    post_result(refund.result_token, reversal_success(15_000, refund))
    assert Refund.objects.get(pk=refund.pk).status == Refund.Status.SUCCEEDED

    other = refund_request(
        actor=agent, payment_id=second.pk, amount_kes=6_000, method="reversal", reason="Part of the rest", key=key(2)
    )
    assert other.status == Refund.Status.REQUESTED and len(daraja.calls) == 1


def test_refund_statuses_follow_the_transition_table(agent, paid_payment, daraja):
    from mpesa.refunds import refund_set_status
    from mpesa.services import PaymentError

    payment = paid_payment()
    refund = refund_request(
        actor=agent, payment_id=payment.pk, amount_kes=500, method="reversal", reason="Goodwill", key=key()
    )
    assert refund.status == Refund.Status.SENT
    with pytest.raises(PaymentError, match="cannot go from Sent to M-Pesa to Awaiting approval"):
        refund_set_status(refund, Refund.Status.REQUESTED, payment=payment)
    assert refund.status == Refund.Status.SENT and committed(payment) == 500
    assert set(Refund.TRANSITIONS) == set(Refund.Status) and not Refund.TRANSITIONS[Refund.Status.SUCCEEDED]
    # Only M-Pesa's confirmation releases a reported failure's amount; a success may always still arrive.
    assert Refund.TRANSITIONS[Refund.Status.FAILURE_REPORTED] == {Refund.Status.SUCCEEDED, Refund.Status.FAILED}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_agents_splitting_a_refund_across_the_bookings_payments_at_once_still_need_approval(
    make_user, support_group, paid_payment, daraja, settings
):
    import threading

    from django.db import connection

    settings.SUPPORT_REFUND_APPROVAL_KES = 20_000
    first = paid_payment(amount=15_000)
    second = paid_payment(
        amount=15_000,
        booking=Booking.objects.get(pk=first.booking_id),
        checkout_id="ws_CO_second",
        receipt="UKK4H7TQ3N",
    )
    agents = [with_second_factor(make_user(email=f"a{i}@example.com")) for i in range(2)]
    barrier = threading.Barrier(2)

    def attempt(index, payment):
        barrier.wait()
        try:
            refund_request(
                actor=agents[index],
                payment_id=payment.pk,
                amount_kes=12_000,
                method="manual",
                manual_reference=f"REF-{index:04d}",
                reason="Half each",
                key=key(index),
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(i, p)) for i, p in enumerate([first, second])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(Refund.objects.values_list("status", flat=True))
    assert statuses == [Refund.Status.REQUESTED, Refund.Status.SUCCEEDED]
