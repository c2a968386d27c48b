"""Queries compiled once and run with new values (core/prepared.py) give what the queryset itself gives."""

import datetime
import threading

import pytest
from django.db import connection, connections
from django.db.models import FETCH_PEERS, Count, Q
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import prepared as prepared_module
from core.models import User
from core.prepared import _UNPREPARABLE, PreparedQuery, execute, instance_from_db
from listings.models import CalendarDay, Listing, ListingPhoto
from notifications.models import NotificationPreference
from tests.helpers.models import as_made
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


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda *, price: Listing.objects.filter(nightly_price_kes__gte=price).order_by("pk"), id="plain"),
        pytest.param(
            lambda *, price: (
                Listing.objects.select_related("host")
                .filter(nightly_price_kes__gte=price)
                .order_by("-nightly_price_kes")
            ),
            id="select_related",
        ),
        pytest.param(
            lambda *, price: (
                Listing.objects.only("title", "host__email")
                .select_related("host")
                .filter(nightly_price_kes__gte=price)
                .order_by("title")
            ),
            id="deferred",
        ),
    ],
)
def test_model_rows_are_the_instances_the_queryset_makes(listings, build, django_assert_num_queries):
    prepared = PreparedQuery(build)
    for price in (0, 5_001, 5_003, 9_999):
        expected = list(build(price=price))
        with django_assert_num_queries(1):  # the related objects come with the row, as select_related brings them
            made = prepared.rows(price=price)
            assert [as_made(instance) for instance in made] == [as_made(instance) for instance in expected]
    if connection.vendor == "postgresql":  # made from the rows without the queryset's compiler
        assert prepared._local.plan.models is not None


def _row(instance, attnames) -> list:
    return [getattr(instance, name) for name in attnames]


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        pytest.param(Listing, ("id", "slug", "title", "host_id", "nightly_price_kes"), id="some fields"),
        pytest.param(Listing, None, id="every field"),
        pytest.param(User, None, id="person"),
        pytest.param(ListingPhoto, None, id="photo: its image fields set their own way"),
    ],
)
def test_an_instance_made_from_a_row_is_the_one_from_db_makes(listings, model, fields, django_assert_num_queries):
    """core.prepared.instance_from_db skips Model.__init__ where nothing could tell: what it makes holds the same
    values and state, loads a deferred field the same way and remembers a related object it loads."""
    listing = listings[0]
    ListingPhoto.objects.create(listing=listing, image="listings/a.jpg", width=800, height=600, caption="Front")
    stored = model.objects.order_by("pk").first()
    every = [field.attname for field in model._meta.concrete_fields]
    attnames = [name for name in every if fields is None or name in fields]  # a row's columns in the model's order
    row = _row(stored, attnames)
    for fetch_mode in (None, FETCH_PEERS):
        made = instance_from_db(model, "default", attnames, row, fetch_mode)
        assert as_made(made) == as_made(model.from_db("default", attnames, row, fetch_mode=fetch_mode))
        assert made.get_deferred_fields() == set(every) - set(attnames)
    if model is Listing:
        with django_assert_num_queries(2 if fields else 1):  # each loaded once (the description if deferred)
            assert (made.description, made.host.email) == (listing.description, "host@example.com")
            assert (made.description, made.host.email) == (listing.description, "host@example.com")


def test_an_instance_is_made_by_from_db_while_a_receiver_listens_to_its_making(listings):
    heard = []

    def hear(sender, instance, **kwargs):
        heard.append(instance.pk)

    attnames = [field.attname for field in Listing._meta.concrete_fields]
    row = _row(listings[1], attnames)
    post_init.connect(hear, sender=Listing)
    try:
        made = instance_from_db(Listing, "default", attnames, row)
    finally:
        post_init.disconnect(hear, sender=Listing)
    assert heard == [listings[1].pk]
    assert as_made(made) == as_made(Listing.from_db("default", attnames, row))
    instance_from_db(Listing, "default", attnames, row)
    assert heard == [listings[1].pk]


def test_model_rows_fetched_as_peers_know_their_peers(listings):
    prepared = PreparedQuery(
        lambda *, price: Listing.objects.fetch_mode(FETCH_PEERS).filter(nightly_price_kes__gte=price)
    )
    for _ in range(2):
        made = prepared.rows(price=0)
        assert len(made) == len(listings)
        assert all(instance._state.fetch_mode is FETCH_PEERS for instance in made)
        assert all([peer() for peer in instance._state.peers] == made for instance in made)


def test_annotated_model_rows_come_back_as_the_queryset_gives_them(listings):
    def counted(*, price: int):
        return Listing.objects.filter(nightly_price_kes__gte=price).annotate(photo_count=Count("photos")).order_by("pk")

    prepared = PreparedQuery(counted)
    for price in (0, 5_002):
        assert [(found.pk, found.photo_count) for found in prepared.rows(price=price)] == [
            (listing.pk, 0) for listing in listings if listing.nightly_price_kes >= price
        ]
    if connection.vendor == "postgresql":  # an annotation's column is the queryset's iterable's to place
        assert prepared._local.plan.models is None


def test_columns_come_back_converted_as_the_queryset_converts_them_on_every_run(make_user):
    """A JSON column comes back decoded, in values and in model rows, on the first run and on every later one (the
    columns' converters are found once)."""
    people = [make_user(email=f"person{n}@example.com") for n in range(3)]
    for n, person in enumerate(people):
        NotificationPreference.objects.create(user=person, sms_off=[f"kind_{n}"], language="sw")
    values = PreparedQuery(
        lambda *, user_id: NotificationPreference.objects.filter(user_id=user_id).values_list("sms_off", "language")
    )
    models = PreparedQuery(lambda *, user_id: NotificationPreference.objects.filter(user_id=user_id))
    for _ in range(3):
        for n, person in enumerate(people):
            assert values.rows(user_id=person.pk) == [([f"kind_{n}"], "sw")]
            (found,) = models.rows(user_id=person.pk)
            assert (found.user_id, found.sms_off, found.language) == (person.pk, [f"kind_{n}"], "sw")


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


# -- statements PostgreSQL prepares once per connection (core.prepared.execute) ---------------------------------


def _prepared_on_server() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def _run(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        execute(cursor, sql, params)
        return cursor.fetchall()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # it opens a new connection
def test_a_statement_is_prepared_once_per_connection_and_gives_the_same_rows(listings):
    sql = "SELECT title, nightly_price_kes FROM listings_listing WHERE nightly_price_kes >= %s ORDER BY id"
    with connection.cursor() as cursor:
        cursor.execute(sql, [5_002])
        expected = cursor.fetchall()
    with CaptureQueriesContext(connection) as queries:
        assert _run(sql, [5_002]) == expected
        assert _run(sql, [5_003]) == expected[1:]
    # Two reads, two queries: preparing is the connection's business, not one of the page's queries.
    assert [q["sql"].split("(")[0] for q in queries.captured_queries] == [
        f"EXECUTE nexus_{connection.connection.prepared_count}"
    ] * 2
    assert any("nightly_price_kes >= $1" in statement for statement in _prepared_on_server())
    connection.close()  # a new connection holds nothing prepared: the statement is prepared again on it
    assert _run(sql, [5_002]) == expected
    assert connection.connection.prepared_statements == {sql: f"nexus_{connection.connection.prepared_count}"}


@pytest.mark.postgres
def test_named_parameters_and_a_literal_percent_sign():
    sql = "SELECT %(word)s || '%%' || %(word)s, %(number)s::int + 1"
    assert _run(sql, {"word": "50", "number": 41}) == [("50%50", 42)]
    assert _run(sql, {"word": "7", "number": 1}) == [("7%7", 2)]
    assert connection.connection.prepared_statements[sql] is not None


@pytest.mark.postgres
def test_numbers_dates_booleans_and_nulls_are_written_into_the_execute_as_the_driver_writes_them():
    """A prepared statement's numbers (negative ones after a minus too), dates, datetimes, booleans and NULLs are
    written into its EXECUTE as text (core.prepared._literal); text values stay the driver's parameters. Every
    combination gives the rows the driver's own parameters give."""
    sql = (
        "SELECT 1 - %s, %s::bigint * 2, %s::date + 1, %s::timestamptz, %s::timestamp, %s::bool, %s::int IS NULL,"
        " %s::text || '%%', %s::text"
    )
    today, now = timezone.localdate(), timezone.now()
    nairobi = datetime.timezone(datetime.timedelta(hours=3))
    cases = [
        [-1, 2**40, today, now.astimezone(nairobi), now.replace(tzinfo=None), True, None, "it's 50", "--"],
        [0, -7, datetime.date(1, 1, 1), now + datetime.timedelta(days=31),
         now.replace(tzinfo=None, microsecond=1), False, 5, "%s", "\\"],
    ]  # fmt: skip
    for params in cases:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            expected = cursor.fetchall()
        with CaptureQueriesContext(connection) as queries:
            assert _run(sql, params) == expected
        sent = queries.captured_queries[0]["sql"]
        assert sent.startswith(f"EXECUTE {connection.connection.prepared_statements[sql]}(")
        assert f"'{params[2].isoformat()}'::date" in sent and ("true" in sent) == params[5]
    assert _run(sql, cases[0])[0][:3] == (2, 2**41, today + datetime.timedelta(days=1))


@pytest.mark.postgres
def test_a_statement_postgresql_cannot_prepare_runs_as_it_is_and_leaves_the_transaction_usable():
    sql = "SELECT %s + %s"  # two parameters of unknown type: PostgreSQL cannot tell which + is meant
    assert _run(sql, [2, 3]) == [(5,)]
    assert connection.connection.prepared_statements[sql] is None
    assert _run("SELECT count(*) FROM listings_listing WHERE id > %s", [0]) == [(0,)]  # the transaction goes on


@pytest.mark.postgres
def test_a_connection_holding_many_statements_forgets_them_and_goes_on(monkeypatch):
    monkeypatch.setattr(prepared_module, "_MOST_STATEMENTS", 3)
    for n in range(7):
        assert _run(f"SELECT %s::int + {n}", [1]) == [(1 + n,)]
    assert 1 <= len(connection.connection.prepared_statements) <= 3
    assert len(_prepared_on_server()) <= 3


def test_statements_give_their_rows_on_any_database():
    """PostgreSQL runs the prepared statement; SQLite (make run), which keeps nothing prepared, runs the SQL itself."""
    with CaptureQueriesContext(connection) as queries:
        assert _run("SELECT %s + 1", [41]) == [(42,)]
        assert _run("SELECT %s + 1", [1]) == [(2,)]
    ran = "EXECUTE" if connection.vendor == "postgresql" else "SELECT"
    assert [q["sql"].split()[0] for q in queries.captured_queries] == [ran, ran]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # the second connection must see the rows
def test_a_query_runs_on_the_connection_current_where_it_runs_not_where_it_was_compiled(listings):
    """Playwright's event loop, or any async context, gives the same thread another connection object: a query
    compiled on one must run on the connection current at the call (it ran on the first and met a statement that
    connection never prepared)."""
    prepared = PreparedQuery(nights)
    expected = list(nights(listing_id=listings[1].pk, start=DAY))
    assert prepared.rows(listing_id=listings[1].pk, start=DAY) == expected
    first = connections["default"]
    second = connections.create_connection("default")
    connections["default"] = second
    try:
        with CaptureQueriesContext(second) as on_second, CaptureQueriesContext(first) as on_first:
            assert prepared.rows(listing_id=listings[1].pk, start=DAY) == expected
            assert prepared.rows(listing_id=listings[1].pk, start=DAY) == expected
        assert len(on_second) == 2 and len(on_first) == 0
    finally:
        connections["default"] = first
        second.close()


# -- rows of values made from the cursor's rows, and the constants written in once per connection --------------


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(
            lambda *, price: Listing.objects.filter(nightly_price_kes__gte=price).order_by("pk").values("pk", "title"),
            id="dicts",
        ),
        pytest.param(
            lambda *, price: (
                Listing.objects.filter(nightly_price_kes__gte=price)
                .order_by("pk")
                .annotate(guests=Count("pk"))
                .values("title", "guests", "host__email")
            ),
            id="dicts with an annotation",
        ),
        pytest.param(
            lambda *, price: (
                Listing.objects.filter(nightly_price_kes__gte=price).order_by("-pk").values_list("title", "pk")
            ),
            id="tuples",
        ),
        pytest.param(
            lambda *, price: (
                Listing.objects.filter(nightly_price_kes__gte=price).order_by("pk").values_list("pk", flat=True)
            ),
            id="flat",
        ),
        pytest.param(
            lambda *, price: (
                CalendarDay.objects.filter(price_override_kes__gte=price)
                .order_by("listing__title", "date")
                .distinct()
                .values_list("date", "blocked")
            ),
            id="ordered by a column not selected",
        ),
    ],
)
def test_value_rows_are_the_querysets_rows_for_every_value(listings, build):
    prepared = PreparedQuery(build)
    for price in (0, 5_002, 9_001, 50_000, 5_001):
        assert prepared.rows(price=price) == list(build(price=price))
    if connection.vendor == "postgresql":
        assert prepared._local.plan.values is not None


def test_named_value_rows_come_back_as_the_queryset_gives_them(listings):
    def build(*, price):
        return (
            Listing.objects.filter(nightly_price_kes__gte=price).order_by("pk").values_list("pk", "title", named=True)
        )

    prepared = PreparedQuery(build)
    for price in (0, 5_002):
        rows = prepared.rows(price=price)
        assert rows == list(build(price=price)) and [row.title for row in rows] == [
            row.title for row in build(price=price)
        ]


@pytest.mark.postgres
def test_a_prepared_statement_is_sent_the_text_its_parameters_make_with_the_constants_written_in_once(listings):
    """The EXECUTE sent is, byte for byte, what the driver makes of the statement with all its parameters; the
    constants are written in once per connection, and each value once wherever it appears."""

    def nights(*, listing_id: int, start: datetime.date):
        return (
            CalendarDay.objects.filter(Q(listing_id=listing_id) | Q(listing__host_id=listing_id), date__gte=start)
            .exclude(price_override_kes=12_345)
            .filter(Q(blocked=True) | Q(price_override_kes__gte=9_000))
            .order_by("date", "pk")
            .values_list("date", "blocked", "price_override_kes")
        )

    prepared = PreparedQuery(nights)
    for listing in listings:
        with CaptureQueriesContext(connection) as queries:
            assert prepared.rows(listing_id=listing.pk, start=DAY) == list(nights(listing_id=listing.pk, start=DAY))
        plan = prepared._local.plan
        every = list(plan.constants)
        for position, name in plan.slots:
            every[position] = {"listing_id": listing.pk, "start": DAY}[name]
        statement = connection.connection.prepared_statements[plan.sql]
        with connection.connection.cursor() as cursor:
            sent_before = cursor.mogrify(prepared_module._execute_sql(statement, ["%s"] * len(every)), every).decode()
        assert queries.captured_queries[0]["sql"] == sent_before
    assert sorted(name for _, name in plan.slots) == ["listing_id", "listing_id", "start"]
    (call,) = [call for key, call in connection.connection.prepared_calls.items() if key[0] == statement]
    assert "12345" in call and call.count("%(listing_id)s") == 2


@pytest.mark.postgres
def test_queries_of_one_text_with_other_constants_each_get_their_own_rows(listings):
    """Two queries compiled to the same SQL, with other constants (here a title, with a percent sign in it), share
    the prepared statement, and each its own constants."""
    titled = {}
    for title in ("Place 1", "Place 2", "50% off"):
        titled[title] = PreparedQuery(
            lambda *, price, title=title: Listing.objects.filter(title=title, nightly_price_kes__gte=price).values_list(
                "pk", flat=True
            )
        )
    Listing.objects.filter(pk=listings[3].pk).update(title="50% off")
    for _ in range(2):
        assert titled["Place 1"].rows(price=0) == [listings[1].pk]
        assert titled["Place 2"].rows(price=0) == [listings[2].pk]
        assert titled["50% off"].rows(price=0) == [listings[3].pk]
        assert titled["Place 2"].rows(price=6_000) == []
    (sql,) = {query._local.plan.sql for query in titled.values()}
    statement = connection.connection.prepared_statements[sql]
    assert len([key for key in connection.connection.prepared_calls if key[0] == statement]) == 3
