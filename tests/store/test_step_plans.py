"""The step's statements find their rows through indexes, however large the tables grow.

Every driver-level statement of the hot path (`Sql` objects in the store modules) is
planned on a new, empty database. A plan that reads a whole table or index there
either has no usable index or was chosen because the table is small; PostgreSQL keeps
the generic plan of a prepared statement for as long as the connection lives, so
either way the step would slow down as tickets accumulate.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import text

from flowdesk.services.context import ServiceContext
from flowdesk.store import apps, audit, jobs, org, steps, tickets
from flowdesk.store.sql import Sql


def _statements() -> Iterator[tuple[str, Sql]]:
    for module in (apps, audit, jobs, org, steps, tickets):
        for name, value in vars(module).items():
            if isinstance(value, Sql):
                yield f"{module.__name__.rsplit('.', 1)[-1]}.{name}", value


def _sqlite_scans(ctx: ServiceContext, statement: Sql) -> list[str]:
    names = dict.fromkeys(re.findall(r"(?<![:\w]):(\w+)", statement.sqlite))
    with ctx.db.engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        plan = driver.execute(
            "EXPLAIN QUERY PLAN " + statement.sqlite, dict.fromkeys(names)
        ).fetchall()
    return [row[-1] for row in plan if row[-1].startswith("SCAN ") and "json_each" not in row[-1]]


def _postgresql_scans(ctx: ServiceContext, statement: Sql) -> list[str]:
    sql = statement.postgresql
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", sql)))
    for number, name in enumerate(names, 1):
        sql = sql.replace(f"%({name})s", f"${number}")
    arguments = f"({', '.join(['NULL'] * len(names))})" if names else ""
    with ctx.db.engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
        conn.exec_driver_sql(f"PREPARE hot_path AS {sql.replace('%%', '%')}")
        plan = conn.execute(text(f"EXPLAIN (FORMAT JSON) EXECUTE hot_path{arguments}")).scalar()
        conn.exec_driver_sql("DEALLOCATE hot_path")
    return list(_full_scans(plan[0]["Plan"]))


def _full_scans(node: dict[str, Any]) -> Iterator[str]:
    """Plan nodes that read a whole table or index: a Seq Scan, or an index scan with
    no condition to seek by."""
    kind = node["Node Type"]
    if kind == "Seq Scan" or (
        kind in ("Index Scan", "Index Only Scan", "Bitmap Index Scan") and "Index Cond" not in node
    ):
        yield f"{kind} on {node.get('Relation Name') or node.get('Index Name')}"
    for child in node.get("Plans", []):
        yield from _full_scans(child)


def test_no_hot_path_statement_scans_a_table(ctx: ServiceContext) -> None:
    from flowdesk.services.bootstrap import migrate_database

    migrate_database(ctx)
    postgres = ctx.db.dialect == "postgresql"
    checked, scans = [], {}
    for name, statement in _statements():
        if name.split(".")[1].startswith("_SQLITE_" if postgres else "_PG_"):
            continue  # the other database's statement
        found = _postgresql_scans(ctx, statement) if postgres else _sqlite_scans(ctx, statement)
        checked.append(name)
        if found:
            scans[name] = found
    assert scans == {}
    assert len(checked) >= 15  # the statements were really found
