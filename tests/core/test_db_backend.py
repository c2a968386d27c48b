"""The PostgreSQL backend's connection health check (core/db/postgresql): a connection the server closed between two
requests is replaced before the next request's first query, without a query of its own."""

import time

import pytest
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.utils import OperationalError

pytestmark = pytest.mark.postgres  # the backend under test is PostgreSQL's

HX = {"HX-Request": "true"}


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _other_connection():
    """A second connection to the same database, beside Django's."""
    other = connection.get_new_connection(connection.get_connection_params())
    other.autocommit = True
    return other


def _end_from_the_server(pid: int) -> None:
    """End the connection as an administrator or a restart would, and wait until it has reached this process."""
    other = _other_connection()
    try:
        other.cursor().execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    deadline = time.monotonic() + 10
    while connection.is_usable():
        assert time.monotonic() < deadline, "the server's end of the connection never arrived"
        time.sleep(0.01)


@pytest.fixture
def polling_guest(client, guest, pending_payment):
    with transaction.atomic():  # the payment helper locks rows; a transactional test has no outer transaction
        payment = pending_payment()
    client.force_login(guest)
    return f"/trips/{payment.booking.ref}/payment-status/"


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_closed_between_requests_is_replaced_before_the_next_one(client, polling_guest):
    assert client.get(polling_guest, headers=HX).status_code == 200
    pid = _backend_pid()
    _end_from_the_server(pid)
    close_old_connections()  # what the server does as each request starts (Django's test client leaves it out)
    response = client.get(polling_guest, headers=HX)
    assert response.status_code == 200 and 'hx-trigger="every 2s"' in response.content.decode()
    assert _backend_pid() != pid


@pytest.mark.django_db(transaction=True)
def test_without_the_health_check_the_request_would_meet_the_closed_connection(client, polling_guest):
    assert client.get(polling_guest, headers=HX).status_code == 200
    _end_from_the_server(_backend_pid())
    close_old_connections()
    connection.health_check_enabled = False  # as with CONN_HEALTH_CHECKS off
    try:
        with pytest.raises(OperationalError):
            client.get(polling_guest, headers=HX)
    finally:
        connection.health_check_enabled = True
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_the_check_sends_nothing_to_the_server():
    pid = _backend_pid()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'the last query before the check'")
    assert connection.is_usable()
    other = _other_connection()
    try:
        cursor = other.cursor()
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        assert cursor.fetchone()[0] == "SELECT 'the last query before the check'"
    finally:
        other.close()


@pytest.mark.django_db
def test_a_connection_in_a_failed_transaction_is_not_usable():
    assert connection.is_usable()
    with transaction.atomic():
        with pytest.raises(DatabaseError), connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")
        assert not connection.is_usable()
        transaction.set_rollback(True)
    assert connection.is_usable()
