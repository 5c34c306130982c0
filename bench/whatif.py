#!/usr/bin/env python3
"""What-if runs: how much faster the services would be without one cost, measured.

Each variant patches one thing in this process only (never the code on disk) and
runs the same loan workload as bench/engine.py on fresh databases:

  as-is          the services unchanged
  no-audit       the audit append skipped: the upper bound of taking the audit chain
                 (and its single locked head row) off the step's transaction
  no-fk          PostgreSQL only: the foreign keys of the ticket tables (tickets, tasks,
                 task_assignees, ticket_steps, jobs) dropped after migrating, to show what the
                 referential checks cost the server per step
  no-autockpt    SQLite only: no WAL auto-checkpoint inside requests (a worker would
                 run PRAGMA wal_checkpoint instead), to show what checkpoints cost p99

These are bounds for deciding what to optimise, not proposals to drop the audit trail.

  .venv/bin/python bench/whatif.py --services-n 600 --clients 1,8 [--skip-sqlite]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import engine as bench
from sqlalchemy import event, text

from flowdesk.store import audit as audit_store
from flowdesk.store import db as db_module
from flowdesk.store import steps as steps_store
from flowdesk.store.sql import Sql


@contextmanager
def no_audit() -> Iterator[None]:
    sqlite_append, pg_append = audit_store.append, steps_store._PG_AUDIT
    audit_store.append = lambda *_a, **_k: None
    steps_store._PG_AUDIT = Sql("SELECT 1 WHERE CAST(:audit_actor AS text) IS NOT NULL")
    try:
        yield
    finally:
        audit_store.append, steps_store._PG_AUDIT = sqlite_append, pg_append


_TICKET_TABLES = ("tickets", "tasks", "task_assignees", "ticket_steps", "jobs")


@contextmanager
def no_foreign_keys() -> Iterator[None]:
    original = bench.prepare_services

    def without_foreign_keys(url: str, pool_size: int) -> Any:
        ctx, actors, setup_s = original(url, pool_size)
        if ctx.db.dialect == "postgresql":
            with ctx.db.engine.begin() as conn:
                names = conn.execute(
                    text(
                        "SELECT conrelid::regclass::text, conname FROM pg_constraint"
                        " WHERE contype = 'f' AND conrelid::regclass::text = ANY(:tables)"
                    ),
                    {"tables": list(_TICKET_TABLES)},
                ).all()
                for table, name in names:
                    conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
        return ctx, actors, setup_s

    bench.prepare_services = without_foreign_keys
    try:
        yield
    finally:
        bench.prepare_services = original


@contextmanager
def no_autocheckpoint() -> Iterator[None]:
    original = db_module._sqlite_engine

    def engine_without_autocheckpoint(*args: Any, **kwargs: Any) -> Any:
        engine = original(*args, **kwargs)

        @event.listens_for(engine, "connect")
        def _off(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")

        return engine

    db_module._sqlite_engine = engine_without_autocheckpoint
    try:
        yield
    finally:
        db_module._sqlite_engine = original


@contextmanager
def nothing() -> Iterator[None]:
    yield


VARIANTS: dict[str, Callable[[], Any]] = {
    "as-is": nothing,
    "no-audit": no_audit,
    "no-fk": no_foreign_keys,
    "no-autockpt": no_autocheckpoint,
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services-n", type=int, default=600)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--clients", default="1,8")
    ap.add_argument("--variants", default="as-is,no-audit,no-fk")
    ap.add_argument("--pg-url", default=bench.DEFAULT_PG_URL)
    ap.add_argument("--skip-sqlite", action="store_true")
    ap.add_argument("--skip-pg", action="store_true")
    args = ap.parse_args()
    clients = [int(c) for c in args.clients.split(",") if c.strip()]
    n = args.services_n

    print(
        f"{'variant':<13}{'mode':<10}{'inst/s':>9}{'stmts/step':>12}"
        f"{'client CPU':>12}{'server CPU':>12}  p50/p99 submit, approve ms"
    )
    for name in args.variants.split(","):
        with VARIANTS[name]():
            results = []
            if not args.skip_sqlite:
                with bench.fresh_sqlite() as url:
                    results.append(
                        bench.bench_services("sqlite/1", url, n, args.warmup, 1, None, False)
                    )
            if not args.skip_pg:
                for k in clients:
                    with bench.fresh_pg(args.pg_url, False) as url:
                        results.append(
                            bench.bench_services(f"pg/{k}", url, n, args.warmup, k, None, False)
                        )
        for r in results:
            server = r.get("server_cpu_ms_per_instance")
            lat = r["latency"]
            print(
                f"{name:<13}{r['mode']:<10}{r['instances_per_s']:>9}"
                f"{r['sql_statements_per_step']:>12}{r['client_cpu_ms_per_instance']:>9} ms"
                + (f"{server:>9} ms" if server is not None else f"{'–':>12}")
                + f"  {lat['submit']['p50_ms']:.2f}/{lat['submit']['p99_ms']:.2f},"
                + f" {lat['approve']['p50_ms']:.2f}/{lat['approve']['p99_ms']:.2f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
