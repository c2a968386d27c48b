"""Kenyan mobile numbers in the one form Daraja accepts: 2547XXXXXXXX or 2541XXXXXXXX; and, for sign-in, any mobile
number as E.164 (a Kenyan one through the same rule, another country's as its owner writes it in E.164)."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_SEPARATORS = re.compile(r"[\s\-.()]")
_NORMALISED = re.compile(r"^254[71]\d{8}$")

# Safaricom's ranges, for a hint only: numbers move between networks, so M-Pesa decides.
_SAFARICOM_PREFIXES = (
    tuple(f"2547{n:02d}" for n in range(0, 30))
    + ("254740", "254741", "254742", "254743", "254745", "254746", "254748")
    + ("254757", "254758", "254759", "254768", "254769")
    + tuple(f"25479{n}" for n in range(10))
    + ("254110", "254111", "254112", "254113", "254114", "254115")
    + ("254118", "254119", "254140", "254141", "254142", "254143", "254180", "254181", "254182")
)

INVALID_PHONE_MESSAGE = _("Enter a Kenyan mobile number, for example 0712 345 678 or +254 712 345 678.")
INVALID_MOBILE_MESSAGE = _(
    "Enter a Kenyan mobile number, for example 0712 345 678, or another country's number with its code, "
    "for example +44 7700 900123."
)
# ITU-T E.164: a country code that does not start with 0, at most 15 digits in all.
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def normalise_phone(raw: str) -> str:
    """Return the number as 2547XXXXXXXX / 2541XXXXXXXX. Raises ValidationError for anything else."""
    if not isinstance(raw, str):
        raise ValidationError(INVALID_PHONE_MESSAGE, code="invalid_phone")
    digits = _SEPARATORS.sub("", raw.strip())
    if digits.startswith("+"):
        digits = digits[1:]
        if not digits.startswith("254"):
            raise ValidationError(INVALID_PHONE_MESSAGE, code="invalid_phone")
    if not digits.isascii() or not digits.isdigit():
        raise ValidationError(INVALID_PHONE_MESSAGE, code="invalid_phone")
    if len(digits) == 10 and digits[0] == "0":
        digits = "254" + digits[1:]
    elif len(digits) == 9:
        digits = "254" + digits
    elif len(digits) == 13 and digits.startswith("2540"):
        digits = "254" + digits[4:]
    if not _NORMALISED.match(digits):
        raise ValidationError(INVALID_PHONE_MESSAGE, code="invalid_phone")
    return digits


def normalise_mobile(raw: str) -> str:
    """Return a mobile number as E.164: a Kenyan number in any form normalise_phone accepts as +2547XXXXXXXX /
    +2541XXXXXXXX, another country's only when written with its code (+<code><number>). Raises ValidationError."""
    if not isinstance(raw, str):
        raise ValidationError(INVALID_MOBILE_MESSAGE, code="invalid_phone")
    try:
        return "+" + normalise_phone(raw)
    except ValidationError:
        pass
    digits = _SEPARATORS.sub("", raw.strip())
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    # A Kenyan number the Kenyan rule refused (a landline, a digit short) is not a visitor's number either.
    if digits.startswith("+254") or not digits.isascii() or not _E164.match(digits):
        raise ValidationError(INVALID_MOBILE_MESSAGE, code="invalid_phone")
    return digits


def kenyan_part(mobile: str) -> str:
    """An E.164 number from normalise_mobile as Daraja writes it (2547XXXXXXXX), or "" for another country's."""
    digits = mobile.lstrip("+")
    return digits if _NORMALISED.match(digits) else ""


def is_probably_safaricom(phone: str) -> bool:
    """True when a normalised number falls in a range Safaricom is known to use."""
    return phone.startswith(_SAFARICOM_PREFIXES)


def _local_groups(phone: str) -> tuple[str, str, str] | None:
    """A normalised number (or its E.164 form) as its three local groups: 254712345149 -> ("0712", "345", "149")."""
    digits = (phone or "").removeprefix("+")
    if not _NORMALISED.match(digits):
        return None
    local = "0" + digits[3:]
    return local[:4], local[4:7], local[7:]


def format_phone(phone: str) -> str:
    """254712345149 (or +254712345149) -> 0712 345 149, the way a Kenyan reads and dials it. Anything else (another
    country's number) is returned as it is."""
    groups = _local_groups(phone)
    return " ".join(groups) if groups else phone


def mask_phone(phone: str) -> str:
    """254712345149 -> 0712 ••• 149, for pages where the whole number need not show."""
    groups = _local_groups(phone)
    if groups is None:
        return "•" * len(phone) if len(phone) < 7 else phone[:2] + "•" * (len(phone) - 5) + phone[-3:]
    return f"{groups[0]} ••• {groups[2]}"
