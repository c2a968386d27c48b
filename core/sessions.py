"""Django's database sessions (settings SESSION_ENGINE), with the one read every signed-in request makes compiled
to SQL once per thread (core.prepared) instead of built by the ORM each time.

Same table, same rows, same answer: a session whose key is unknown or whose expiry has passed reads as no session,
and its key is dropped, as django.contrib.sessions.backends.db does. Everything else (creating, saving, deleting,
clearing expired sessions) is Django's own.

Why: the ORM's `get()` cost 0.53 ms of CPU a request and the compiled read 0.15 ms, in one process on the
payment-status poll's session (bench/poll.py --profile); the poll is 0.23 of /healthz against a target of 0.5. The
read gives the session's data as a value rather than the row as a model instance: 2.289 -> 2.243 M instructions a
poll (counted as bench/instructions.py counts).
"""

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from core.prepared import PreparedQuery

# The session's data only: the row as a model instance is never needed to load it.
_LIVE_SESSION_DATA = PreparedQuery(
    lambda session_key, now: Session.objects.filter(session_key=session_key, expire_date__gt=now).values_list(
        "session_data", flat=True
    )
)


class SessionStore(db.SessionStore):
    def load(self) -> dict:
        if self.session_key is None:  # no row has no key: nothing to read
            return {}
        rows = _LIVE_SESSION_DATA.rows(session_key=self.session_key, now=timezone.now())
        if not rows:
            self._session_key = None
            return {}
        return self.decode(rows[0])
