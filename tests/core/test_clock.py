import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from core.clock import NAIROBI, local_date, local_time


def test_the_product_lives_on_nairobis_clock():
    """timezone.localdate() is today in Nairobi only while the settings name the same zone as the constant."""
    assert settings.TIME_ZONE == NAIROBI.key
    assert timezone.get_current_timezone() == NAIROBI


def evening_in_utc() -> datetime.datetime:
    """21:30 UTC today (by the test's clock): 00:30 tomorrow in Nairobi (UTC+3)."""
    return datetime.datetime.combine(timezone.now().date(), datetime.time(21, 30), tzinfo=datetime.UTC)


def test_local_date_and_time_are_nairobis_whatever_zone_is_active():
    """21:30 UTC is 00:30 the next day in Nairobi, also while a request has activated another zone."""
    moment = evening_in_utc()
    with timezone.override("America/New_York"):
        assert local_date(moment) == moment.date() + datetime.timedelta(days=1)
        assert local_time(moment) == moment
        assert local_time(moment).utcoffset() == datetime.timedelta(hours=3)
        assert (local_time(moment).hour, local_time(moment).minute) == (0, 30)


def test_local_date_without_a_moment_is_today_in_nairobi():
    before = timezone.now().astimezone(NAIROBI).date()
    today = local_date()
    after = timezone.now().astimezone(NAIROBI).date()
    assert today in {before, after}


def test_a_naive_moment_is_refused_as_timezone_localtime_refuses_it():
    with pytest.raises(ValueError):
        local_date(evening_in_utc().replace(tzinfo=None))
