"""Nairobi's time zone: the product's (settings.TIME_ZONE names it) and M-Pesa's (every Daraja timestamp is in it).

Today in Nairobi is local_date() (or local_date(now) for a clock read once) and the local hour local_time(now).hour.
NAIROBI itself is for what must be Nairobi whatever the settings say: a moment built from a local date and time (a
stay's check-in) and the timestamps Daraja reads.
"""

import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

NAIROBI = ZoneInfo("Africa/Nairobi")


# Why not timezone.localdate() and localtime(): they look up the time zone a request may have activated, and nothing
# ever activates one, so each call failed a thread-local look-up by raising and catching two exceptions, five times
# on every property page (bench/instructions.py, property page 6.00 -> 5.91 M instructions, dated search 7.80 ->
# 7.74 M, payment-status poll 2.33 -> 2.30 M).
def local_time(moment: datetime.datetime | None = None) -> datetime.datetime:
    """`moment` (now when None, an aware datetime) on Nairobi's clock."""
    return timezone.localtime(moment, NAIROBI)


def local_date(moment: datetime.datetime | None = None) -> datetime.date:
    """The date in Nairobi at `moment` (now when None, an aware datetime)."""
    return local_time(moment).date()
