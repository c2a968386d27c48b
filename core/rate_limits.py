"""The one rate-limit counter: every limit in the project counts through rate_limit_increment."""

import datetime
import hashlib

from django.db import connection, transaction
from django.utils import timezone

from core.models import RateLimitCounter

# Rows of windows that ended longer ago than this are deleted as new windows begin.
KEEP_ENDED_WINDOWS = datetime.timedelta(days=1)
TIDY_BATCH = 500


def _stored_key(key: str) -> str:
    """Keys carry caller-supplied parts (an address, a phone): anything long or unusual is stored as its hash."""
    if len(key) <= 200 and key.isascii() and key.isprintable():
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).hexdigest()


def rate_limit_increment(*, key: str, window_seconds: int, now: datetime.datetime | None = None) -> int:
    """Count one more event under `key` in the current fixed window and return the window's count, this one included.

    Windows are fixed, not sliding: they start at whole multiples of `window_seconds` since the Unix epoch (UTC),
    so a window of a day runs from 03:00 to 03:00 in Nairobi. The count is one upsert, atomic across threads and
    processes on PostgreSQL and SQLite alike; nothing is lost when callers race.

    Inside a transaction the increment belongs to it: rolled back with it (an action refused after counting is not
    counted), and the counter's row stays locked until commit, so racing callers wait and then see the total.
    """
    now = now or timezone.now()
    seconds = int(now.timestamp())
    window_start = datetime.datetime.fromtimestamp(seconds - seconds % window_seconds, tz=datetime.UTC)
    window_end = window_start + datetime.timedelta(seconds=window_seconds)
    table, key_, start, end, hits = map(
        connection.ops.quote_name, (RateLimitCounter._meta.db_table, "key", "window_start", "window_end", "hits")
    )
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({key_}, {start}, {end}, {hits}) VALUES (%s, %s, %s, 1) "
            f"ON CONFLICT ({key_}, {start}) DO UPDATE SET {hits} = {table}.{hits} + 1 RETURNING {hits}",
            [_stored_key(key), adapt(window_start), adapt(window_end)],
        )
        (count,) = cursor.fetchone()
    if count == 1:
        _tidy()
    return count


def rate_limit_window(*, key: str, window_seconds: int, now: datetime.datetime | None = None):
    """The current fixed window of `key`, read without counting: (events counted so far, when the window ends)."""
    now = now or timezone.now()
    seconds = int(now.timestamp())
    window_start = datetime.datetime.fromtimestamp(seconds - seconds % window_seconds, tz=datetime.UTC)
    window_end = window_start + datetime.timedelta(seconds=window_seconds)
    hits = (
        RateLimitCounter.objects.filter(key=_stored_key(key), window_start=window_start)
        .values_list("hits", flat=True)
        .first()
    )
    return hits or 0, window_end


def rate_limit_window_left(*, window_seconds: int, now: datetime.datetime | None = None) -> int:
    """Seconds until the current fixed window of `window_seconds` ends (at least 1): when a refused caller may retry."""
    seconds = int((now or timezone.now()).timestamp())
    return max(window_seconds - seconds % window_seconds, 1)


def _tidy() -> None:
    """Delete a batch of long-ended windows. Rows another transaction holds are skipped (PostgreSQL), never awaited."""
    ended = timezone.now() - KEEP_ENDED_WINDOWS
    with transaction.atomic():
        ids = list(
            RateLimitCounter.objects.select_for_update(skip_locked=True)
            .filter(window_end__lt=ended)
            .values_list("pk", flat=True)[:TIDY_BATCH]
        )
        if ids:
            RateLimitCounter.objects.filter(pk__in=ids).delete()
