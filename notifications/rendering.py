"""How a message is written: e-mails as a plain-text part and an HTML part in the site's style, SMS as one plain
ASCII message of at most 160 characters, each in the recipient's language, with absolute links to this site."""

import datetime
import re
import unicodedata

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.html import linebreaks, urlize

from core.site import site_url

SMS_MAX_CHARS = 160  # one GSM-7 message: plain ASCII letters, digits and punctuation only
# What a non-ASCII character a value may carry (a name, a title) becomes in an SMS.
_ASCII_SPELLINGS = {"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "•": "x", "…": "...", "\u00a0": " "}
# Kiswahili month abbreviations, for dates in SMS (Django's are English only in this project).
_MONTHS = {
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "sw": ["Jan", "Feb", "Mac", "Apr", "Mei", "Jun", "Jul", "Ago", "Sep", "Okt", "Nov", "Des"],
}
# Characters GSM-7 counts twice or does not have: kept out of SMS so that 160 characters stay one message.
_NOT_GSM_BASIC = set("[]{}\\^~|`")


def site_name() -> str:
    return getattr(settings, "SITE_NAME", "") or "Nexus"


def absolute(path: str) -> str:
    """An absolute link to this site for a path (`/trips/AB12CD34/`)."""
    return site_url() + path


def site_context() -> dict:
    return {"SITE_NAME": site_name(), "SITE_URL": site_url()}


# -- e-mail -----------------------------------------------------------------------------------------------------


def email_render(template: str, context: dict, *, subject: str) -> dict:
    """The subject, plain-text body and HTML body of one e-mail from `template`.txt and `template`.html (both extend
    the notifications e-mail layouts), ready for notification_queue."""
    context = {**site_context(), **context, "subject": subject}
    return {
        "subject": settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject,
        "body": render_to_string(f"{template}.txt", context).strip() + "\n",
        "html_body": render_to_string(f"{template}.html", context),
    }


def email_html_from_text(*, subject: str, text: str) -> str:
    """An HTML part in the site's style for a message written as plain text only (allauth's): its paragraphs, with
    links made clickable."""
    paragraphs = linebreaks(urlize(text, autoescape=True), autoescape=False)
    return render_to_string(
        "notifications/email/from_text.html", {**site_context(), "subject": subject, "text": paragraphs}
    )


# -- SMS --------------------------------------------------------------------------------------------------------


def sms_ascii(text: str) -> str:
    """The text as plain ASCII for one SMS: accents dropped, dashes and quotes spelt plainly, anything else that is
    not plain ASCII (or is not in GSM-7's basic set) left out; whitespace collapsed."""
    text = "".join(_ASCII_SPELLINGS.get(char, char) for char in text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = "".join(char for char in text if char not in _NOT_GSM_BASIC)
    return re.sub(r"\s+", " ", text).strip()


def sms_render(template: str, context: dict, *, language: str) -> str:
    """One SMS from `template` (a path with `{language}` in it, e.g. "reservations/sms/{language}/hold_created.txt"),
    in plain ASCII, cut to 160 characters at the last resort (the templates are tested to fit)."""
    language = language if language in _MONTHS else "en"
    text = sms_ascii(render_to_string(template.format(language=language), {**site_context(), **context}))
    if len(text) > SMS_MAX_CHARS:
        text = text[: SMS_MAX_CHARS - 3].rstrip() + "..."
    return text


def sms_date(day: datetime.date, *, language: str, year: bool = False) -> str:
    """12 Feb (12 Feb 2027 with `year`), with the month in the language's spelling."""
    month = _MONTHS.get(language, _MONTHS["en"])[day.month - 1]
    return f"{day.day} {month}" + (f" {day.year}" if year else "")


def sms_stay(check_in: datetime.date, check_out: datetime.date, *, language: str) -> str:
    """12-15 Feb 2027, 28 Feb-2 Mar 2027, 30 Dec-2 Jan 2027 (the year of check-out only: the shortest that is clear)."""
    end = sms_date(check_out, language=language, year=True)
    if check_in.month == check_out.month and check_in.year == check_out.year:
        return f"{check_in.day}-{end}"
    return f"{sms_date(check_in, language=language)}-{end}"


def masked_number(phone: str) -> str:
    """A Kenyan number written for an SMS with its middle masked by x: 254712345678 or +254712345678 -> 0712xxx678."""
    digits = phone.lstrip("+")
    if digits.startswith("254") and len(digits) == 12:
        digits = "0" + digits[3:]
    if len(digits) < 7:
        return "x" * len(digits)
    return digits[:4] + "x" * (len(digits) - 7) + digits[-3:]
