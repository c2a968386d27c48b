"""The one way a test waits for something another thread or process does: poll the condition, never sleep blind."""

import time
from collections.abc import Callable


def wait_for[T](condition: Callable[[], T], timeout: float = 15.0, *, interval: float = 0.1, message: str = "") -> T:
    """Return condition()'s first true value, asking every `interval` seconds; fail after `timeout` seconds.

    The condition may itself fail (an assertion) to stop waiting early, e.g. when a server process has died."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(message or "timed out waiting")
        time.sleep(interval)
