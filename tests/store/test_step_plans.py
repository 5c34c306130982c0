"""The step's statements find their rows through indexes, however large the tables grow.

Every driver-level statement of the hot path (`Sql` objects in the store modules) is
planned on a new, empty database. A plan that reads a whole table or index there
either has no usable index or was chosen because the table is small; PostgreSQL keeps
the generic plan of a prepared statement for as long as the connection lives, so
either way the step would slow down as tickets accumulate.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import event, text

from flowdesk.engines.access import Actor
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


def _captured_selects(ctx: ServiceContext, run: Callable[[], object]) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def capture(*args: Any) -> None:
        statement, params = args[2], args[3]
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, params))

    event.listen(ctx.db.engine, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", capture)
    return seen


def _list_plan_problems(ctx: ServiceContext, statement: str, params: Any) -> list[str]:
    """Full scans, and sorts of all matching rows before the LIMIT."""
    if ctx.db.dialect != "postgresql":
        with ctx.db.engine.connect() as conn:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).fetchall()
        return [
            row[-1]
            for row in plan
            if (row[-1].startswith("SCAN ") and "json_each" not in row[-1])
            or "TEMP B-TREE FOR ORDER BY" in row[-1]
        ]
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", statement)))
    sql = statement
    for number, name in enumerate(names, 1):
        sql = sql.replace(f"%({name})s", f"${number}")
    with ctx.db.engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
        conn.exec_driver_sql(f"PREPARE list_page AS {sql.replace('%%', '%')}")
        # NULLs: the generic plan is the one a prepared statement keeps for all values.
        arguments = f"({', '.join(['NULL'] * len(names))})" if names else ""
        plan = conn.execute(text(f"EXPLAIN (FORMAT JSON) EXECUTE list_page{arguments}")).scalar()
        conn.exec_driver_sql("DEALLOCATE list_page")
    return list(_full_scans(plan[0]["Plan"])) + list(_sorts_under_limit(plan[0]["Plan"]))


def _sorts_under_limit(node: dict[str, Any], limited: bool = False) -> Iterator[str]:
    """A Sort feeding a Limit read every matching row first."""
    if limited and node["Node Type"] in ("Sort", "Incremental Sort"):
        yield f"{node['Node Type']} by {node.get('Sort Key')} before the LIMIT"
    for child in node.get("Plans", []):
        yield from _sorts_under_limit(child, limited or node["Node Type"] == "Limit")


def test_each_lists_default_page_stops_after_its_rows(
    demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    """待办, 已办, 我发起 (newest and longest-waiting first) and the unread badge walk an
    index in the page's order: no table scan, no sort of every matching row."""
    from flowdesk.services import notifications, views
    from flowdesk.services.list_query import parse_list_query

    actor = actors["li.na"]
    pages: dict[str, Callable[[], object]] = {
        "todo": lambda: views.task_list(demo_ctx, actor, parse_list_query({}), done=False),
        "todo waiting": lambda: views.task_list(
            demo_ctx, actor, parse_list_query({"sort": "waiting"}), done=False
        ),
        "done": lambda: views.task_list(demo_ctx, actor, parse_list_query({}), done=True),
        "mine": lambda: views.ticket_list(demo_ctx, actor, parse_list_query({}), scope="mine"),
        "unread": lambda: notifications.count_unread(demo_ctx, actor),
    }
    problems: dict[str, list[str]] = {}
    for name, page in pages.items():
        statements = [s for s in _captured_selects(demo_ctx, page) if re.search(_LISTED, s[0])]
        assert statements, name  # the list's statement was really seen
        for statement, params in statements:
            found = _list_plan_problems(demo_ctx, statement, params)
            if found:
                problems[f"{name}: {' '.join(statement.split())[:80]}"] = found
    assert problems == {}


_LISTED = r"FROM (tasks|task_assignees|tickets|notifications)\b"
