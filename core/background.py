"""A background sender: one thread per process that runs due work (an emulator's callbacks) when it falls due.

Nothing is ever sent inside the request that created the work: requests only wake the thread (after their
transaction commits). Several processes may run one at once; the work itself claims each piece for exactly one of
them. The thread polls while work is outstanding and ends when there is none; the next wake starts it again.

What a round does is registered at start-up (`serve`, from the emulator's AppConfig.ready), so a sender needs nothing
from the services that wake it.
"""

import logging
import threading
from collections.abc import Callable

from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)


class BackgroundSender:
    POLL_SECONDS = 1.0
    IDLE_EXIT_SECONDS = 5.0

    def __init__(self, name: str):
        self.name = name
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._work: Callable[[], float | None] = self._unregistered

    def _unregistered(self) -> float | None:
        raise RuntimeError(f"{self.name}: nothing to run; the app's ready() registers its due work with serve().")

    def serve(self, work: Callable[[], float | None]) -> None:
        """Name what each round runs: the due work, returning seconds until the next piece of work, or None when
        nothing is outstanding."""
        self._work = work

    def wake(self) -> None:
        """Make sure the thread runs and look for due work now."""
        with self._lock:
            self._stop.clear()
            self._wake.set()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """End the thread (tests call this so no connection outlives them)."""
        with self._lock:
            thread = self._thread
            self._stop.set()
            self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        with self._lock:
            if self._thread is thread:
                self._thread = None

    def _run(self) -> None:
        idle = 0.0
        while not self._stop.is_set():
            self._wake.clear()
            try:
                close_old_connections()
                next_due = self._work()
            except Exception:
                # Counted as idle, so a thread that cannot reach the database ends instead of spinning.
                logger.exception("%s: dispatching failed", self.name)
                next_due = None
            finally:
                connection.close()
            wait = self.POLL_SECONDS if next_due is None else min(max(next_due, 0.05), self.POLL_SECONDS)
            woken = self._wake.wait(wait)
            if next_due is None and not woken:
                idle += wait
                if idle >= self.IDLE_EXIT_SECONDS:
                    with self._lock:
                        if not self._wake.is_set():
                            self._thread = None
                            return
            else:
                idle = 0.0
        with self._lock:
            if self._thread is threading.current_thread():
                self._thread = None
