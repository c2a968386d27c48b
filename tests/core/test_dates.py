"""Month and weekday names translated once per language are the names Django's date formats print."""

import datetime

from django.utils import timezone
from django.utils.dateformat import format as date_format

from core.dates import date_names


def test_every_month_and_weekday_is_named_as_the_date_formats_name_it():
    names = date_names()
    year = timezone.localdate().year
    for month in range(1, 13):
        day = datetime.date(year, month, 1)
        assert names.months[month] == date_format(day, "F")
        assert names.months_short[month] == date_format(day, "M")
    for offset in range(7):
        day = timezone.localdate() + datetime.timedelta(days=offset)  # seven days: every weekday once
        assert names.weekdays[day.weekday()] == date_format(day, "l")
        assert names.weekdays_short[day.weekday()] == date_format(day, "D")
