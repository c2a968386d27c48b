"""One background thread per process that settles pushes and sends callbacks when they fall due.

Nothing is ever sent inside the request that created the work: requests only wake this thread (after their
transaction commits). Several processes may run it at once; each delivery is claimed by exactly one of them.
The thread polls while work is outstanding and ends when there is none; the next push starts it again.

What a round does is registered at start-up (`serve`, called from apps.py with services.run_due), so this module
needs nothing from the services that wake it.
"""

import logging
import threading
from collections.abc import Callable

from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
IDLE_EXIT_SECONDS = 5.0

_lock = threading.Lock()
_wake = threading.Event()
_stop = threading.Event()
_thread: threading.Thread | None = None


def _unregistered() -> float | None:
    raise RuntimeError("Nothing to run: DarajaEmulatorConfig.ready() registers the emulator's due work.")


_work: Callable[[], float | None] = _unregistered


def serve(work: Callable[[], float | None]) -> None:
    """Name what each round runs: the due work, returning seconds until the next piece of work, or None when
    nothing is outstanding."""
    global _work
    _work = work


def wake() -> None:
    """Make sure the thread runs and look for due work now."""
    global _thread
    with _lock:
        _stop.clear()
        _wake.set()
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_run, name="daraja-emulator-dispatcher", daemon=True)
            _thread.start()


def stop(timeout: float = 5.0) -> None:
    """End the thread (tests call this so no connection outlives them)."""
    global _thread
    with _lock:
        thread = _thread
        _stop.set()
        _wake.set()
    if thread is not None and thread is not threading.current_thread():
        thread.join(timeout)
    with _lock:
        if _thread is thread:
            _thread = None


def _run() -> None:
    global _thread
    idle = 0.0
    while not _stop.is_set():
        _wake.clear()
        try:
            close_old_connections()
            next_due = _work()
        except Exception:
            # Counted as idle, so a thread that cannot reach the database ends instead of spinning.
            logger.exception("Daraja emulator: dispatching failed")
            next_due = None
        finally:
            connection.close()
        wait = POLL_SECONDS if next_due is None else min(max(next_due, 0.05), POLL_SECONDS)
        woken = _wake.wait(wait)
        if next_due is None and not woken:
            idle += wait
            if idle >= IDLE_EXIT_SECONDS:
                with _lock:
                    if not _wake.is_set():
                        _thread = None
                        return
        else:
            idle = 0.0
    with _lock:
        if _thread is threading.current_thread():
            _thread = None
