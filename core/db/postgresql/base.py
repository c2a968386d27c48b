"""Django's PostgreSQL backend, with a connection health check that sends nothing to the server, and connections
that record the statements prepared on them (core.prepared.execute says why and how they are used).

Connections persist between requests (CONN_MAX_AGE), so one may have been closed by the server since the last
request: PostgreSQL restarted, an administrator ended the session, an idle timeout. With CONN_HEALTH_CHECKS Django
checks the connection before the first query of each request and opens a new one when the check fails, so no request
meets a dead connection (no 500). Django's own check is a `SELECT 1` round trip on every request: bench/poll.py
--health-checks all measured it at 19-32 us of CPU in the worker and 18-29 us in PostgreSQL, and 0.07-0.77 ms of
wall time on a loaded machine, against about 1 us and no round trip for this one; through gunicorn, on a quieter
run, the payment-status poll (asked for by every paying guest's browser every 2 s) cost 2.5 ms of server CPU with
Django's check and 2.3 ms with this one.

This check reads the socket instead. Between requests a connection is idle and the server has nothing to say to it:
when the server closes a connection it first writes a FATAL message, so a connection with anything to read is
closing (or in a state nobody asked for) and is replaced; a broken one (psycopg marks it closed) or one left in a
failed transaction is too. Only a server that vanished without a word (no FIN from its host) goes unseen, as it
would by a `SELECT 1`, which would wait on it as long as the query would. After a request whose query failed,
Django's own handling at the end of the request asks the same check and closes what it says is unusable.
"""

import select

import psycopg2.extensions
from django.db.backends.postgresql import base

# psycopg's transaction states (the same numbers in psycopg 2 and 3): idle, or inside a transaction block.
USABLE_TRANSACTION_STATES = {0, 2}


class PreparingConnection(psycopg2.extensions.connection):
    """psycopg's connection, which records the statements PostgreSQL holds prepared on it (core.prepared.execute):
    {SQL: name, or None for SQL it could not prepare}. Kept on the connection itself, so the record ends with it;
    a rolled-back transaction keeps them, as PostgreSQL does."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.prepared_statements: dict[str, str | None] = {}
        self.prepared_count = 0
        # EXECUTE texts with their constants written in (core.prepared._prepared_call), by statement and constants.
        self.prepared_calls: dict[tuple, str] = {}


class DatabaseWrapper(base.DatabaseWrapper):
    # Every connection opened, this wrapper's own or another (tests open a second one), records its prepared statements.
    def get_connection_params(self) -> dict:
        return {**super().get_connection_params(), "connection_factory": PreparingConnection}

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        if int(connection.info.transaction_status) not in USABLE_TRANSACTION_STATES:
            return False
        try:
            poller = select.poll()
            poller.register(connection.fileno(), select.POLLIN)
            return not poller.poll(0)  # nothing to read: open and quiet
        except (OSError, ValueError):
            return False
