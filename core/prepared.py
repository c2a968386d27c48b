"""ORM queries compiled to SQL once per thread, then run with new values: for the hottest reads only. And hot
statements prepared by PostgreSQL once per connection (`execute`), so that it parses and plans them once.

Building and compiling a queryset costs far more Python time than PostgreSQL spends running it (issue 21: about
40% of the property page). A hot read whose shape never changes (the same filters, a value where each value goes)
can be compiled once and run again with other values. Figure that justifies it (bench/demo_pages.py,
"property page"): the month's calendar query cost 1.8 ms of CPU to build and 0.03 ms to send; see the bench's
printed ratio.

The query stays an ORM query, written once in `build`: it is compiled twice with different values, and only if the
two SQL texts are the same and every parameter that differs is exactly one of the values given is the compiled form
kept; otherwise (a value transformed on its way into the SQL, a value count that changes the text) every call
builds the query as usual. `build` must read everything its SQL depends on from its arguments (never the clock).
Rows go through the same converters as the queryset's own, so they are what `list(build(**values))` gives.
"""

import copy
import datetime
import functools
import operator
import re
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Expression, Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesIterable,
    ValuesListIterable,
    get_related_populators,
)
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init
from psycopg2.extensions import encodings as psycopg_encodings

_UNPREPARABLE = object()


def _other(value, step: int):
    """A value of the same type as `value`, different from it and from the other values' others."""
    if isinstance(value, bool):
        raise TypeError("a boolean has no other value to tell apart")
    if isinstance(value, datetime.datetime):
        return value + datetime.timedelta(days=1009 * step, seconds=step)
    if isinstance(value, datetime.date):
        return value + datetime.timedelta(days=1009 * step)
    if isinstance(value, int):
        return value + 7919 * step
    if isinstance(value, str):
        return f"{value}~{step}"
    raise TypeError(f"no other value for {type(value).__name__}")


def _shallow_copy(instance):
    """A copy sharing the instance's attributes (copy.copy would evaluate a queryset: it pickles its rows)."""
    duplicate = object.__new__(type(instance))
    duplicate.__dict__.update(instance.__dict__)
    return duplicate


class Slot(Expression):
    """A value of a query compiled once and run many times with other values, where the query cannot be a
    PreparedQuery (SQL that embeds compiled querysets): it compiles to a placeholder with the slot itself as its
    parameter, which each run replaces by its value (`slot_values`)."""

    def __init__(self, name: str, output_field):
        super().__init__(output_field=output_field)
        self.name = name

    def as_sql(self, compiler, connection):
        return "%s", [self]


def slot_values(params: Sequence, values: Mapping) -> list:
    """The parameters of SQL compiled with Slots: each slot replaced by its value in `values`."""
    return [values[param.name] if isinstance(param, Slot) else param for param in params]


class PreparedQuery:
    """`build(**values)` (a queryset of values or values_list) compiled once per thread; rows(**values) runs it."""

    def __init__(self, build: Callable[..., QuerySet]):
        self._build = build
        self._local = threading.local()

    def rows(self, **values) -> list:
        plan = getattr(self._local, "plan", None)
        if plan is None:
            plan = self._local.plan = self._prepare(values)
        if plan is _UNPREPARABLE:
            return list(self._build(**values))
        connection = connections[plan.queryset.db]
        statement = prepared_statement(connection, plan.sql)
        call = _prepared_call(connection, statement, plan) if statement is not None else None
        if call is not None:
            sql, params = call, values
        else:
            sql, params = plan.sql, list(plan.constants)
            for position, name in plan.slots:
                params[position] = values[name]
        if plan.models is not None:
            return plan.models.instances(connection, sql, params)
        if plan.values is not None:
            return plan.values.rows(connection, sql, params)
        run = copy.copy(plan.compiler)
        # The compiler keeps the connection of the thread (or async context) that compiled it: run on this one's.
        run.connection = connection
        run.as_sql = lambda *args, **kwargs: (sql, params)
        # The columns' converters, found once: finding them again cost the listing's query (46 columns) 0.07 of its
        # 0.2 ms (bench/demo_pages.py, "property page").
        run.get_converters = lambda expressions: (
            plan.converters
            if len(expressions) == len(plan.columns) and all(map(operator.is_, expressions, plan.columns))
            else plan.compiler.get_converters(expressions)
        )
        # The queryset's own iterable (its columns' order, flat or named rows), over the compiled SQL.
        query = _shallow_copy(plan.queryset.query)
        query.get_compiler = lambda *args, **kwargs: run
        run_queryset = _shallow_copy(plan.queryset)
        run_queryset.query = query
        return list(plan.queryset._iterable_class(run_queryset))

    def _prepare(self, values: dict):
        names = sorted(values)
        try:
            others = {name: _other(values[name], step + 1) for step, name in enumerate(names)}
            queryset = self._build(**values)
            compiler = queryset.query.get_compiler(using=queryset.db)
            sql, params = compiler.as_sql()
            other = self._build(**others)
            other_sql, other_params = other.query.get_compiler(using=other.db).as_sql()
        except (TypeError, EmptyResultSet):
            return _UNPREPARABLE
        if sql != other_sql or len(params) != len(other_params):
            return _UNPREPARABLE
        slots = []
        for position, (param, other_param) in enumerate(zip(params, other_params, strict=True)):
            if param == other_param and type(param) is type(other_param):
                continue
            matches = [name for name in names if values[name] == param and others[name] == other_param]
            if len(matches) != 1:
                return _UNPREPARABLE
            slots.append((position, matches[0]))
        columns = [selected[0] for selected in compiler.select[0 : compiler.col_count]]
        converters = compiler.get_converters(columns)
        return _Plan(
            queryset=queryset,
            compiler=compiler,
            sql=sql,
            constants=tuple(params),
            slots=tuple(slots),
            columns=columns,
            converters=converters,
            models=_ModelRows.of(queryset, compiler, converters),
            values=_ValueRows.of(queryset, compiler, converters),
        )


class _Plan(NamedTuple):
    queryset: QuerySet
    compiler: object
    sql: str
    constants: tuple
    slots: tuple[tuple[int, str], ...]
    columns: list
    converters: dict
    models: "_ModelRows | None"
    values: "_ValueRows | None"


def _converted(row, width: int, converters: list, connection) -> list:
    """The row's first `width` columns, each through its converters as the compiler's apply_converters runs them."""
    row = list(row[:width])
    for position, (functions, expression) in converters:
        value = row[position]
        for function in functions:
            value = function(value, expression, connection)
        row[position] = value
    return row


class _ValueRows:
    """The rows of a values() or values_list() query (dicts, tuples or single values) as the queryset's iterable
    makes them, from the cursor's rows, without copying the compiler, the query and the queryset for every run as the
    general path does. The property page's month and gallery (20 rows): 137 -> 71 us of CPU in one process, with
    _prepared_call; instructions a request (bench/instructions.py), property page 8.86 -> 8.44 M for the two."""

    _SHAPES = (ValuesIterable, ValuesListIterable, FlatValuesListIterable)

    def __init__(self, *, shape: type, width: int, trim: bool, converters: dict, names: list[str]):
        self.shape = shape
        self.width = width
        self.trim = trim
        self.converters = list(converters.items())
        self.names = names

    @classmethod
    def of(cls, queryset: QuerySet, compiler, converters: dict) -> "_ValueRows | None":
        """Dicts, tuples or flat values of plain columns only (no composite field); None otherwise (named rows
        included), which the general path makes."""
        shape = queryset._iterable_class
        columns = [selected[0] for selected in compiler.select[0 : compiler.col_count]]
        if shape not in cls._SHAPES or compiler.has_composite_fields(columns):
            return None
        query = queryset.query
        names = list(query.selected) if query.selected else [
            *query.extra_select, *query.values_select, *query.annotation_select
        ]  # fmt: skip
        return cls(
            shape=shape, width=compiler.col_count, trim=compiler.has_extra_select, converters=converters, names=names
        )

    def rows(self, connection, sql: str, params) -> list:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        width = self.width
        if self.converters:
            fetched = [_converted(row, width, self.converters, connection) for row in fetched]
        elif self.trim:
            fetched = [row[:width] for row in fetched]
        if self.shape is FlatValuesListIterable:
            return [row[0] for row in fetched]
        if self.shape is ValuesIterable:
            names = self.names
            return [dict(zip(names, row, strict=True)) for row in fetched]
        return [tuple(row) for row in fetched] if self.converters else list(fetched)


class _ModelRows:
    """Model instances (with their select_related objects) made from a prepared query's rows as the queryset's
    ModelIterable makes them, without its compiler: for the reads on every signed-in request (the session, the
    person) and the property page's listing with its host. The compiler's path (its cursor iteration, the iterable's
    set-up) cost 0.04-0.05 ms of CPU a query: instructions a request in one process (callgrind, as
    bench/instructions.py counts them), the payment-status poll 3.42 -> 3.16 M, the property page 10.50 -> 10.30 M;
    bench/poll.py prints the poll's ratio to /healthz (0.32-0.37 against a target of 0.5)."""

    def __init__(self, *, klass_info: dict, select: list, width: int, converters: dict, fetch_mode):
        fields = klass_info["select_fields"]
        self.model = klass_info["model"]
        self.model_columns = slice(fields[0], fields[-1] + 1)
        self.field_names = [column[0].target.attname for column in select[self.model_columns]]
        self.klass_info = klass_info
        self.select = select
        self.width = width
        self.converters = list(converters.items())
        self.fetch_mode = fetch_mode

    @classmethod
    def of(cls, queryset: QuerySet, compiler, converters: dict) -> "_ModelRows | None":
        """The plain case only: model rows of fields (and select_related's), nothing annotated or known beforehand,
        no model of the query's making its own instances (from_db overridden); None otherwise."""
        klass_info = compiler.klass_info
        if (
            queryset._iterable_class is not ModelIterable
            or klass_info is None
            or compiler.annotation_col_map
            or queryset._known_related_objects
            or compiler.has_composite_fields([column[0] for column in compiler.select])
            or any(_makes_own_instances(model) for model in _models(klass_info))
        ):
            return None
        return cls(
            klass_info=klass_info,
            select=compiler.select,
            width=compiler.col_count,
            converters=converters,
            fetch_mode=queryset._fetch_mode,
        )

    def instances(self, connection, sql: str, params: list) -> list:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not rows:
            return []
        db = connection.alias
        fetch_mode = self.fetch_mode
        related = get_related_populators(self.klass_info, self.select, db, fetch_mode)
        peers = []
        made = []
        for fetched in rows:
            row = _converted(fetched, self.width, self.converters, connection)
            instance = instance_from_db(self.model, db, self.field_names, row[self.model_columns], fetch_mode)
            if fetch_mode.track_peers:
                peers.append(weakref.ref(instance))
                instance._state.peers = peers
            for populator in related:
                populator.populate(row, instance)
            made.append(instance)
        return made


def instance_from_db(model: type[Model], db: str, attnames: Sequence[str], values: Sequence, fetch_mode=None) -> Model:
    """What model.from_db(db, attnames, values, fetch_mode=fetch_mode) makes of a row (`values` in the order of
    `attnames`, the fields not among them deferred), made directly where nothing can tell the difference: a model
    whose fields are stored as they are set, without an __init__, __setattr__ or from_db of its own, and whom no
    pre_init or post_init receiver listens to. Model.__init__ goes through every field (the deferred ones too) and
    sends both signals: 5.2 us for a search card's listing against 2.4 us. Instructions a request
    (bench/instructions.py): dated search (twelve cards) 11.30 -> 10.80 M, property page (its listing) 9.82 -> 9.77 M,
    payment-status poll (the session and the person) 2.76 -> 2.75 M. Any other model: from_db."""
    if not _stored_as_set(model) or pre_init.has_listeners(model) or post_init.has_listeners(model):
        return model.from_db(db, attnames, values, fetch_mode=fetch_mode)
    instance = model.__new__(model)
    instance.__dict__.update(zip(attnames, values, strict=True))
    state = instance._state = ModelState()
    state.adding = False
    state.db = db
    if fetch_mode is not None:
        state.fetch_mode = fetch_mode
    return instance


# The descriptors of stored fields that, on a new instance, only store the value set: a plain field's, and a foreign
# key's (which first forgets a cached related object, which a new instance does not have).
_STORED_AS_SET = (DeferredAttribute, ForeignKeyDeferredAttribute)


@functools.cache
def _stored_as_set(model: type[Model]) -> bool:
    return (
        model.__init__ is Model.__init__
        and model.__setattr__ is Model.__setattr__
        and not _makes_own_instances(model)
        and not model._meta.abstract
        and all(type(getattr(model, field.attname, None)) in _STORED_AS_SET for field in model._meta.concrete_fields)
    )


def _models(klass_info: dict):
    yield klass_info["model"]
    for related in klass_info.get("related_klass_infos", ()):
        yield from _models(related)


def _makes_own_instances(model) -> bool:
    return model.from_db.__func__ is not Model.from_db.__func__


# ---------------------------------------------------------------------------------------------------------------
# Statements PostgreSQL prepares once per connection. Parsing and planning cost PostgreSQL more than running the
# short statements of the hot pages: measured alone with pgbench, simple protocol against prepared, the search's id
# query 2.45 -> 1.75 ms, its cards 0.16 -> 0.04 ms, the property page's three queries 0.14-0.17 -> 0.02-0.03 ms each
# (bench/search.py and bench/demo_pages.py print the pages' ratios to /healthz). Only core.db.postgresql keeps them
# (its connections record what they hold); elsewhere, SQLite included, a statement runs as it is.

_PLACEHOLDER = re.compile(r"%%|%s|%\((\w+)\)s")
_MOST_STATEMENTS = 200  # a connection holding more forgets them all and starts again


@functools.cache
def _numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """The SQL with PostgreSQL's $1, $2... in place of %s (or of each %(name)s, the first name $1...), %% as %, and
    the names in their order."""
    names: list[str] = []
    position = 0

    def number(match: re.Match) -> str:
        nonlocal position
        if match.group(0) == "%%":
            return "%"
        if match.group(1) is None:
            position += 1
            return f"${position}"
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    numbered = _PLACEHOLDER.sub(number, sql)
    if position and names:
        raise ValueError("SQL with both %s and %(name)s placeholders")
    return numbered, tuple(names)


# psycopg's transaction states (the same numbers in psycopg 2 and 3).
_IDLE, _IN_TRANSACTION = 0, 2


def prepared_statement(connection, sql: str) -> str | None:
    """The name of `sql` prepared on this connection (prepared now if it is new to it), or None where statements
    are not kept or PostgreSQL could not prepare this one (a parameter whose type it cannot tell).

    PREPARE goes through the driver's own cursor, as Django's connection set-up does: it reads nothing, so it is not
    one of the page's queries (the query-count tests count what a page reads). Inside a transaction it runs in a
    savepoint, so a statement PostgreSQL refuses leaves the transaction usable."""
    if connection.vendor != "postgresql":
        return None
    # As Django does before a cursor: a connection the server closed is replaced now, so that the name returned is
    # one the connection that runs the statement holds.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    statements = getattr(raw, "prepared_statements", None)
    if statements is None:  # Django's own backend (DJANGO_CONN_CHECK_BY_QUERY=1) keeps none
        return None
    if sql in statements:
        return statements[sql]
    state = int(raw.info.transaction_status)
    if state not in (_IDLE, _IN_TRANSACTION):  # a failed transaction: the statement runs as it is, and fails
        return None
    try:
        numbered = _numbered(sql)[0]
    except ValueError:
        statements[sql] = None
        return None
    raw.prepared_count += 1
    name = f"nexus_{raw.prepared_count}"
    try:
        with raw.cursor() as cursor:
            if len(statements) >= _MOST_STATEMENTS:
                cursor.execute("DEALLOCATE ALL")
                statements.clear()
                raw.prepared_calls.clear()
            if state == _IN_TRANSACTION:
                cursor.execute("SAVEPOINT nexus_prepare")
            try:
                cursor.execute(f"PREPARE {name} AS {numbered}")
            except connection.Database.ProgrammingError:  # this statement cannot be prepared
                name = None
                if state == _IN_TRANSACTION:
                    cursor.execute("ROLLBACK TO SAVEPOINT nexus_prepare")
            if state == _IN_TRANSACTION:
                cursor.execute("RELEASE SAVEPOINT nexus_prepare")
    except connection.Database.Error:
        # The connection failed, not the statement: nothing is recorded, and the statement itself, run through
        # Django's cursor, meets the same failure and reports it as Django does.
        return None
    statements[sql] = name
    return name


def _prepared_call(connection, statement: str, plan: _Plan) -> str | None:
    """EXECUTE `statement` with the plan's constants written in as the driver writes them and a named placeholder
    for each value: the same text psycopg sends for the statement's parameters, but the constants are adapted once
    per connection instead of on every run, and a value that appears several times is adapted once. The property
    page's month and gallery pass 31 parameters, 4 of them values: adapting them all cost 31 us of the 62 us its
    statement takes in the driver (bench/instructions.py, property page: 8.86 -> 8.44 M instructions with
    _ValueRows). Kept on the connection with its prepared statements; None where it keeps none, or where a constant
    cannot be a key (an unhashable one)."""
    raw = connection.connection
    calls = getattr(raw, "prepared_calls", None)
    if calls is None:
        return None
    key = (statement, plan.constants, plan.slots)
    try:
        call = calls.get(key)
    except TypeError:
        return None
    if call is None:
        named = dict(plan.slots)
        with raw.cursor() as cursor:
            encoding = psycopg_encodings[raw.encoding]
            arguments = [
                f"%({named[position]})s"
                if position in named
                else cursor.mogrify("%s", (constant,)).decode(encoding).replace("%", "%%")
                for position, constant in enumerate(plan.constants)
            ]
        call = calls[key] = _execute_sql(statement, arguments)
    return call


def _execute_sql(statement: str, placeholders: Sequence[str]) -> str:
    return f"EXECUTE {statement}({', '.join(placeholders)})" if placeholders else f"EXECUTE {statement}"


def _literal(value) -> str | None:
    """The text psycopg writes for `value` where it is an int, a bool, None, a date or a datetime, which it writes
    the same way whatever the connection (a negative number after a space, so that a minus before it cannot make a
    comment); None for any other value (text, say, which it escapes as the connection needs), left to psycopg.

    Why: psycopg adapts each parameter through Python calls (an adapter, a failed look-up of its `prepare`, a call
    of its `getquoted`), 13 k instructions each, and a dated search sends 34 of them, nearly all numbers and dates
    (bench/instructions.py, dated search: 8.16 -> 7.88 M instructions)."""
    kind = type(value)
    if kind is int:
        return str(value) if value >= 0 else f" {value}"
    if kind is datetime.date:
        return f"'{value.isoformat()}'::date"
    if kind is datetime.datetime:
        return f"'{value.isoformat()}'::{'timestamp' if value.tzinfo is None else 'timestamptz'}"
    if kind is bool:
        return "true" if value else "false"
    if value is None:
        return "NULL"
    return None


def execute(cursor, sql: str, params: Sequence | Mapping = ()) -> None:
    """cursor.execute(sql, params), through the statement prepared on the cursor's connection where there is one:
    EXECUTE with the numbers, dates, datetimes, booleans and NULLs written in as psycopg writes them (_literal), the
    other values as parameters."""
    statement = prepared_statement(cursor.db, sql)
    if statement is None:
        cursor.execute(sql, params)
        return
    if isinstance(params, Mapping):
        values = [params[name] for name in _numbered(sql)[1]]
    else:
        values = list(params)
    placeholders, passed = [], []
    for value in values:
        text = _literal(value)
        if text is None:
            placeholders.append("%s")
            passed.append(value)
        else:
            placeholders.append(text)
    cursor.execute(_execute_sql(statement, placeholders), passed or None)
