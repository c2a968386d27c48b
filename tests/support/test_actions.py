"""Console actions: queries settle through the same path as callbacks, refunds are settled only by their result
callback, every action is audited once, and a resubmitted form records nothing twice."""

import itertools
import threading

import pytest
from django.db import connection

from mpesa.client import StkQueryAnswer
from mpesa.models import AttentionResolution, Payment, PaymentEvent, Refund, StatusRequest, SupportAction
from reservations.models import Booking
from support.services import (
    SupportError,
    attention_resolve,
    callback_link,
    payment_query_status,
    payment_query_stk,
    refund_approve,
    refund_request,
)
from tests.helpers.payments import reversal_failure, reversal_success, status_result
from tests.helpers.support import key, unmatched_callback, with_second_factor
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db


# -- Query M-Pesa now ---------------------------------------------------------------------------------------


def test_stk_query_from_the_console_settles_a_pending_payment_like_a_callback(
    agent_client, agent, pending_payment, daraja
):
    payment = pending_payment()
    daraja.query_answer = StkQueryAnswer(final=True, result_code="0", result_desc="The service request is processed")
    response = agent_client.post(
        f"/support/payments/{payment.pk}/query/",
        {"kind": "stk", "reason": "Caller says she paid", "key": key()},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert b'id="payment-page"' in response.content and b"<html" not in response.content
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and payment.counted_kes == payment.amount_kes
    assert Booking.objects.get(pk=payment.booking_id).status == Booking.Status.CONFIRMED
    assert daraja.calls == [("stk_query", {"checkout_request_id": payment.checkout_request_id})]
    action = SupportAction.objects.get()
    assert (action.kind, action.actor, action.payment_id, action.reason) == (
        "query_stk",
        agent,
        payment.pk,
        "Caller says she paid",
    )
    assert payment.events.filter(kind=PaymentEvent.Kind.QUERY).exists()


def test_a_still_processing_answer_settles_nothing(agent, pending_payment, daraja):
    payment = pending_payment()
    daraja.query_answer = StkQueryAnswer(final=False, result_code="4999", result_desc="still processing")
    payment_query_stk(actor=agent, payment_id=payment.pk, reason="Checking", key=key())
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


def test_transaction_status_fills_in_a_missing_receipt_and_settles_an_unknown_payment(
    agent, pending_payment, daraja, post_result
):
    payment = pending_payment()
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.UNKNOWN, guest_code="UKK4H7TQ2M")
    request = payment_query_status(
        actor=agent, payment_id=payment.pk, receipt="ukk4h7tq2m", reason="Guest typed a code", key=key()
    )
    assert request.status == StatusRequest.Status.SENT
    assert daraja.calls[0][0] == "transaction_status"
    assert daraja.calls[0][1]["result_url"].endswith(f"/payments/result/{request.result_token}/")
    payment.refresh_from_db()
    assert payment.receipt is None  # the acknowledgement decides nothing

    response = post_result(
        request.result_token, status_result(request, receipt="UKK4H7TQ2M", amount=payment.amount_kes)
    )
    assert response.status_code == 200
    payment.refresh_from_db()
    request.refresh_from_db()
    assert request.status == StatusRequest.Status.ANSWERED and request.result_code == "0"
    assert payment.receipt == "UKK4H7TQ2M" and payment.status == Payment.Status.SUCCEEDED
    assert Booking.objects.get(pk=payment.booking_id).paid_kes == payment.amount_kes


def test_transaction_status_with_a_different_amount_changes_nothing(agent, pending_payment, daraja, post_result):
    payment = pending_payment()
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.UNKNOWN)
    request = payment_query_status(actor=agent, payment_id=payment.pk, receipt="UKK4H7TQ2M", reason="Why", key=key())
    post_result(request.result_token, status_result(request, receipt="UKK4H7TQ2M", amount=payment.amount_kes - 1))
    payment.refresh_from_db()
    assert payment.status == Payment.Status.UNKNOWN and payment.receipt is None
    assert payment.events.filter(message__contains="differs from the request").exists()


def test_transaction_status_for_an_unknown_receipt_changes_nothing(agent, pending_payment, daraja, post_result):
    payment = pending_payment()
    request = payment_query_status(actor=agent, payment_id=payment.pk, receipt="UKK4H7TQ2X", reason="Why", key=key())
    post_result(request.result_token, status_result(request, receipt="UKK4H7TQ2X", amount=1, code="R000002"))
    payment.refresh_from_db()
    request.refresh_from_db()
    assert request.result_code == "R000002" and payment.receipt is None and payment.status == Payment.Status.PENDING


def test_a_receipt_of_the_wrong_shape_is_refused_with_a_message(agent_client, pending_payment, daraja):
    payment = pending_payment()
    response = agent_client.post(
        f"/support/payments/{payment.pk}/query/",
        {"kind": "status", "receipt": "12<script>", "reason": "Checking", "key": key()},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert b"10 letters and digits" in response.content
    assert not StatusRequest.objects.exists() and not SupportAction.objects.exists()


# -- Refunds ------------------------------------------------------------------------------------------------


def test_a_refund_above_what_is_refundable_is_refused(agent_client, paid_payment, daraja):
    payment = paid_payment()
    response = agent_client.post(
        f"/support/payments/{payment.pk}/refund/",
        {"amount_kes": payment.amount_kes + 1, "method": "reversal", "reason": "Overpaid", "key": key()},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert f"At most KES {payment.amount_kes:,} can still be refunded".encode() in response.content
    assert not Refund.objects.exists() and daraja.calls == []


def test_a_small_refund_is_sent_at_once_and_only_its_result_marks_it_refunded(
    agent, paid_payment, daraja, post_result, settings
):
    settings.SUPPORT_REFUND_APPROVAL_KES = 20_000
    payment = paid_payment()
    refund = refund_request(
        actor=agent, payment_id=payment.pk, amount_kes=5_000, method="reversal", reason="Goodwill", key=key()
    )
    assert refund.status == Refund.Status.SENT
    name, call = daraja.calls[0]
    assert (name, call["receipt"], call["amount_kes"]) == ("reversal", "UKK4H7TQ2M", 5_000)
    assert call["result_url"].endswith(f"/payments/result/{refund.result_token}/")
    booking = Booking.objects.get(pk=payment.booking_id)
    assert booking.refunded_kes == 0  # acknowledged is not refunded

    post_result(refund.result_token, reversal_success(5_000, refund))
    post_result(refund.result_token, reversal_success(5_000, refund))  # Daraja may repeat itself
    refund.refresh_from_db()
    booking.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED and refund.reversal_receipt == "UKL1C8ZP5N"
    assert booking.refunded_kes == 5_000
    assert booking.events.filter(action="refunded").count() == 1


def test_a_failure_result_holds_the_amount_until_a_transaction_status_confirms_it(
    agent, paid_payment, daraja, post_result
):
    payment = paid_payment()
    refund = refund_request(
        actor=agent, payment_id=payment.pk, amount_kes=5_000, method="reversal", reason="Goodwill", key=key()
    )
    post_result(refund.result_token, reversal_failure(refund))
    refund.refresh_from_db()
    payment.refresh_from_db()
    assert refund.status == Refund.Status.FAILURE_REPORTED and refund.result_code == "R000002"
    assert refund.error_message == "M-Pesa does not know this receipt number."
    assert Booking.objects.get(pk=payment.booking_id).refunded_kes == 0
    assert payment.refund_committed_kes == 5_000  # the money may have gone back: still held
    with pytest.raises(SupportError, match=f"At most KES {payment.amount_kes - 5_000:,}"):
        refund_request(
            actor=agent,
            payment_id=payment.pk,
            amount_kes=payment.amount_kes,
            method="reversal",
            reason="All",
            key=key(2),
        )

    request = payment_query_status(
        actor=agent, payment_id=payment.pk, receipt=payment.receipt, reason="Did the reversal happen?", key=key(3)
    )
    post_result(request.result_token, status_result(request, receipt=payment.receipt, amount=payment.amount_kes))
    refund.refresh_from_db()
    payment.refresh_from_db()
    assert refund.status == Refund.Status.FAILED and payment.refund_committed_kes == 0
    again = refund_request(
        actor=agent,
        payment_id=payment.pk,
        amount_kes=payment.amount_kes,
        method="manual",
        manual_reference="BANK-778812",
        reason="Paid by bank instead",
        key=key(4),
    )
    assert again.status == Refund.Status.REQUESTED  # above the approval limit


def test_a_refund_refused_by_daraja_is_failed_at_once(agent, paid_payment, daraja):
    payment = paid_payment()
    daraja.refuse = "M-Pesa did not accept the request."
    refund = refund_request(
        actor=agent, payment_id=payment.pk, amount_kes=1_000, method="reversal", reason="Goodwill", key=key()
    )
    assert refund.status == Refund.Status.FAILED


def test_a_large_refund_waits_for_a_second_agent(agent, lead, paid_payment, daraja, post_result, settings):
    settings.SUPPORT_REFUND_APPROVAL_KES = 20_000
    payment = paid_payment()
    refund = refund_request(
        actor=lead, payment_id=payment.pk, amount_kes=25_000, method="reversal", reason="Host cancelled", key=key()
    )
    assert refund.status == Refund.Status.REQUESTED and daraja.calls == []
    with pytest.raises(SupportError, match="Another agent"):
        refund_approve(actor=lead, refund_id=refund.pk, reason="Fine by me", key=key(2))

    other = refund_request(
        actor=agent, payment_id=payment.pk, amount_kes=6_000, method="reversal", reason="Rest", key=key(3)
    )
    assert other.status == Refund.Status.REQUESTED  # small, but the booking's refunds would pass the limit
    with pytest.raises(SupportError, match="At most KES 500"):
        refund_request(
            actor=agent, payment_id=payment.pk, amount_kes=600, method="reversal", reason="x" * 5, key=key(4)
        )

    approved = refund_approve(actor=agent, refund_id=refund.pk, reason="Checked the host's message", key=key(5))
    assert approved.status == Refund.Status.SENT and approved.approved_by == agent
    assert refund_approve(actor=lead, refund_id=other.pk, reason="The rest", key=key(6)).status == Refund.Status.SENT
    assert [name for name, _ in daraja.calls] == ["reversal", "reversal"]
    kinds = list(SupportAction.objects.order_by("id").values_list("kind", "actor__email"))
    assert kinds == [
        ("refund_request", "lead@example.com"),
        ("refund_request", "agent@example.com"),
        ("refund_approve", "agent@example.com"),
        ("refund_approve", "lead@example.com"),
    ]


def test_only_agents_with_the_permission_can_approve(agent_client, lead, paid_payment, daraja):
    payment = paid_payment()
    refund = refund_request(
        actor=lead, payment_id=payment.pk, amount_kes=25_000, method="reversal", reason="Host cancelled", key=key()
    )
    response = agent_client.post(f"/support/refunds/{refund.pk}/approve/", {"reason": "ok then", "key": key(2)})
    assert response.status_code == 404
    refund.refresh_from_db()
    assert refund.status == Refund.Status.REQUESTED


def test_a_resubmitted_form_records_nothing_twice(agent_client, paid_payment, daraja):
    payment = paid_payment()
    form = {"amount_kes": 1_000, "method": "reversal", "reason": "Goodwill", "key": key()}
    first = agent_client.post(f"/support/payments/{payment.pk}/refund/", form)
    second = agent_client.post(f"/support/payments/{payment.pk}/refund/", form)
    assert first.status_code == second.status_code == 302
    assert Refund.objects.count() == 1 and SupportAction.objects.count() == 1 and len(daraja.calls) == 1
    query = {"kind": "status", "receipt": "UKK4H7TQ2M", "reason": "Check", "key": key(2)}
    agent_client.post(f"/support/payments/{payment.pk}/query/", query)
    agent_client.post(f"/support/payments/{payment.pk}/query/", query)
    assert StatusRequest.objects.count() == 1 and SupportAction.objects.count() == 2


def test_a_manual_refund_needs_its_reference_and_is_recorded_as_refunded(agent, paid_payment, daraja):
    payment = paid_payment()
    with pytest.raises(SupportError, match="reference"):
        refund_request(actor=agent, payment_id=payment.pk, amount_kes=500, method="manual", reason="Cash", key=key())
    refund = refund_request(
        actor=agent,
        payment_id=payment.pk,
        amount_kes=500,
        method="manual",
        manual_reference="EQ-00012",
        reason="Paid from the bank account",
        key=key(2),
    )
    assert refund.status == Refund.Status.SUCCEEDED and daraja.calls == []
    assert Booking.objects.get(pk=payment.booking_id).refunded_kes == 500


def test_a_payment_not_confirmed_cannot_be_refunded(agent, pending_payment, daraja):
    payment = pending_payment()
    with pytest.raises(SupportError, match="confirmed"):
        refund_request(actor=agent, payment_id=payment.pk, amount_kes=100, method="reversal", reason="x" * 4, key=key())


def test_the_refund_due_from_a_cancellation_is_cleared_by_the_reversal_result(
    agent, lead, guest, paid_payment, daraja, post_result
):
    from reservations.services import booking_cancel

    payment = paid_payment()
    booking = booking_cancel(booking=Booking.objects.get(pk=payment.booking_id), user=guest, reason="Plans changed")
    due = booking.refund_due_kes
    assert due > 0
    refund = refund_request(
        actor=agent, payment_id=payment.pk, amount_kes=due, method="reversal", reason="Cancellation", key=key()
    )
    if refund.status == Refund.Status.REQUESTED:
        refund = refund_approve(actor=lead, refund_id=refund.pk, reason="Policy checked", key=key(2))
    post_result(refund.result_token, reversal_success(due, refund))
    booking.refresh_from_db()
    assert (booking.refund_due_kes, booking.refunded_kes) == (0, due)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_refunds_requested_at_once_never_exceed_the_payment(make_user, support_group, paid_payment, daraja):
    payment = paid_payment()
    agents = [with_second_factor(make_user(email=f"a{i}@example.com")) for i in range(2)]
    amount = payment.amount_kes // 2 + 1000
    barrier = threading.Barrier(2)
    outcomes = []

    def attempt(index):
        barrier.wait()
        try:
            refund_request(
                actor=agents[index],
                payment_id=payment.pk,
                amount_kes=amount,
                method="manual",
                manual_reference=f"REF-{index:04d}",
                reason="Two at once",
                key=key(index),
            )
            outcomes.append("ok")
        except SupportError as error:
            outcomes.append(str(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes)[0].startswith("At most") and outcomes.count("ok") == 1
    assert Refund.objects.filter(payment=payment).count() == 1


# -- Attention and unmatched callbacks -----------------------------------------------------------------------


def test_resolving_needs_a_note_and_is_audited(agent_client, agent, pending_payment):
    payment = pending_payment()
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.UNKNOWN)
    url = "/support/attention/resolve/"
    response = agent_client.post(
        url, {"kind": "payment", "object_id": payment.pk, "reason": "", "key": key()}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422 and not AttentionResolution.objects.exists()
    response = agent_client.post(
        url,
        {"kind": "payment", "object_id": payment.pk, "reason": "Guest paid cash at the door", "key": key(2)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and f'data-item="payment-{payment.pk}"'.encode() not in response.content
    assert AttentionResolution.objects.get().note == "Guest paid cash at the door"
    assert SupportAction.objects.get().kind == "resolve"
    with pytest.raises(SupportError, match="already resolved"):
        attention_resolve(actor=agent, kind="payment", object_id=payment.pk, note="Again", key=key(3))


RESOLVE = "/support/attention/resolve/"


def test_only_an_item_the_list_shows_now_can_be_resolved(agent_client, make_user, guest, hold, paid_payment):
    from reservations.services import booking_cancel

    witness = hold(make_user(email="witness@example.com"), 20, 22)  # the next bookings take the next ids
    ahead = range(witness.pk + 1, witness.pk + 4)
    refused = []
    for n, (object_id, kind) in enumerate(
        itertools.product([*ahead, witness.pk, 2**62], ["refund_due", "payment", "refund", "unmatched"])
    ):
        form = {"kind": kind, "object_id": object_id, "reason": "Pre-resolved", "key": key(100 + n)}
        response = agent_client.post(RESOLVE, form, headers={"HX-Request": "true"})
        refused.append(response.status_code == 422 and b"not on the attention list now" in response.content)
    assert all(refused) and not AttentionResolution.objects.exists() and not SupportAction.objects.exists()
    payment = paid_payment()  # confirmed and paid, no flag: nothing to attend to
    response = agent_client.post(
        RESOLVE,
        {"kind": "payment", "object_id": payment.pk, "reason": "Fine", "key": key(7)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422 and not AttentionResolution.objects.exists()
    booking = booking_cancel(booking=Booking.objects.get(pk=payment.booking_id), user=guest)
    assert booking.pk in ahead and booking.refund_due_kes > 0
    html = agent_client.get("/support/attention/").content.decode()
    assert f'data-item="refund_due-{booking.pk}"' in html
    assert f"Cancelled: {booking.refund_due_kes:,} KES due back to the guest" in html


def test_resolving_is_idempotent_and_a_reused_form_key_is_refused(
    agent_client, agent, host, pending_payment, make_user, hold
):
    first, second = (
        pending_payment(),
        pending_payment(booking=hold(make_user(email="other@example.com"), 3, 5, listing_obj=make_listing(host))),
    )
    Payment.objects.filter(pk__in=[first.pk, second.pk]).update(status=Payment.Status.UNKNOWN)
    form = {"kind": "payment", "object_id": first.pk, "reason": "Guest paid cash at the door", "key": key()}
    for _ in range(2):
        response = agent_client.post(RESOLVE, form, headers={"HX-Request": "true"})
        assert response.status_code == 200 and f'data-item="payment-{first.pk}"'.encode() not in response.content
    assert AttentionResolution.objects.count() == 1 and SupportAction.objects.count() == 1
    again = attention_resolve(actor=agent, kind="payment", object_id=first.pk, note="Same form", key=key())
    assert again == AttentionResolution.objects.get()
    response = agent_client.post(RESOLVE, {**form, "object_id": second.pk}, headers={"HX-Request": "true"})
    assert response.status_code == 422 and b"This form has expired" in response.content
    assert f'data-item="payment-{second.pk}"'.encode() in response.content
    assert AttentionResolution.objects.count() == 1 and SupportAction.objects.count() == 1


def test_an_unmatched_callback_is_linked_without_touching_the_original(agent, pending_payment):
    payment = pending_payment()
    event = unmatched_callback(body='{"Body": {"stkCallback": {"ResultCode": 0}}}')
    link = callback_link(
        actor=agent, event_id=event.pk, payment_id=payment.pk, note="Same CheckoutRequestID", key=key()
    )
    event.refresh_from_db()
    assert link.payment == payment and event.payment_id is None and event.kind == PaymentEvent.Kind.UNMATCHED
    with pytest.raises(SupportError, match="already linked"):
        callback_link(actor=agent, event_id=event.pk, payment_id=payment.pk, note="Again", key=key(2))
    with pytest.raises(SupportError, match="no payment"):
        callback_link(actor=agent, event_id=unmatched_callback().pk, payment_id=10**9, note="Which?", key=key(3))


def test_a_result_for_an_unknown_token_is_recorded_and_changes_nothing(
    client, paid_payment, post_result, agent, daraja
):
    payment = paid_payment()
    refund = refund_request(
        actor=agent, payment_id=payment.pk, amount_kes=1_000, method="reversal", reason="Goodwill", key=key()
    )
    response = post_result("f" * 32, reversal_success(1_000, refund))
    assert response.status_code == 200
    assert PaymentEvent.objects.filter(kind=PaymentEvent.Kind.RESULT, path_token="f" * 32).exists()
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SENT
    assert post_result(refund.result_token, None, raw=b"\x00not json").status_code == 200
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SENT


@pytest.mark.postgres
def test_the_audit_trail_cannot_be_edited_or_deleted(agent, pending_payment, daraja):
    from django.db import DatabaseError, transaction

    payment = pending_payment()
    payment_query_stk(actor=agent, payment_id=payment.pk, reason="Checking", key=key())
    for change in (lambda q: q.update(reason="Nothing happened"), lambda q: q.delete()):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            change(SupportAction.objects.all())
    assert SupportAction.objects.get().reason == "Checking"
