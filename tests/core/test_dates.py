"""Month and weekday names translated once per language are the names Django's date formats print."""

import datetime

from django.utils.dateformat import format as date_format

from core.dates import date_names


def test_every_month_and_weekday_is_named_as_the_date_formats_name_it():
    names = date_names()
    for month in range(1, 13):
        day = datetime.date(2027, month, 1)
        assert names.months[month] == date_format(day, "F")
        assert names.months_short[month] == date_format(day, "M")
    for offset in range(7):
        day = datetime.date(2027, 3, 1) + datetime.timedelta(days=offset)
        assert names.weekdays[day.weekday()] == date_format(day, "l")
        assert names.weekdays_short[day.weekday()] == date_format(day, "D")
