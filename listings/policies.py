"""Cancellation policies: what a guest gets back, and the same rules in words for the property page.

Cut-offs are counted back from the listing's check-in time on the check-in date, in Africa/Nairobi.
A cut-off is inclusive: cancelling exactly 24 hours before check-in still counts as "until 24 h before".
"""

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from core.clock import NAIROBI
from core.money import percent_of_rounded_up
from listings.models import CancellationPolicy

DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Refund:
    nights_percent: int
    nights_refund_kes: int
    cleaning_refund_kes: int

    @property
    def total_kes(self) -> int:
        return self.nights_refund_kes + self.cleaning_refund_kes


def check_in_moment(*, check_in: datetime.date, check_in_time: datetime.time) -> datetime.datetime:
    """The moment a stay starts: the check-in time on the check-in date, in Nairobi."""
    return datetime.datetime.combine(check_in, check_in_time, tzinfo=NAIROBI)


def refund_percent(
    *,
    policy: str,
    check_in_at: datetime.datetime,
    booked_at: datetime.datetime,
    cancelled_at: datetime.datetime,
) -> int:
    """The share of the nights' total (0, 50 or 100) that the policy gives back at `cancelled_at`."""
    before_check_in = check_in_at - cancelled_at
    if policy == CancellationPolicy.FLEXIBLE:
        return 100 if before_check_in >= DAY else 0
    if policy == CancellationPolicy.MODERATE:
        if before_check_in >= 5 * DAY:
            return 100
        return 50 if before_check_in >= DAY else 0
    if policy == CancellationPolicy.STRICT:
        booked_well_ahead = check_in_at - booked_at >= 14 * DAY
        if booked_well_ahead and cancelled_at - booked_at <= 2 * DAY:
            return 100
        return 50 if before_check_in >= 7 * DAY else 0
    raise ValueError(f"Unknown cancellation policy {policy!r}")


def cancellation_refund(
    *,
    policy: str,
    nights_total_kes: int,
    cleaning_fee_kes: int,
    check_in_at: datetime.datetime,
    booked_at: datetime.datetime,
    cancelled_at: datetime.datetime,
) -> Refund:
    """What a guest who cancels at `cancelled_at` gets back: the policy's share of the nights, rounded up once,
    and the whole cleaning fee when the stay has not started."""
    percent = refund_percent(policy=policy, check_in_at=check_in_at, booked_at=booked_at, cancelled_at=cancelled_at)
    return Refund(
        nights_percent=percent,
        nights_refund_kes=percent_of_rounded_up(nights_total_kes, percent),
        cleaning_refund_kes=cleaning_fee_kes if cancelled_at < check_in_at else 0,
    )


POLICY_TERMS = {
    CancellationPolicy.FLEXIBLE: [
        _("Full refund of the nights if you cancel at least 24 hours before check-in."),
        _("Cancel later than that and the nights are not refunded."),
    ],
    CancellationPolicy.MODERATE: [
        _("Full refund of the nights if you cancel at least 5 days before check-in."),
        _("Half the nights refunded if you cancel at least 24 hours before check-in."),
        _("Cancel later than that and the nights are not refunded."),
    ],
    CancellationPolicy.STRICT: [
        _("Full refund if you cancel within 48 hours of booking and check-in is at least 14 days away."),
        _("Otherwise half the nights refunded if you cancel at least 7 days before check-in."),
        _("Cancel later than that and the nights are not refunded."),
    ],
}
CLEANING_FEE_TERMS = _("The cleaning fee is refunded in full whenever you cancel before check-in.")


def policy_terms(policy: str) -> list[str]:
    """The policy in sentences a guest can read, most generous first."""
    return [*POLICY_TERMS[CancellationPolicy(policy)], CLEANING_FEE_TERMS]
