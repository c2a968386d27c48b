"""Queries compiled once and run with new values (core/prepared.py) give what the queryset itself gives."""

import datetime
import threading

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.prepared import _UNPREPARABLE, PreparedQuery
from listings.models import CalendarDay, Listing
from tests.listings.builders import make_listing, set_night

pytestmark = pytest.mark.django_db

DAY = timezone.localdate() + datetime.timedelta(days=90)


@pytest.fixture
def listings(make_user):
    host = make_user(email="host@example.com")
    made = [make_listing(host, title=f"Place {n}", nightly_price_kes=5_000 + n) for n in range(4)]
    for n, listing in enumerate(made):
        for day in range(n + 2):
            set_night(listing, DAY + datetime.timedelta(days=day), blocked=day % 2 == 0, price_override_kes=9_000 + day)
    return made


def nights(*, listing_id: int, start: datetime.date):
    return (
        CalendarDay.objects.filter(listing_id=listing_id, date__gte=start)
        .order_by("date")
        .values_list("date", "blocked", "price_override_kes")
    )


def test_rows_are_the_querysets_for_every_value_and_the_query_is_compiled_once(listings):
    prepared = PreparedQuery(nights)
    for listing in listings:
        for start in (DAY, DAY + datetime.timedelta(days=1), DAY + datetime.timedelta(days=30)):
            expected = list(nights(listing_id=listing.pk, start=start))
            with CaptureQueriesContext(connection) as queries:
                assert prepared.rows(listing_id=listing.pk, start=start) == expected
            assert len(queries) == 1, [q["sql"] for q in queries.captured_queries]
    plan = prepared._local.plan
    if connection.vendor == "postgresql":
        assert plan[2].count("%s") == len(plan[3])  # kept: the SQL and its parameters, the values in their places
    else:
        # SQLite's backend writes a date into its parameter as text, so the value's place cannot be proved: the
        # query is built as usual on every call, and the rows above are still the queryset's.
        assert plan is _UNPREPARABLE


def test_model_rows_with_their_related_objects_come_back_as_the_queryset_gives_them(listings):
    prepared = PreparedQuery(
        lambda *, slug, host_id: Listing.objects.select_related("host").filter(
            Q(is_published=True) | Q(host_id=host_id), slug=slug
        )
    )
    for listing in listings:
        (found,) = prepared.rows(slug=listing.slug, host_id=0)
        assert (found.pk, found.title, found.host.email) == (listing.pk, listing.title, "host@example.com")
    assert prepared.rows(slug="no-such-place", host_id=0) == []


def test_a_value_changed_on_its_way_into_the_sql_is_never_prepared_yet_answers_right(listings):
    def titled(*, text: str):
        return Listing.objects.filter(title__icontains=text).order_by("pk").values_list("pk", flat=True)

    prepared = PreparedQuery(titled)
    assert prepared.rows(text="place 1") == [listings[1].pk]
    assert prepared.rows(text="place") == [listing.pk for listing in listings]
    assert prepared._local.plan is not None and not isinstance(prepared._local.plan, tuple)


def test_a_query_whose_text_depends_on_a_value_is_never_prepared(listings):
    def priced(*, price: int):
        if price < 10_000:
            return Listing.objects.filter(nightly_price_kes__gt=price).order_by("pk").values_list("pk", flat=True)
        return Listing.objects.filter(nightly_price_kes__lt=price).order_by("pk").values_list("pk", flat=True)

    prepared = PreparedQuery(priced)
    assert prepared.rows(price=5_001) == [listings[2].pk, listings[3].pk]
    assert not isinstance(prepared._local.plan, tuple)
    assert prepared.rows(price=20_000) == [listing.pk for listing in listings]


@pytest.mark.django_db(transaction=True)
def test_each_thread_compiles_and_runs_on_its_own_connection(listings):
    prepared = PreparedQuery(nights)
    expected = {listing.pk: list(nights(listing_id=listing.pk, start=DAY)) for listing in listings}
    answers, failures = {}, []

    def read(listing_id):
        try:
            for _ in range(3):
                answers[listing_id] = prepared.rows(listing_id=listing_id, start=DAY)
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=read, args=(pk,)) for pk in expected]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert answers == expected
