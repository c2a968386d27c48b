"""The console against the Daraja emulator over real HTTP: Transaction Status and Reversal are acknowledged, and
their results arrive later at the request's own result URL, where they settle the request."""

import pytest

from daraja_emulator import dispatcher
from mpesa.models import Payment, Refund, StatusRequest
from mpesa.services import payment_start
from reservations.models import Booking
from support.services import SupportError, payment_query_status, payment_query_stk, refund_approve, refund_request
from tests.daraja import use_emulator
from tests.helpers.bookings import booking_for
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _emulated_daraja(settings, live_server):
    use_emulator(
        settings,
        live_server,
        MPESA_INITIATOR_NAME="",
        MPESA_SECURITY_CREDENTIAL="",
        MPESA_EMULATOR_RESULT_DELAY_SECONDS=0.2,
        MPESA_QUERY_AFTER_SECONDS=0,
        MPESA_QUERY_EVERY_SECONDS=0,
        MPESA_PUSHES_PER_PHONE=100,
    )
    yield
    dispatcher.stop()


def test_a_payment_without_a_callback_is_settled_by_the_agents_query(people, agent):
    guest, host = people
    booking = booking_for(guest, host)
    payment = payment_start(booking=booking, user=guest, phone="254700000005")  # succeeds, never calls back
    payment = wait_for(lambda: _settled_by_query(agent, payment))
    assert payment.status == Payment.Status.SUCCEEDED
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED


def _settled_by_query(agent, payment):
    settled = payment_query_stk(actor=agent, payment_id=payment.pk, reason="Caller says paid", key=_key())
    return settled if settled.status == Payment.Status.SUCCEEDED else None


_keys = iter(range(10**6))


def _key() -> str:
    return f"emulated-{next(_keys):06d}"


def test_status_and_reversal_round_trip_through_the_emulator(people, agent, lead, settings):
    settings.SUPPORT_REFUND_APPROVAL_KES = 20_000
    guest, host = people
    booking = booking_for(guest, host)  # KES 30,000 and more
    payment = payment_start(booking=booking, user=guest, phone="254700000001")
    wait_for(lambda: Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED)
    payment.refresh_from_db()

    request = payment_query_status(
        actor=agent, payment_id=payment.pk, receipt=payment.receipt, reason="Caller asks", key=_key()
    )
    request = wait_for(lambda: StatusRequest.objects.filter(pk=request.pk, status="answered").first())
    assert request.result_code == "0"

    refund = refund_request(
        actor=agent,
        payment_id=payment.pk,
        amount_kes=payment.amount_kes,
        method="reversal",
        reason="Host cancelled",
        key=_key(),
    )
    assert refund.status == Refund.Status.REQUESTED
    refund = refund_approve(actor=lead, refund_id=refund.pk, reason="Checked", key=_key())
    assert refund.status == Refund.Status.SENT and refund.conversation_id.startswith("AG_")
    refund = wait_for(lambda: Refund.objects.filter(pk=refund.pk, status=Refund.Status.SUCCEEDED).first())
    assert refund.reversal_receipt and refund.result_code == "0"
    assert Booking.objects.get(pk=booking.pk).refunded_kes == payment.amount_kes

    with pytest.raises(SupportError, match="At most KES 0"):
        refund_request(actor=agent, payment_id=payment.pk, amount_kes=1, method="reversal", reason="More", key=_key())


def test_no_page_admin_screen_or_export_shows_a_callback_or_result_token(people, agent, agent_client, make_user):
    from django.test import Client

    from mpesa.models import PaymentEvent

    guest, host = people
    booking = booking_for(guest, host)
    payment = payment_start(booking=booking, user=guest, phone="254700000001")
    wait_for(lambda: Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED)
    payment.refresh_from_db()
    request = payment_query_status(
        actor=agent, payment_id=payment.pk, receipt=payment.receipt, reason="Caller asks", key=_key()
    )
    wait_for(lambda: StatusRequest.objects.filter(pk=request.pk, status="answered").first())
    refund = refund_request(
        actor=agent, payment_id=payment.pk, amount_kes=1_000, method="reversal", reason="Goodwill", key=_key()
    )
    wait_for(lambda: Refund.objects.filter(pk=refund.pk, status=Refund.Status.SUCCEEDED).first())
    tokens = [payment.callback_token, request.result_token, refund.result_token]

    page = agent_client.get(f"/support/payments/{payment.pk}/").content.decode()
    assert "/payments/result/…/" in page and "/payments/timeout/…/" in page and "/payments/stk-callback/…/" in page
    shown = [page, agent_client.get("/support/attention/").content.decode()]
    shown.append(agent_client.get("/support/", {"q": booking.ref}).content.decode())
    export = agent_client.get("/support/export.csv", {"q": booking.ref})
    shown.append(b"".join(export.streaming_content).decode())

    admin = Client()
    admin.force_login(make_user(email="root@example.com", is_staff=True, is_superuser=True))
    urls = [
        f"/admin/mpesa/payment/{payment.pk}/change/",
        f"/admin/mpesa/refund/{refund.pk}/change/",
        f"/admin/mpesa/statusrequest/{request.pk}/change/",
        "/admin/mpesa/paymentevent/",
    ]
    urls += [f"/admin/mpesa/paymentevent/{pk}/change/" for pk in PaymentEvent.objects.values_list("pk", flat=True)]
    for url in urls:
        response = admin.get(url)
        assert response.status_code == 200, url
        shown.append(response.content.decode())
    for text in shown:
        for token in tokens:
            assert token not in text
