"""Querysets compiled to SQL once per process, then run with another value for their one parameter.

Django compiles a queryset to SQL on every evaluation: for the entitlement check's one query (periods with
their contract and customer) that compiling cost more than running the query and building the rows
together. A ``PreparedQuery`` builds the queryset once with a marker in place of the value, keeps the SQL
the ORM wrote and what the ORM needs to turn rows into instances, and then only executes. The SQL is still
the ORM's (nothing is hand-written); the rows become model instances, with their ``select_related``
relations, by the same code a queryset uses (``from_db``, Django's related populators and the backend's
converters).

Only for querysets whose shape never changes: filters, ``select_related`` and ordering fixed, one value
varying. A value that the ORM would turn into something else than a plain parameter (an expression, a
list for ``__in``) is not supported and is refused when compiling.
"""

import datetime
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators


class _Marker(str):
    """The stand-in value the queryset is compiled with; found again among the SQL parameters by identity."""

    __slots__ = ()


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slot: int
    compiler: object
    model: type[Model]
    init_list: list[str]
    model_slice: slice
    populators: list
    converters: dict


class PreparedQuery:
    """``PreparedQuery(lambda value: Model.objects.filter(field=value)...)``, then ``query(value)`` returns
    the list of instances that ``list(build(value))`` would, without compiling the queryset again."""

    def __init__(self, build: Callable[[str], QuerySet]):
        self._build = build
        self._compiled: dict[tuple[str, str], _Compiled] = {}
        self._lock = threading.Lock()

    def __call__(self, value: str, *, using: str = "default") -> list[Model]:
        compiled = self._compiled_for(using)
        params = list(compiled.params)
        params[compiled.slot] = value
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        compiler = compiled.compiler
        if compiled.converters:
            rows = compiler.apply_converters(rows, compiled.converters)
        found = []
        for row in rows:
            obj = compiled.model.from_db(using, compiled.init_list, row[compiled.model_slice])
            for populator in compiled.populators:
                populator.populate(row, obj)
            found.append(obj)
        return found

    def _compiled_for(self, using: str) -> _Compiled:
        # The SQL depends on the backend (quoting, functions): kept per alias and vendor.
        key = (using, connections[using].vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key) or self._compile(using)
                self._compiled[key] = compiled
        return compiled

    def _compile(self, using: str) -> _Compiled:
        marker = _Marker("prepared-query-marker")
        queryset = self._build(marker)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()  # fills compiler.select and compiler.klass_info
        slots = [index for index, param in enumerate(params) if param is marker]
        if len(slots) != 1:
            raise ValueError(f"the prepared queryset must use its value once as a plain parameter: {sql}")
        extras = (
            compiler.annotation_col_map,
            queryset._known_related_objects,
            queryset._prefetch_related_lookups,
        )
        if any(extras):
            raise ValueError("annotations, known related objects and prefetches are not supported")
        select, klass_info = compiler.select, compiler.klass_info
        select_fields = klass_info["select_fields"]
        model_slice = slice(select_fields[0], select_fields[-1] + 1)
        fields = [column[0] for column in select[: compiler.col_count]]
        return _Compiled(
            sql=sql,
            params=tuple(params),
            slot=slots[0],
            compiler=compiler,
            model=klass_info["model"],
            init_list=[column[0].target.attname for column in select[model_slice]],
            model_slice=model_slice,
            populators=get_related_populators(klass_info, select, using),
            converters=compiler.get_converters(fields),
        )


@dataclass(frozen=True)
class _CompiledValues:
    sql: str
    params: tuple
    slots: tuple[tuple[int, int, bool], ...]  # (parameter index, value index, adapted as a date)
    names: tuple[str, ...]
    compiler: object
    converters: dict


class PreparedValues:
    """A ``values()`` queryset compiled to SQL once per process, then run with other values for its
    parameters: ``PreparedValues(build, *sentinels)`` compiles ``build(*sentinels)``; calling it with
    values returns the rows as dicts, as ``list(build(*values))`` would.

    Each sentinel is an integer or a date that occurs nowhere else in the query (say 770_000_001, or a day
    in 1900), in range for its field (Django answers an out-of-range integer with an empty query), and must
    reach the SQL as a plain parameter; the compiled parameters equal to a sentinel are the slots its value
    fills. The queryset's shape (filters, annotations, ordering, slicing) never changes.
    """

    def __init__(self, build: Callable[..., QuerySet], *sentinels):
        self._build = build
        self._sentinels = sentinels
        self._compiled: dict[tuple[str, str], _CompiledValues] = {}
        self._lock = threading.Lock()

    def __call__(self, *values, using: str = "default") -> list[dict]:
        if len(values) != len(self._sentinels):
            raise TypeError(f"expected {len(self._sentinels)} values, got {len(values)}")
        compiled = self._compiled_for(using)
        connection = connections[using]
        params = list(compiled.params)
        for slot, index, as_date in compiled.slots:
            value = values[index]
            params[slot] = connection.ops.adapt_datefield_value(value) if as_date else value
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        return [dict(zip(compiled.names, row, strict=False)) for row in rows]

    def _compiled_for(self, using: str) -> _CompiledValues:
        key = (using, connections[using].vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key) or self._compile(using)
                self._compiled[key] = compiled
        return compiled

    def _compile(self, using: str) -> _CompiledValues:
        queryset = self._build(*self._sentinels)
        query = queryset.query
        if not (query.values_select or query.annotation_select) or query.extra_select:
            raise ValueError("a prepared values query needs .values(...) and no extra()")
        compiler = query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        ops = connections[using].ops
        slots = []
        for index, sentinel in enumerate(self._sentinels):
            as_date = isinstance(sentinel, datetime.date) and not isinstance(sentinel, datetime.datetime)
            forms = (sentinel, ops.adapt_datefield_value(sentinel)) if as_date else (sentinel,)
            found = [
                (slot, index, as_date)
                for slot, param in enumerate(params)
                if type(param) is not bool and any(param == form for form in forms)
            ]
            if not found:
                raise ValueError(f"sentinel {sentinel!r} is not a plain parameter of: {sql}")
            slots += found
        names = (*query.values_select, *query.annotation_select)
        columns = [column[0] for column in compiler.select[: compiler.col_count]]
        if len(columns) != len(names):
            raise ValueError("the selected columns do not match the values' names")
        return _CompiledValues(
            sql=sql,
            params=tuple(params),
            slots=tuple(slots),
            names=names,
            compiler=compiler,
            converters=compiler.get_converters(columns),
        )
