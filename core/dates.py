"""Month and weekday names as Django's date formats write them, translated once per language.

Pages print them per calendar cell, quote line and console row; each lazy name translated anew cost ~3 us, and a
property page asked for about thirty (bench/demo_pages.py, "property page")."""

import functools
from dataclasses import dataclass

from django.utils.dates import MONTHS, MONTHS_3, WEEKDAYS, WEEKDAYS_ABBR
from django.utils.translation import get_language


@dataclass(frozen=True)
class DateNames:
    months: dict[int, str]  # 1 -> "January" (the format "F")
    months_short: dict[int, str]  # 1 -> "Jan" (the format "M")
    weekdays: dict[int, str]  # 0 -> "Monday", as date.weekday() numbers them (the format "l")
    weekdays_short: dict[int, str]  # 0 -> "Mon" (the format "D")


@functools.cache
def _date_names(language: str | None) -> DateNames:
    return DateNames(
        months={number: str(name) for number, name in MONTHS.items()},
        months_short={number: str(name).title() for number, name in MONTHS_3.items()},
        weekdays={number: str(name) for number, name in WEEKDAYS.items()},
        weekdays_short={number: str(name) for number, name in WEEKDAYS_ABBR.items()},
    )


def date_names() -> DateNames:
    """The names in the active language."""
    return _date_names(get_language())
