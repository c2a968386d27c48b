"""The one rate-limit counter: fixed windows, nothing lost when callers race, rolled back with its transaction."""

import datetime
import threading

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from core.models import RateLimitCounter
from core.rate_limits import rate_limit_increment

pytestmark = pytest.mark.django_db

# A whole hour, so that windows of ten minutes, an hour and a day all begin here or earlier.
START = timezone.now().replace(minute=0, second=0, microsecond=0) + datetime.timedelta(hours=1)


def test_counts_within_a_fixed_window_and_starts_again_in_the_next():
    window = 600
    counts = [
        rate_limit_increment(key="k", window_seconds=window, now=START + datetime.timedelta(seconds=s))
        for s in (0, 1, 599)
    ]
    assert counts == [1, 2, 3]
    # Not sliding: one second after the window that began at START, the count starts again.
    assert rate_limit_increment(key="k", window_seconds=window, now=START + datetime.timedelta(seconds=600)) == 1
    assert rate_limit_increment(key="other", window_seconds=window, now=START) == 1


def test_a_day_runs_from_midnight_utc():
    midnight = START.replace(hour=0)
    assert rate_limit_increment(key="day", window_seconds=86_400, now=midnight + datetime.timedelta(hours=23)) == 1
    assert rate_limit_increment(key="day", window_seconds=86_400, now=midnight) == 2
    assert rate_limit_increment(key="day", window_seconds=86_400, now=midnight - datetime.timedelta(seconds=1)) == 1


def test_an_increment_rolled_back_with_its_transaction_is_not_counted():
    rate_limit_increment(key="k", window_seconds=600, now=START)
    with pytest.raises(RuntimeError), transaction.atomic():
        assert rate_limit_increment(key="k", window_seconds=600, now=START) == 2
        raise RuntimeError("refused")
    assert rate_limit_increment(key="k", window_seconds=600, now=START) == 2


def test_odd_keys_are_counted_under_their_hash():
    odd = "ip:\x00" + "9" * 300
    assert [rate_limit_increment(key=odd, window_seconds=600, now=START) for _ in range(2)] == [1, 2]
    assert rate_limit_increment(key=odd[:-1], window_seconds=600, now=START) == 1
    assert all(len(row.key) <= 200 and "\x00" not in row.key for row in RateLimitCounter.objects.all())


def test_windows_that_ended_long_ago_are_tidied_as_new_windows_begin():
    with time_machine.travel(START, tick=False):
        rate_limit_increment(key="old", window_seconds=600, now=START)
    with time_machine.travel(START + datetime.timedelta(days=2), tick=False):
        rate_limit_increment(key="recent", window_seconds=600)
        assert list(RateLimitCounter.objects.values_list("key", flat=True)) == ["recent"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_increments_count_twenty():
    attempts = 20
    barrier = threading.Barrier(attempts)
    counts: list = [None] * attempts

    def attempt(i: int) -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                counts[i] = rate_limit_increment(key="race", window_seconds=600, now=START)
        except Exception as error:  # judged below
            counts[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(counts) == list(range(1, attempts + 1))
    assert RateLimitCounter.objects.get(key="race").hits == attempts
