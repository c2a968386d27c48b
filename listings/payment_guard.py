"""The off-platform payment guard: public text (listing titles, descriptions, house rules, photo captions, reviews,
host answers) may not carry a phone number, a paybill or till number, or instructions to pay outside Nexus.

Rental scams ask guests to pay a private paybill or phone. The private fields shown after payment (street address,
directions, check-in instructions, the host's phone) are exempt: they are never checked here.
"""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Digits written as words, English and Swahili: "zero seven one two…", "sifuri saba…".
_NUMBER_WORDS = {
    "zero": "0",
    "oh": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "sifuri": "0",
    "moja": "1",
    "mbili": "2",
    "tatu": "3",
    "nne": "4",
    "tano": "5",
    "sita": "6",
    "saba": "7",
    "nane": "8",
    "tisa": "9",
}
_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)
# A run of digits written with spaces, dots, dashes, slashes or brackets between them ("0712 345 678",
# "0712.345.678", "(0712)-345-678", "+254 712 345678"). Commas do not join: "12,000" is a price.
_RUN = re.compile(r"\(?\+?\d(?:[\s.\-/()]{0,3}\d)*")
# A phone number or an account number: nine digits or more (a Kenyan mobile is 7XXXXXXXX after 0 or 254).
PHONE_MIN_DIGITS = 9
# A paybill or till number has five to seven digits; with a payment word before it, it is an instruction.
PAY_NUMBER_MIN_DIGITS = 5
_PAYMENT_WORDS = re.compile(
    r"\b(?:pay\s*-?\s*bill|till|buy\s*goods|business\s*(?:no|number|#)|acc(?:ount)?\.?\s*(?:no|number|#)"
    r"|lipa\s+na\s+m\s*-?\s*pesa|m\s*-?\s*pesa|send\s+(?:it\s+|the\s+\w+\s+|money\s+|cash\s+)?to|send\s+money"
    r"|pay\s+(?:directly|to|via|through|on)|deposit\s+to)\b",
    re.IGNORECASE,
)
# How far after a payment word a number still belongs to it.
_PAYMENT_REACH = 40


@dataclass(frozen=True)
class GuardFinding:
    kind: str  # "phone" or "payment"
    text: str  # what the host wrote, as written

    @property
    def message(self) -> str:
        if self.kind == "phone":
            return _("Remove the phone number “{text}”.").format(text=self.text)
        return _("Remove the payment instruction “{text}”.").format(text=self.text)


def _digits_in_words(text: str) -> str:
    # Same length is not kept, so findings quote the original text through the digit runs of this copy only
    # when no words were replaced; otherwise the words themselves are quoted.
    return _WORD.sub(lambda m: _NUMBER_WORDS[m.group(1).lower()], text)


def _runs(text: str) -> list[tuple[int, int, str]]:
    """Each run of digits as (start, end, digits)."""
    return [(m.start(), m.end(), re.sub(r"\D", "", m.group())) for m in _RUN.finditer(text)]


def off_platform_findings(text: str) -> list[GuardFinding]:
    """What in `text` would let a guest pay outside Nexus: phone numbers (also written with spaces, dots, dashes or
    words) and payment instructions (paybill, till, "send to", "Lipa na M-Pesa"… followed by a number).
    Ordinary numbers pass: "Plot 12345", "2 bedrooms", "KES 12,000 a night", "built in 2019"."""
    if not text:
        return []
    findings: list[GuardFinding] = []
    seen: set[str] = set()

    def add(kind: str, quoted: str) -> None:
        quoted = " ".join(quoted.split()).strip(" .,-")
        if quoted not in seen:
            seen.add(quoted)
            findings.append(GuardFinding(kind=kind, text=quoted))

    for source in dict.fromkeys([text, _digits_in_words(text)]):
        runs = _runs(source)
        for start, end, digits in runs:
            if len(digits) >= PHONE_MIN_DIGITS:
                add("phone", source[start:end] if source is text else _quote_words(text, digits))
        for match in _PAYMENT_WORDS.finditer(source):
            for start, end, digits in runs:
                if match.end() <= start <= match.end() + _PAYMENT_REACH and len(digits) >= PAY_NUMBER_MIN_DIGITS:
                    if len(digits) < PHONE_MIN_DIGITS:
                        add("payment", source[match.start() : end] if source is text else match.group())
                    break
    return findings


def _quote_words(text: str, digits: str) -> str:
    """The part of the original text that spelled `digits` with words (and digits)."""
    tokens = list(re.finditer(r"[\w+]+", text))
    for i in range(len(tokens)):
        spelled = ""
        for j in range(i, len(tokens)):
            word = tokens[j].group()
            spelled += _NUMBER_WORDS.get(word.lower(), word if word.strip("+").isdigit() else "\x00")
            spelled = spelled.replace("+", "")
            if "\x00" in spelled or not digits.startswith(spelled):
                break
            if spelled == digits:
                return text[tokens[i].start() : tokens[j].end()]
    return digits


def off_platform_message(findings: list[GuardFinding]) -> str:
    """One sentence for a form: why the text is refused and what to remove."""
    return " ".join(
        [
            _("Guests pay only through Nexus, so public text may not carry phone numbers or payment details."),
            *(finding.message for finding in findings),
        ]
    )


def validate_no_off_platform_payment(value: str) -> None:
    """A form field's validator: refuse text with off_platform_findings, saying why and what to remove."""
    findings = off_platform_findings(value)
    if findings:
        raise ValidationError(off_platform_message(findings), code="off_platform")


# The listing's public text a host writes (captions are checked per photo).
GUARDED_LISTING_FIELDS = ("title", "description", "house_rules")


@dataclass(frozen=True)
class GuardProblem:
    where: str  # the field's or photo's name, as the host's form names it
    findings: list[GuardFinding]


def listing_guard_problems(*, listing, photos) -> list[GuardProblem]:
    """What a host must fix in a listing saved before the guard (or by another path): it stays published."""
    problems = []
    for name in GUARDED_LISTING_FIELDS:
        findings = off_platform_findings(getattr(listing, name))
        if findings:
            problems.append(
                GuardProblem(where=str(listing._meta.get_field(name).verbose_name).capitalize(), findings=findings)
            )
    for number, photo in enumerate(photos, start=1):
        findings = off_platform_findings(photo.caption)
        if findings:
            problems.append(GuardProblem(where=_("Caption of photo {number}").format(number=number), findings=findings))
    return problems
