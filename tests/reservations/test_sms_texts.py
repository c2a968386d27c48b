"""Every SMS template, in every language, with the longest realistic values: plain ASCII and one message."""

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from notifications.rendering import SMS_MAX_CHARS, masked_number, sms_ascii, sms_date, sms_stay

SMS_DIR = Path(settings.BASE_DIR) / "templates" / "reservations" / "sms"
LANGUAGES = ["en", "sw"]
TEMPLATES = sorted(path.name for path in (SMS_DIR / "en").glob("*.txt"))


def _worst_case(language: str, **overrides) -> dict:
    """The longest values a real booking gives: a long site address, a stay across a year's end, six-figure sums."""
    year = timezone.localdate().year
    check_in, check_out = datetime.date(year, 12, 30), datetime.date(year + 1, 1, 12)
    return {
        "SITE_NAME": "Nexus",
        "SITE_URL": "https://nexus-kenya.onrender.com",
        "ref": "NX-ACDEFG",
        "place": "Beachfront villa with ...",  # titles are cut to 24 characters
        "stay": sms_stay(check_in, check_out, language=language),
        "check_in_day": sms_date(check_in, language=language),
        "check_in_time": "14:00",
        "guest_count": 12,
        "link": "https://nexus-kenya.onrender.com/trips/NX-ACDEFG/",
        "host_link": "https://nexus-kenya.onrender.com/host/bookings/",
        "total": "KES 278,000",
        "paid": "KES 278,000",
        "due": "KES 128,000",
        "refund_due": "KES 278,000",
        "refund_due_amount": 278_000,
        "amount_due": "KES 278,000",
        "refund_within_days": 3,
        "amount": "KES 250,000",
        "receipt": "UKK4H7TQ2M",
        "number": masked_number("254712345678"),
        "pay_by_time": "23:59",
        "pay_by_day": sms_date(check_in, language=language),
        "reason": "unreachable",
        "by_host": True,
        "booker_first": "Wanjikuwanjiku Ka",
        **overrides,
    }


VARIANTS = [
    {},
    {"by_host": False, "reason": "balance"},
    {"reason": "cancelled"},
    {"reason": "pin"},
    {"reason": "other"},
    {"refund_due_amount": 0},
    {"number": "", "receipt": ""},
]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_sms_is_plain_ascii_and_fits_one_message(template, language):
    assert (SMS_DIR / language / template).exists(), f"{language}/{template} is missing"
    for variant in VARIANTS:
        raw = render_to_string(f"reservations/sms/{language}/{template}", _worst_case(language, **variant))
        assert raw.isascii(), raw
        text = sms_ascii(raw)
        assert "{" not in text and "  " not in text
        assert len(text) <= SMS_MAX_CHARS, f"{language}/{template}: {len(text)} characters: {text}"


def test_both_languages_have_the_same_templates():
    assert sorted(path.name for path in (SMS_DIR / "sw").glob("*.txt")) == TEMPLATES


def test_masked_numbers_and_dates_are_written_plainly():
    assert masked_number("254712345678") == masked_number("+254712345678") == "0712xxx678"
    year = timezone.localdate().year + 1
    date = datetime.date
    assert sms_stay(date(year, 3, 2), date(year, 3, 5), language="sw") == f"2-5 Mac {year}"
    assert sms_stay(date(year, 2, 28), date(year, 3, 2), language="en") == f"28 Feb-2 Mar {year}"
    assert sms_stay(date(year - 1, 12, 30), date(year, 1, 2), language="en") == f"30 Dec-2 Jan {year}"
    assert sms_ascii("Caf\u00e9 \u2013 \u201cTsavo\u201d\u00a0{x}") == 'Cafe - "Tsavo" x'
