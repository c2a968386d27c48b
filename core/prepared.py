"""ORM queries compiled to SQL once per thread, then run with new values: for the hottest reads only.

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
import threading
from collections.abc import Callable

from django.core.exceptions import EmptyResultSet
from django.db.models import QuerySet

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
        queryset, compiler, sql, constants, slots = plan
        params = list(constants)
        for position, name in slots:
            params[position] = values[name]
        run = copy.copy(compiler)
        run.as_sql = lambda *args, **kwargs: (sql, tuple(params))
        # The queryset's own iterable (its columns' order, flat or named rows), over the compiled SQL.
        query = _shallow_copy(queryset.query)
        query.get_compiler = lambda *args, **kwargs: run
        run_queryset = _shallow_copy(queryset)
        run_queryset.query = query
        return list(queryset._iterable_class(run_queryset))

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
        return queryset, compiler, sql, tuple(params), tuple(slots)
