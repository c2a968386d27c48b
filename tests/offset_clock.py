"""The test session's clock offset (NEXUS_CLOCK_OFFSET_DAYS), for this process and for the servers tests start.

`python -m tests.offset_clock gunicorn config.wsgi:application ...` runs a module as `__main__` with the same
offset as the test session, so that a server process and the tests that talk to it agree on the date.
"""

import datetime
import os
import runpy
import sys

import time_machine

CLOCK_OFFSET_DAYS = int(os.environ.get("NEXUS_CLOCK_OFFSET_DAYS") or 0)


def travel_by_offset() -> None:
    """Move this process's clock CLOCK_OFFSET_DAYS ahead, still ticking (forked workers inherit it)."""
    if CLOCK_OFFSET_DAYS:
        ahead = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(days=CLOCK_OFFSET_DAYS)
        time_machine.travel(ahead, tick=True).start()


if __name__ == "__main__":
    travel_by_offset()
    module, *arguments = sys.argv[1:]
    sys.argv = [module, *arguments]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
