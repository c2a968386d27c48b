"""Stay days for booking tests: a calendar numbered by day from a month always ahead of the clock."""

import datetime

from django.utils import timezone

from core.clock import NAIROBI
from listings.selectors import Stay

# Stays are numbered by day from the first of a month that is always ahead of the clock the suite runs on (today,
# or NEXUS_CLOCK_OFFSET_DAYS ahead): services that read the real clock then agree that NOW and every stay are to come.
FIRST_DAY = (timezone.localdate() + datetime.timedelta(days=45)).replace(day=1)
NOW = datetime.datetime.combine(FIRST_DAY, datetime.time(9, 0), tzinfo=NAIROBI)


def d(day: int) -> datetime.date:
    """The stay calendar's day number `day` (1 is FIRST_DAY; 31 may fall in the next month)."""
    return FIRST_DAY + datetime.timedelta(days=day - 1)


def stay(check_in: int, check_out: int) -> Stay:
    return Stay(check_in=d(check_in), check_out=d(check_out))


def past_stay(*, checked_out_days_ago: int, nights: int = 3) -> Stay:
    """A stay that ended `checked_out_days_ago` days before today in Nairobi (0: check-out is today)."""
    check_out = timezone.localdate() - datetime.timedelta(days=checked_out_days_ago)
    return Stay(check_in=check_out - datetime.timedelta(days=nights), check_out=check_out)
