"""A Core select compiled once per dialect and run on the driver's own cursor.

Every request reads a few rows (its session or token, the badges, a page's rows), each
through SQLAlchemy's execution machinery: ~40 µs of Python per statement on SQLite and
~50 µs on PostgreSQL before the driver sees it, on statements built once (ADR 0029,
bench/RESULTS.md). A `DriverSelect` keeps the statement as the one description of
what is read (Core, so names and types are checked once), compiles it once per dialect
and converts each value with the very result processors SQLAlchemy would apply: rows
read either way are equal (tests/store/test_driver_select.py pins that for every one).
Listeners of `before_cursor_execute` still see the statement.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CompoundSelect, Connection, Select
from sqlalchemy.engine import Dialect

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    positional: tuple[str, ...] | None  # SQLite (qmark): parameter names in their order
    defaults: Mapping[str, Any]  # literal values the statement binds itself
    binds: Mapping[str, Callable[[Any], Any]]  # parameters whose values are converted
    processors: tuple[_Processor, ...]
    converts: bool  # any column has a processor
    row: Callable[..., Any]


class DriverSelect:
    """`rows(conn, params)` / `first(conn, params)`: the select's rows as named tuples
    (attribute access and `_mapping`, like SQLAlchemy's rows) in the caller's
    transaction. Expanding (IN-list) parameters are not supported: compile-time SQL."""

    def __init__(self, statement: Select[Any] | CompoundSelect[Any]) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}
        names = list(statement.selected_columns.keys())
        row = namedtuple("DriverRow", names)  # type: ignore[misc]
        row._mapping = property(lambda self: self._asdict())  # type: ignore[attr-defined]
        self._row = row

    def rows(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[Any]:
        compiled = self._compiled_for(conn.dialect)
        cursor = self._execute(conn, compiled, params or {})
        try:
            fetched = cursor.fetchall()
        finally:
            cursor.close()
        make = compiled.row
        if not compiled.converts:
            return [make(*values) for values in fetched]
        processors = compiled.processors
        return [
            make(*[v if p is None else p(v) for p, v in zip(processors, values, strict=True)])
            for values in fetched
        ]

    def first(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any | None:
        found = self.rows(conn, params)
        return found[0] if found else None

    def _execute(self, conn: Connection, compiled: _Compiled, given: Mapping[str, Any]) -> Any:
        params = {**compiled.defaults, **given}
        for name, convert in compiled.binds.items():
            params[name] = convert(params[name])
        bound: Any = (
            params if compiled.positional is None else tuple(params[n] for n in compiled.positional)
        )
        driver = conn.connection.dbapi_connection
        assert driver is not None
        cursor = driver.cursor()
        conn.dispatch.before_cursor_execute(conn, cursor, compiled.sql, bound, None, False)
        cursor.execute(compiled.sql, bound)
        return cursor

    def _compiled_for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = self._compile(dialect)
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        if "POSTCOMPILE" in compiled.string:
            raise ValueError("DriverSelect takes no expanding or literal-execute parameters")
        binds = {}
        for name, bind in compiled.binds.items():
            convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if convert is not None:
                binds[name] = convert
        processors = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in self.statement.selected_columns
        )
        positional = compiled.positiontup
        return _Compiled(
            sql=compiled.string,
            positional=tuple(positional) if dialect.paramstyle == "qmark" and positional else None,
            defaults={k: v for k, v in compiled.params.items() if v is not None},
            binds=binds,
            processors=processors,
            converts=any(p is not None for p in processors),
            row=self._row,
        )
