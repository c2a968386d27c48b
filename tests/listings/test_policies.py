import datetime

import pytest

from listings.models import CancellationPolicy
from listings.policies import NAIROBI, cancellation_refund, check_in_moment, policy_terms, refund_percent
from tests.listings.builders import make_listing

SECOND = datetime.timedelta(seconds=1)
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)

# Check-in on 20 Dec at 14:00 in Nairobi, which is 11:00 UTC.
CHECK_IN_AT = check_in_moment(check_in=datetime.date(2026, 12, 20), check_in_time=datetime.time(14, 0))
BOOKED_LONG_AGO = CHECK_IN_AT - 60 * DAY


def test_check_in_moment_is_the_check_in_time_in_nairobi():
    assert CHECK_IN_AT == datetime.datetime(2026, 12, 20, 11, 0, tzinfo=datetime.UTC)
    assert CHECK_IN_AT.tzinfo == NAIROBI


@pytest.mark.parametrize(
    ("before_check_in", "percent"),
    [
        (10 * DAY, 100),
        (DAY, 100),  # exactly 24 h before: still "until 24 h before"
        (DAY - SECOND, 0),
        (HOUR, 0),
        (-HOUR, 0),  # after check-in
    ],
)
def test_flexible_cut_offs(before_check_in, percent):
    assert (
        refund_percent(
            policy=CancellationPolicy.FLEXIBLE,
            check_in_at=CHECK_IN_AT,
            booked_at=BOOKED_LONG_AGO,
            cancelled_at=CHECK_IN_AT - before_check_in,
        )
        == percent
    )


@pytest.mark.parametrize(
    ("before_check_in", "percent"),
    [
        (30 * DAY, 100),
        (5 * DAY, 100),
        (5 * DAY - SECOND, 50),
        (2 * DAY, 50),
        (DAY, 50),
        (DAY - SECOND, 0),
        (-DAY, 0),
    ],
)
def test_moderate_cut_offs(before_check_in, percent):
    assert (
        refund_percent(
            policy=CancellationPolicy.MODERATE,
            check_in_at=CHECK_IN_AT,
            booked_at=BOOKED_LONG_AGO,
            cancelled_at=CHECK_IN_AT - before_check_in,
        )
        == percent
    )


@pytest.mark.parametrize(
    ("booked_before_check_in", "cancelled_after_booking", "percent"),
    [
        # Booked 14 days or more ahead: 48 hours to change one's mind.
        (14 * DAY, 2 * DAY, 100),
        (14 * DAY, 2 * DAY + SECOND, 50),  # 12 days before check-in: the 7-day rule
        (30 * DAY, HOUR, 100),
        (30 * DAY, 23 * DAY, 50),  # exactly 7 days before check-in
        (30 * DAY, 23 * DAY + SECOND, 0),
        # Booked less than 14 days ahead: no free window.
        (14 * DAY - SECOND, HOUR, 50),
        (10 * DAY, 3 * DAY, 50),
        (10 * DAY, 3 * DAY + SECOND, 0),
        (5 * DAY, HOUR, 0),
        (30 * DAY, 31 * DAY, 0),  # after check-in
    ],
)
def test_strict_cut_offs(booked_before_check_in, cancelled_after_booking, percent):
    booked_at = CHECK_IN_AT - booked_before_check_in
    assert (
        refund_percent(
            policy=CancellationPolicy.STRICT,
            check_in_at=CHECK_IN_AT,
            booked_at=booked_at,
            cancelled_at=booked_at + cancelled_after_booking,
        )
        == percent
    )


def test_cut_offs_are_counted_in_nairobi_time():
    """Midnight UTC on 19 Dec is 03:00 in Nairobi: 35 hours before a 14:00 check-in on the 20th."""
    cancelled_at = datetime.datetime(2026, 12, 19, 0, 0, tzinfo=datetime.UTC)
    check_in_at = check_in_moment(check_in=datetime.date(2026, 12, 20), check_in_time=datetime.time(2, 0))
    # With a 02:00 check-in, 00:00 UTC on the 19th (03:00 EAT) is 23 hours before: too late.
    assert (
        refund_percent(
            policy=CancellationPolicy.FLEXIBLE,
            check_in_at=check_in_at,
            booked_at=BOOKED_LONG_AGO,
            cancelled_at=cancelled_at,
        )
        == 0
    )
    assert (
        refund_percent(
            policy=CancellationPolicy.FLEXIBLE,
            check_in_at=CHECK_IN_AT,
            booked_at=BOOKED_LONG_AGO,
            cancelled_at=cancelled_at,
        )
        == 100
    )


def test_half_refund_rounds_once_in_the_guests_favour():
    refund = cancellation_refund(
        policy=CancellationPolicy.MODERATE,
        nights_total_kes=10_001,
        cleaning_fee_kes=1_500,
        check_in_at=CHECK_IN_AT,
        booked_at=BOOKED_LONG_AGO,
        cancelled_at=CHECK_IN_AT - 2 * DAY,
    )
    assert refund.nights_percent == 50
    assert refund.nights_refund_kes == 5_001
    assert refund.cleaning_refund_kes == 1_500
    assert refund.total_kes == 6_501


def test_full_refund_returns_everything():
    refund = cancellation_refund(
        policy=CancellationPolicy.FLEXIBLE,
        nights_total_kes=33_333,
        cleaning_fee_kes=2_000,
        check_in_at=CHECK_IN_AT,
        booked_at=BOOKED_LONG_AGO,
        cancelled_at=CHECK_IN_AT - 3 * DAY,
    )
    assert (refund.nights_refund_kes, refund.cleaning_refund_kes, refund.total_kes) == (33_333, 2_000, 35_333)


def test_late_cancellation_before_check_in_still_returns_the_cleaning_fee():
    refund = cancellation_refund(
        policy=CancellationPolicy.STRICT,
        nights_total_kes=40_000,
        cleaning_fee_kes=3_000,
        check_in_at=CHECK_IN_AT,
        booked_at=BOOKED_LONG_AGO,
        cancelled_at=CHECK_IN_AT - SECOND,
    )
    assert (refund.nights_refund_kes, refund.cleaning_refund_kes) == (0, 3_000)


def test_cancelling_after_check_in_returns_nothing():
    refund = cancellation_refund(
        policy=CancellationPolicy.FLEXIBLE,
        nights_total_kes=40_000,
        cleaning_fee_kes=3_000,
        check_in_at=CHECK_IN_AT,
        booked_at=BOOKED_LONG_AGO,
        cancelled_at=CHECK_IN_AT,
    )
    assert refund.total_kes == 0


def test_unknown_policy_is_an_error():
    with pytest.raises(ValueError):
        refund_percent(policy="lenient", check_in_at=CHECK_IN_AT, booked_at=BOOKED_LONG_AGO, cancelled_at=CHECK_IN_AT)


@pytest.mark.parametrize("policy", list(CancellationPolicy))
def test_every_policy_is_stated_in_words(policy):
    terms = [str(t) for t in policy_terms(policy)]
    assert len(terms) >= 2
    assert "cleaning fee is refunded" in terms[-1]


@pytest.mark.django_db
@pytest.mark.parametrize("policy", list(CancellationPolicy))
def test_the_property_page_names_the_listings_policy_and_states_its_terms(client, make_user, policy):
    listing = make_listing(make_user(email="host@example.com"), cancellation_policy=policy)
    page = client.get(listing.get_absolute_url()).content.decode()
    assert f"Cancellation policy: {policy.label}</h2>" in page
    assert all(f"<li>{term}</li>" in page.replace("&#39;", "'") for term in policy_terms(policy))
