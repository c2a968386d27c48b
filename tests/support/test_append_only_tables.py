"""The five audit trails (booking events, payment events, support actions, attention resolutions, unmatched-callback
links) refuse UPDATE, DELETE and TRUNCATE on PostgreSQL. Only a session that sets nexus.allow_truncate = on may
truncate them, and only the test settings set it (Django's flush between transactional tests uses TRUNCATE)."""

import psycopg2
import psycopg2.errors
import pytest
from django.db import connection, transaction

from mpesa.models import AttentionResolution, PaymentEvent, SupportAction, UnmatchedCallbackLink
from reservations.models import BookingEvent
from support.services import callback_link
from tests.helpers.support import unmatched_callback

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TABLES = [
    "reservations_bookingevent",
    "mpesa_paymentevent",
    "mpesa_supportaction",
    "mpesa_attentionresolution",
    "mpesa_unmatchedcallbacklink",
]


@pytest.fixture
def one_row_each(agent, pending_payment):
    """At least one committed row in each of the five tables."""
    with transaction.atomic():  # the helper locks rows; transactional tests have no outer transaction
        payment = pending_payment()
    event = unmatched_callback(body='{"Body": {"stkCallback": {"ResultCode": 0}}}')
    callback_link(actor=agent, event_id=event.pk, payment_id=payment.pk, note="Same CheckoutRequestID", key="k" * 12)
    AttentionResolution.objects.create(kind="payment", object_id=payment.pk, note="Paid cash", resolved_by=agent)
    counts = _counts()
    assert all(counts.values()), counts
    return counts


def _counts() -> dict[str, int]:
    models = [BookingEvent, PaymentEvent, SupportAction, AttentionResolution, UnmatchedCallbackLink]
    return {model._meta.db_table: model.objects.count() for model in models}


@pytest.fixture
def plain_session():
    """A new session to the test database without the test settings' options, as production connects."""
    settings = connection.settings_dict
    session = psycopg2.connect(
        dbname=settings["NAME"],
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        options="-c lock_timeout=10s",
    )
    yield session
    session.close()


def _refused(session, sql: str, error=psycopg2.errors.InsufficientPrivilege) -> str:
    """Run one statement in its own transaction; return the error PostgreSQL raised (rolled back)."""
    with pytest.raises(error) as refused, session, session.cursor() as cursor:
        cursor.execute(sql)
    return str(refused.value)


@pytest.mark.parametrize("table", TABLES)
def test_a_plain_truncate_is_refused(one_row_each, plain_session, table):
    with plain_session.cursor() as cursor:
        cursor.execute("SELECT current_setting('nexus.allow_truncate', true)")
        assert cursor.fetchone()[0] in (None, "")
    # A table another one points to (payment events, by the links) is refused a plain TRUNCATE by its foreign key
    # before any trigger runs; CASCADE passes that check and reaches the trigger.
    _refused(plain_session, f"TRUNCATE {table}", error=psycopg2.Error)
    assert "append-only" in _refused(plain_session, f"TRUNCATE {table} RESTART IDENTITY CASCADE")
    assert _counts() == one_row_each


@pytest.mark.parametrize("table", TABLES)
def test_update_and_delete_are_still_refused(one_row_each, plain_session, table):
    assert "append-only" in _refused(plain_session, f"UPDATE {table} SET id = id")
    assert "append-only" in _refused(plain_session, f"DELETE FROM {table}")
    assert _counts() == one_row_each


def test_truncating_a_table_they_point_to_is_refused_too(one_row_each, plain_session):
    # CASCADE would empty the payment events and links with the payments.
    assert "append-only" in _refused(plain_session, "TRUNCATE mpesa_payment CASCADE")
    assert _counts() == one_row_each


@pytest.mark.parametrize("value", ["off", "", "yes please"])
def test_any_other_value_of_the_setting_refuses(one_row_each, plain_session, value):
    with plain_session.cursor() as cursor:
        cursor.execute("SELECT set_config('nexus.allow_truncate', %s, false)", [value])
    plain_session.commit()
    for table in TABLES:
        assert "append-only" in _refused(plain_session, f"TRUNCATE {table} CASCADE")
    assert _counts() == one_row_each


def test_only_a_session_that_allows_it_may_truncate(one_row_each, plain_session):
    with plain_session.cursor() as cursor:
        cursor.execute("SET LOCAL nexus.allow_truncate = on")
        cursor.execute(f"TRUNCATE {', '.join(TABLES)}")
        cursor.execute("SELECT count(*) FROM mpesa_paymentevent")
        emptied = cursor.fetchone()[0] == 0
    plain_session.rollback()
    assert emptied
    assert _counts() == one_row_each
