#!/usr/bin/env python3
"""Search over many tickets: p50/p95 of `q=` list searches on SQLite and PostgreSQL.

Fills a fresh database (the demo bank, migrated) with N loan tickets (default 100,000):
the first few hundred through `tickets.submit` (so the real step writes serial and
search terms), the rest as bulk rows made the same way (kernel/search_terms.py, the
serial format, one open task each for running tickets), which takes seconds instead of
minutes. Then times `views.ticket_list` exactly as `GET /api/v1/tickets?q=...` calls it:
the first page (20 rows, newest first) with serials, summary fields, current steps and
holders, for an auditor's all-tickets list and for a branch employee's own list.

Usage (from the repository root):
  .venv/bin/python bench/search.py [-n 100000] [--rounds 30] [--skip-pg] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine import DEFAULT_PG_URL, fresh_pg, fresh_sqlite

from flowdesk.engines.access import Actor
from flowdesk.kernel.ids import new_id
from flowdesk.kernel.search_terms import document_terms
from flowdesk.kernel.serials import format_serial, serial_year
from flowdesk.services import auth, demo, tickets, views
from flowdesk.services.bootstrap import build_context, migrate_database
from flowdesk.services.context import ServiceContext, fast_hasher
from flowdesk.services.list_query import parse_list_query

# Words of loan purposes: each ticket's purpose strings eight of them together, without
# spaces, as people write Chinese; a word is then in about 1 ticket of 12.
WORDS = [
    "设备",
    "采购",
    "厂房",
    "扩建",
    "资金",
    "周转",
    "原料",
    "库存",
    "技术",
    "改造",
    "研发",
    "投入",
    "门店",
    "装修",
    "车辆",
    "购置",
    "工程",
    "款项",
    "季节",
    "备货",
    "出口",
    "订单",
    "农业",
    "种植",
    "养殖",
    "饲料",
    "物流",
    "仓储",
    "医疗",
    "器械",
    "教育",
    "培训",
    "餐饮",
    "连锁",
    "软件",
    "开发",
    "能源",
    "光伏",
    "建材",
    "批发",
    "零售",
    "电商",
    "平台",
    "服装",
    "加工",
    "印刷",
    "包装",
    "运输",
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
ENGLISH = ("bakery", "workshop", "export", "harvest", "clinic", "warehouse", "solar", "fleet")


def purpose_of(rng: random.Random) -> str:
    text_ = "".join(rng.choice(WORDS) for _ in range(8))
    if rng.random() < 0.2:
        text_ += f" for the {rng.choice(ENGLISH)}"
    return text_


def values_of(rng: random.Random, i: int) -> dict[str, object]:
    return {
        "applicant_name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
        "amount": "20000.00" if i % 2 == 0 else "120000.00",
        "term_months": 36,
        "credit_rating": "A",
        "region": "north",
        "purpose": purpose_of(rng),
    }


def prepare(url: str) -> tuple[ServiceContext, dict[str, Actor]]:
    ctx = build_context(url)
    migrate_database(ctx)
    ctx.hasher = fast_hasher()
    demo.load(ctx)
    actors = {
        p.username: auth.authenticate(ctx, username=p.username, password=demo.DEMO_PASSWORD)
        for p in demo.PEOPLE
    }
    return ctx, actors


def fill(ctx: ServiceContext, actors: dict[str, Actor], n: int, real: int) -> float:
    """N tickets: `real` through the service, the rest bulk-inserted alike."""
    rng = random.Random(7)
    t0 = time.perf_counter()
    staff = ["zhang.wei", "wu.min"]
    for i in range(real):
        tickets.submit(ctx, actor=actors[staff[i % 2]], app_key="loan", values=values_of(rng, i))
    with ctx.db.write() as conn:
        app_id, version_id, last = conn.execute(
            text(
                "SELECT a.id, a.current_version_id, s.last FROM apps a"
                " JOIN ticket_serials s ON s.app_id = a.id WHERE a.key = 'loan'"
            )
        ).one()
        requester_ids = [actors[u].user_id for u in staff]
        legal = actors["wang.fang"].user_id
        dept = {actors[u].user_id: actors[u].department_id for u in staff}
    start = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
    ticket_rows: list[dict[str, Any]] = []
    term_rows: list[tuple[str, str]] = []
    task_rows: list[dict[str, Any]] = []
    year = serial_year(start)
    for i in range(real, n):
        values = values_of(rng, i)
        ticket_id = new_id()
        at = start + timedelta(seconds=30 * i)
        last += 1
        serial = format_serial("LN", year, last)
        status = "running" if i % 3 else rng.choice(("approved", "rejected"))
        requester = requester_ids[i % 2]
        ticket_rows.append(
            {
                "id": ticket_id,
                "app_id": app_id,
                "app_version_id": version_id,
                "serial": serial,
                "title": values["applicant_name"],
                "status": status,
                "values": json.dumps(values, ensure_ascii=False),
                "state": json.dumps({"status": status}),
                "version": 1,
                "requester_id": requester,
                "department_id": dept[requester],
                "created_at": at,
                "updated_at": at,
                "finished_at": None if status == "running" else at,
            }
        )
        texts = [serial, str(values["applicant_name"]), str(values["purpose"])]
        term_rows.extend((t, ticket_id) for t in document_terms(texts))
        if status == "running":
            task_rows.append({"id": new_id(), "ticket_id": ticket_id, "at": at, "user": legal})
    term_rows.sort()
    with ctx.db.write() as conn:
        _bulk(conn, ticket_rows, term_rows, task_rows)
        conn.execute(
            text("UPDATE ticket_serials SET last = :last WHERE app_id = :app"),
            {"last": last, "app": app_id},
        )
    return time.perf_counter() - t0


def _bulk(
    conn: Any,
    ticket_rows: list[dict[str, Any]],
    term_rows: Iterable[tuple[str, str]],
    task_rows: list[dict[str, Any]],
) -> None:
    pg = conn.dialect.name == "postgresql"
    stamp = (lambda d: d) if pg else (lambda d: d and d.strftime("%Y-%m-%d %H:%M:%S.%f"))
    for row in ticket_rows:
        for key in ("created_at", "updated_at", "finished_at"):
            row[key] = stamp(row[key])
    conn.execute(
        text(
            'INSERT INTO tickets (id, app_id, app_version_id, serial, title, status, "values",'
            " state, version, requester_id, department_id, created_at, updated_at,"
            " finished_at) VALUES (:id, :app_id, :app_version_id, :serial, :title, :status,"
            + (" CAST(:values AS jsonb), CAST(:state AS jsonb)," if pg else " :values, :state,")
            + " :version, :requester_id, :department_id, :created_at, :updated_at, :finished_at)"
        ),
        ticket_rows,
    )
    conn.execute(
        text("INSERT INTO ticket_terms (term, ticket_id) VALUES (:t, :k)"),
        [{"t": t, "k": k} for t, k in term_rows],
    )
    conn.execute(
        text(
            "INSERT INTO tasks (id, ticket_id, node_id, name_en, name_zh, state, created_at)"
            " VALUES (:id, :ticket_id, 'legal_review', 'Legal review', '法务审查', 'open', :at)"
        ),
        [{**r, "at": stamp(r["at"])} for r in task_rows],
    )
    conn.execute(
        text("INSERT INTO task_assignees (task_id, user_id, is_open) VALUES (:id, :user, true)"),
        task_rows,
    )
    if pg:
        conn.execute(text("ANALYZE"))
    else:
        conn.execute(text("ANALYZE"))


QUERIES = (
    ("common word (设备)", "设备"),
    ("two words (设备 采购)", "设备 采购"),
    ("four characters (厂房扩建)", "厂房扩建"),
    ("one character (设)", "设"),
    ("a name (王芳)", "王芳"),
    ("serial", None),
    ("serial prefix (LN-2026-0000)", "LN-2026-0000"),
    ("English word (bakery)", "bakery"),
    ("no match (量子)", "量子"),
)


def measure(
    ctx: ServiceContext, actors: dict[str, Actor], rounds: int, serial: str
) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for who, scope in (("admin", "all"), ("zhang.wei", "mine")):
        all_times: list[float] = []
        for label, q in QUERIES:
            query = parse_list_query({"q": q or serial})
            times = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                page = views.ticket_list(ctx, actors[who], query, scope=scope)  # type: ignore[arg-type]
                times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            all_times += times
            out[f"{who}/{scope} {label}"] = {
                "p50": statistics.median(times),
                "p95": times[int(0.95 * (len(times) - 1))],
                "rows": len(page.items),
            }
        all_times.sort()
        out[f"{who}/{scope} ALL QUERIES"] = {
            "p50": statistics.median(all_times),
            "p95": all_times[int(0.95 * (len(all_times) - 1))],
            "rows": -1,
        }
    return out


def run(url: str, n: int, rounds: int, label: str) -> None:
    ctx, actors = prepare(url)
    took = fill(ctx, actors, n, real=min(300, n))
    with ctx.db.read() as conn:
        count = conn.execute(text("SELECT count(*) FROM tickets")).scalar_one()
        terms = conn.execute(text("SELECT count(*) FROM ticket_terms")).scalar_one()
        serial = conn.execute(
            text("SELECT serial FROM tickets ORDER BY id LIMIT 1 OFFSET :o"), {"o": n // 2}
        ).scalar_one()
    print(f"\n== {label}: {count:,} tickets, {terms:,} search terms (filled in {took:.1f} s)")
    print(f"{'query':52} {'p50 ms':>8} {'p95 ms':>8} {'rows':>5}")
    for name, figures in measure(ctx, actors, rounds, serial).items():
        rows = "" if figures["rows"] < 0 else str(int(figures["rows"]))
        print(f"{name:52} {figures['p50']:8.2f} {figures['p95']:8.2f} {rows:>5}")
    ctx.db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("-n", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--skip-pg", action="store_true")
    ap.add_argument("--skip-sqlite", action="store_true")
    ap.add_argument(
        "--pg-url", default=os.environ.get("FLOWDESK_BENCH_PG_URL", DEFAULT_PG_URL + "_search")
    )
    args = ap.parse_args()
    if not args.skip_sqlite:
        with fresh_sqlite() as url:
            run(url, args.n, args.rounds, "SQLite")
    if not args.skip_pg:
        with fresh_pg(args.pg_url, keep=False) as url:
            run(url, args.n, args.rounds, "PostgreSQL")


if __name__ == "__main__":
    main()
