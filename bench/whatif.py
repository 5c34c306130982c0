#!/usr/bin/env python3
"""What-if runs: how much faster the services would be without one cost, measured.

Each variant patches one thing in this process only (never the code on disk) and
runs the same loan workload as bench/engine.py on fresh databases:

  as-is          the services unchanged
  org-cache      assignee look-ups answered from an in-process dict (as a cached org
                 chart would), so a step sends no org queries
  no-audit       `audit.append` skipped: the upper bound of taking the audit chain
                 (and its single locked head row) off the step's transaction
  both           org-cache and no-audit
  no-autockpt    SQLite only: no WAL auto-checkpoint inside requests (a worker would
                 run PRAGMA wal_checkpoint instead), to show what checkpoints cost p99

These are bounds for deciding what to optimise, not proposals to drop the audit trail.

  .venv/bin/python bench/whatif.py --services-n 600 --clients 1,8 [--skip-sqlite]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import engine as bench
from sqlalchemy import event

from flowdesk.services import process_context
from flowdesk.store import audit as audit_store
from flowdesk.store import db as db_module

# Cleared before every run: each run has a fresh database with new user ids.
_ORG_CACHE: dict[tuple[Any, str], Sequence[str]] = {}


@contextmanager
def org_cache() -> Iterator[None]:
    cls = process_context.StepContext
    original = cls.resolve_assignees
    cache = _ORG_CACHE

    def cached(self: Any, rule: Any, starter: str) -> Sequence[str]:
        # A starter-independent rule once, a starter-dependent one per starter.
        key = (rule, starter if rule.kind.startswith("applicant") else "")
        found = cache.get(key)
        if found is None:
            found = cache[key] = list(original(self, rule, starter))
        return found

    cls.resolve_assignees = cached  # type: ignore[method-assign]
    try:
        yield
    finally:
        cls.resolve_assignees = original  # type: ignore[method-assign]


@contextmanager
def no_audit() -> Iterator[None]:
    original = audit_store.append
    audit_store.append = lambda *_a, **_k: 0  # type: ignore[assignment]
    try:
        yield
    finally:
        audit_store.append = original


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


@contextmanager
def both() -> Iterator[None]:
    with org_cache(), no_audit():
        yield


VARIANTS: dict[str, Callable[[], Any]] = {
    "as-is": nothing,
    "org-cache": org_cache,
    "no-audit": no_audit,
    "both": both,
    "no-autockpt": no_autocheckpoint,
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services-n", type=int, default=600)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--clients", default="1,8")
    ap.add_argument("--variants", default="as-is,org-cache,no-audit,both")
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
                _ORG_CACHE.clear()
                with bench.fresh_sqlite() as url:
                    results.append(
                        bench.bench_services("sqlite/1", url, n, args.warmup, 1, None, False)
                    )
            if not args.skip_pg:
                for k in clients:
                    _ORG_CACHE.clear()
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
