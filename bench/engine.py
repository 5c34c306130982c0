#!/usr/bin/env python3
"""Loan approval end to end: flowdesk's engine and services beside SpiffWorkflow, in one run.

Runs N loan instances of the bundled `loan` app (half <= 50,000 through the
branch manager, half > 50,000 through legal ∥ finance → committee → disburse):

  engine/plain    the pure engine in memory: `step` with an in-memory Context
                  (conditions through the app's real ConditionEvaluator,
                  assignees from dicts built from the demo bank)
  engine/persist  the same, with dump_state → json.dumps → json.loads →
                  load_state (and the form values through JSON too) after every
                  step: what a database-backed engine must do between requests,
                  the apples-to-apples peer of SpiffWorkflow's persist mode
  sqlite          `tickets.submit` + `tickets.approve` on a fresh migrated SQLite
                  file with the demo bank, one client
  pg/1, pg/K      the same on PostgreSQL, one client and K client threads

and, as subprocesses in the same run, SpiffWorkflow's plain and persist modes
(`../shared/peers/bench_spiff.py` in `bench/.venv-peers`, see bench/setup.sh).
Prints instances/s, user tasks/s, p50/p99 latency per step kind, the ratios to
SpiffWorkflow and the stored bytes per finished instance.

Usage (from the repository root):
  bash bench/setup.sh
  .venv/bin/python bench/engine.py -n 2000 --services-n 1000 [--pg-url URL] [--skip-pg]
                                   [--clients 1,4,8] [--repeat 3] [--json bench/out/run.json]
                                   [--profile bench/out/prof]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing
import os
import platform
import pstats
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from flowdesk.engines.apps import AppSpec, ConditionEvaluator, load_bundled_template
from flowdesk.engines.forms import validate_submission
from flowdesk.engines.process import (
    AssigneeRule,
    CompleteTask,
    InstanceState,
    ProcessSpec,
    Start,
    dump_state,
    load_state,
    step,
)
from flowdesk.kernel.ids import new_id
from flowdesk.services import auth, demo, jobs, tickets
from flowdesk.services.bootstrap import build_context, migrate_database
from flowdesk.services.context import ServiceContext, fast_hasher
from flowdesk.store import org as org_store

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS = Path(os.environ.get("FLOWDESK_PEERS_DIR", ROOT.parent / "shared" / "peers"))
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/flowdesk_bench"

SMALL, LARGE = "20000.00", "120000.00"  # the loan's gateway: amount <= 50000
REGIONS = ("north", "south", "east", "west", "central")
RATINGS = ("A", "B", "C")
TERMS = (12, 24, 36, 60, 120)
# Who approves each user task of the loan app in this workload (branch_review:
# the applicant's manager, i.e. the branch head).
ACTING_USER = {
    "legal_review": "wang.fang",
    "finance_review": "liu.yang",
    "committee": "chen.jing",
    "disburse": "zhao.lei",
}
# The task an approval opens, if it opens one (at the join only the later of
# legal/finance does); submit opens branch_review, or legal_review and
# finance_review in that (definition) order.
OPENS_NEXT = {
    "branch_review": "disburse",
    "legal_review": "committee",
    "finance_review": "committee",
    "committee": "disburse",
}
BRANCH_STAFF: tuple[tuple[str, str], ...] = tuple(
    (p.username, p.manager or "") for p in demo.BRANCHES if not p.head
)
# Interleave the three branches: i % 3 picks the branch, so with i % 2 picking the
# amount every branch files both kinds of loan.
_by_branch: dict[str, list[tuple[str, str]]] = defaultdict(list)
for _user, _head in BRANCH_STAFF:
    _by_branch[_head].append((_user, _head))
BRANCHES = tuple(tuple(staff) for staff in _by_branch.values())


def applicant_of(i: int) -> tuple[str, str]:
    """(applicant username, their branch head) for instance i."""
    staff = BRANCHES[i % len(BRANCHES)]
    return staff[(i // len(BRANCHES)) % len(staff)]


def raw_values(i: int) -> dict[str, object]:
    """The applicant's form, as a JSON API client would send it."""
    return {
        "applicant_name": f"客户{i:06d}",
        "amount": SMALL if i % 2 == 0 else LARGE,
        "term_months": TERMS[i % len(TERMS)],
        "credit_rating": RATINGS[i % len(RATINGS)],
        "region": REGIONS[i % len(REGIONS)],
        "purpose": "流动资金周转 working capital for the next season",
    }


# ---------------------------------------------------------------------------- stats


def pct(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def latency_summary(latencies: Mapping[str, list[float]]) -> dict[str, dict[str, float]]:
    out = {}
    for kind, values in latencies.items():
        ms = sorted(v * 1000 for v in values)
        out[kind] = {
            "count": len(ms),
            "mean_ms": round(sum(ms) / len(ms), 3) if ms else 0.0,
            "p50_ms": round(pct(ms, 50), 3),
            "p99_ms": round(pct(ms, 99), 3),
        }
    return out


def rates(
    mode: str,
    n: int,
    user_tasks: int,
    steps: int,
    wall: float,
    latencies: Mapping[str, list[float]],
) -> dict[str, Any]:
    return {
        "mode": mode,
        "instances": n,
        "user_tasks": user_tasks,
        "steps": steps,
        "wall_s": round(wall, 3),
        "instances_per_s": round(n / wall, 1),
        "user_tasks_per_s": round(user_tasks / wall, 1),
        "steps_per_s": round(steps / wall, 1),
        "latency": latency_summary(latencies),
    }


# ---------------------------------------------------------------------------- pure engine


class MemoryContext:
    """The engine's Context without a database: the app's evaluator and the demo org in dicts."""

    def __init__(self, app: AppSpec) -> None:
        self._conditions = ConditionEvaluator(app)
        self.managers = {p.username: p.manager for p in demo.PEOPLE if p.manager}
        self.roles: dict[str, list[str]] = defaultdict(list)
        self.heads: dict[str, str] = {}
        self.department = {p.username: p.department for p in demo.PEOPLE}
        for p in demo.PEOPLE:
            for role in p.roles:
                self.roles[role].append(p.username)
            if p.head:
                self.heads[p.department] = p.username

    def evaluate(self, condition: str, values: Mapping[str, object]) -> bool:
        return self._conditions.evaluate(condition, values)

    def resolve_assignees(self, rule: AssigneeRule, starter: str) -> Sequence[str]:
        kind = rule.kind
        if kind == "applicant_manager":
            manager = self.managers.get(starter)
            return [manager] if manager and rule.level == 1 else []
        if kind == "role" and rule.role:
            return self.roles.get(rule.role, [])
        if kind == "department_head" and rule.department:
            head = self.heads.get(rule.department)
            return [head] if head else []
        if kind == "applicant_department_head":
            head = self.heads.get(self.department.get(starter, ""))
            return [head] if head else []
        if kind == "user" and rule.user:
            return [rule.user]
        return []

    def new_id(self) -> str:
        return new_id()


def run_engine(
    spec: ProcessSpec,
    ctx: MemoryContext,
    inputs: Sequence[tuple[str, str, dict[str, object]]],
    *,
    persist: bool,
    sizes: list[int] | None = None,
) -> tuple[dict[str, Any], dict[str, list[float]]]:
    """Runs every instance to its end; returns (counts, latencies per step kind)."""
    latencies: dict[str, list[float]] = {"start": [], "approve": []}
    lat_start, lat_approve = latencies["start"], latencies["approve"]
    perf = time.perf_counter
    dumps, loads = json.dumps, json.loads
    user_tasks = 0

    def round_trip(
        state: InstanceState, values: dict[str, object]
    ) -> tuple[InstanceState, dict[str, object]]:
        # What a persistent engine does at the end of each request: store the state
        # (and the ticket's values, which flowdesk keeps beside it), and read both back.
        stored = dumps({"state": dump_state(state), "values": values})
        if sizes is not None:
            sizes.append(len(stored))
        doc = loads(stored)
        return load_state(doc["state"]), doc["values"]

    t_wall = perf()
    for starter, head, values in inputs:
        t0 = perf()
        state = step(spec, None, Start(starter, values), ctx).state
        if persist:
            state, values = round_trip(state, values)
        lat_start.append(perf() - t0)
        while state.status == "running":
            task = next(iter(state.tasks.values()))  # like Spiff's ready[0]
            actor = head if task.node_id == "branch_review" else ACTING_USER[task.node_id]
            t0 = perf()
            command = CompleteTask(task.task_id, actor, "approve", "ok", values)
            state = step(spec, state, command, ctx).state
            if persist:
                state, values = round_trip(state, values)
            lat_approve.append(perf() - t0)
            user_tasks += 1
        if state.status != "approved":
            raise RuntimeError(f"instance of {starter} ended {state.status}")
    wall = perf() - t_wall
    counts = {"n": len(inputs), "user_tasks": user_tasks, "wall": wall}
    return counts, latencies


def bench_engine(n: int, warmup: int, profile_dir: Path | None) -> dict[str, Any]:
    app = load_bundled_template("loan")
    t0 = time.perf_counter()
    spec = load_bundled_template("loan").process  # parse once (YAML + checks)
    parse_ms = (time.perf_counter() - t0) * 1000
    ctx = MemoryContext(app)
    inputs = []
    for i in range(n + warmup):
        applicant, head = applicant_of(i)
        values = validate_submission(app.form, raw_values(i), source="json")
        inputs.append((applicant, head, values))
    out: dict[str, Any] = {"template_parse_ms": round(parse_ms, 2)}
    for persist in (False, True):
        mode = "engine/persist" if persist else "engine/plain"
        run_engine(spec, ctx, inputs[n:], persist=persist)  # warm-up
        sizes: list[int] = []
        with maybe_profile(profile_dir, mode):
            counts, lat = run_engine(
                spec, ctx, inputs[:n], persist=persist, sizes=sizes if persist else None
            )
        result = rates(mode, n, counts["user_tasks"], n + counts["user_tasks"], counts["wall"], lat)
        if persist:
            result["persisted_doc_mean_bytes"] = round(sum(sizes) / len(sizes))
            result["persisted_doc_max_bytes"] = max(sizes)
        out["plain" if not persist else "persist"] = result
    # The state of a finished instance as the engine stores it.
    sample_sizes = {}
    for label, (starter, head, values) in (("small", inputs[0]), ("large", inputs[1])):
        state = step(spec, None, Start(starter, values), ctx).state
        running_max = len(json.dumps(dump_state(state), separators=(",", ":")))
        while state.status == "running":
            task = next(iter(state.tasks.values()))
            actor = head if task.node_id == "branch_review" else ACTING_USER[task.node_id]
            state = step(spec, state, CompleteTask(task.task_id, actor, "approve"), ctx).state
            running_max = max(
                running_max, len(json.dumps(dump_state(state), separators=(",", ":")))
            )
        final = state
        sample_sizes[label] = {
            "final_state_json_bytes": len(json.dumps(dump_state(final), separators=(",", ":"))),
            "max_running_state_json_bytes": running_max,
            "values_json_bytes": len(json.dumps(values, separators=(",", ":"), ensure_ascii=False)),
        }
    out["state_sizes"] = sample_sizes
    return out


# ---------------------------------------------------------------------------- services


class StatementCounter:
    """Counts what the steps send to the database driver, below SQLAlchemy (the store may
    also run statements on the driver connection directly).

    PostgreSQL: cursor execute/executemany calls (an executemany counts once: psycopg
    pipelines it into one round trip); BEGIN and COMMIT are not statements here but each
    is one more round trip. SQLite: every statement the library runs (its trace hook:
    each executemany row, BEGIN and COMMIT count). Only counts while `active`.
    """

    def __init__(self, db: Any) -> None:
        self.db = db
        engine = self.engine = db.engine
        self.statements = 0
        self.commits = 0
        self.active = False
        self._sqlite = engine.dialect.name == "sqlite"
        self._plain_factory: Any = None
        self._counting_factory: Any = None
        if not self._sqlite:
            import psycopg

            counter = self

            class CountingCursor(psycopg.Cursor):  # type: ignore[type-arg]
                def execute(self, *args: Any, **kwargs: Any) -> Any:
                    counter.statements += 1
                    return super().execute(*args, **kwargs)

                def executemany(self, *args: Any, **kwargs: Any) -> Any:
                    counter.statements += 1
                    return super().executemany(*args, **kwargs)

            self._counting_factory = CountingCursor
        event.listen(engine, "checkout", self._checkout)
        event.listen(engine, "commit", self._commit)

    def start(self) -> None:
        self.active = True
        self._trace_writer(self._trace)

    def _trace_writer(self, callback: Any) -> None:
        """The SQLite writer keeps its connection between transactions (store/db.py), so
        checkouts do not reach it: its trace hook is set here."""
        writer = getattr(self.db, "_writer_conn", None)
        if self._sqlite and writer is not None and not writer.closed:
            writer.connection.dbapi_connection.set_trace_callback(callback)

    def _trace(self, _statement: str) -> None:
        self.statements += 1

    def _commit(self, _conn: Any) -> None:
        if self.active:
            self.commits += 1

    def _checkout(self, dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        if self._sqlite:
            dbapi_conn.set_trace_callback(self._trace if self.active else None)
            return
        if self._plain_factory is None:
            self._plain_factory = dbapi_conn.cursor_factory
        dbapi_conn.cursor_factory = self._counting_factory if self.active else self._plain_factory

    def detach(self) -> None:
        self.active = False
        self._trace_writer(None)
        event.remove(self.engine, "checkout", self._checkout)
        event.remove(self.engine, "commit", self._commit)
        # Connections pick the plain cursor again at their next checkout.
        if self._sqlite:
            event.listen(self.engine, "checkout", _untrace)
        else:
            plain = self._plain_factory

            def _plain(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
                if plain is not None:
                    dbapi_conn.cursor_factory = plain

            event.listen(self.engine, "checkout", _plain)


def _untrace(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    dbapi_conn.set_trace_callback(None)


class CpuMeter:
    """CPU seconds of this process (all client threads) and, for a local PostgreSQL, of the
    server backends serving the bench database (from /proc), over a measured section."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.tick = os.sysconf("SC_CLK_TCK")

    def _backends(self) -> dict[int, float] | None:
        if self.ctx.db.is_sqlite:
            return None
        host = make_url(self.ctx.db.url).host or "localhost"
        if host not in ("127.0.0.1", "localhost", "::1"):
            return None
        with self.ctx.db.engine.connect() as conn:
            pids = (
                conn.execute(
                    text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
                )
                .scalars()
                .all()
            )
        out = {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return None
            out[int(pid)] = (int(fields[11]) + int(fields[12])) / self.tick
        return out

    def __enter__(self) -> CpuMeter:
        self.server0 = self._backends()
        self.client0 = time.process_time()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.client_s = time.process_time() - self.client0
        server1 = self._backends()
        self.server_s: float | None = None
        if self.server0 is not None and server1 is not None:
            self.server_s = sum(v - self.server0.get(pid, 0.0) for pid, v in server1.items())


def service_instance(
    ctx: ServiceContext,
    actors: Mapping[str, Any],
    i: int,
    latencies: dict[str, list[float]],
    counter: dict[str, int],
) -> None:
    """Files loan i and approves every task it opens, as the right demo user, to the end."""
    perf = time.perf_counter
    applicant, head = applicant_of(i)
    t0 = perf()
    outcome = tickets.submit(ctx, actor=actors[applicant], app_key="loan", values=raw_values(i))
    latencies["submit"].append(perf() - t0)
    first = ("branch_review",) if i % 2 == 0 else ("legal_review", "finance_review")
    if len(outcome.opened_task_ids) != len(first):
        raise RuntimeError(f"submit opened {outcome.opened_task_ids}, expected {first}")
    pending = list(zip(outcome.opened_task_ids, first, strict=True))
    while pending:
        task_id, node_id = pending.pop(0)
        user = head if node_id == "branch_review" else ACTING_USER[node_id]
        t0 = perf()
        outcome = tickets.approve(ctx, actor=actors[user], task_id=task_id, comment="同意 ok")
        latencies["approve"].append(perf() - t0)
        counter["user_tasks"] += 1
        for opened in outcome.opened_task_ids:  # an approval opens at most one task here
            pending.append((opened, OPENS_NEXT[node_id]))
    if outcome.status != "approved":
        raise RuntimeError(f"loan {i} ended {outcome.status}")


def prepare_services(url: str, pool_size: int) -> tuple[ServiceContext, dict[str, Any], float]:
    t0 = time.perf_counter()
    ctx = build_context(url, pool_size=pool_size)
    migrate_database(ctx)
    ctx.hasher = fast_hasher()
    demo.load(ctx)
    actors = {
        p.username: auth.authenticate(ctx, username=p.username, password=demo.DEMO_PASSWORD)
        for p in demo.PEOPLE
    }
    return ctx, actors, time.perf_counter() - t0


@contextmanager
def housekeeping(ctx: ServiceContext) -> Iterator[None]:
    """What `flowdesk serve`'s worker thread does besides jobs: `jobs.maintain` (the SQLite
    WAL checkpoint) twice a second. Jobs themselves stay queued, as noted in RESULTS.md."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(0.5):
            jobs.maintain(ctx)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def run_services(
    ctx: ServiceContext,
    actors: Mapping[str, Any],
    indices: Sequence[int],
    threads: int,
) -> tuple[dict[str, Any], dict[str, list[float]]]:
    with housekeeping(ctx):
        return _run_services(ctx, actors, indices, threads)


def _run_services(
    ctx: ServiceContext,
    actors: Mapping[str, Any],
    indices: Sequence[int],
    threads: int,
) -> tuple[dict[str, Any], dict[str, list[float]]]:
    if threads <= 1:
        latencies: dict[str, list[float]] = {"submit": [], "approve": []}
        counter = {"user_tasks": 0}
        t0 = time.perf_counter()
        for i in indices:
            service_instance(ctx, actors, i, latencies, counter)
        wall = time.perf_counter() - t0
        return {"n": len(indices), "user_tasks": counter["user_tasks"], "wall": wall}, latencies

    shares = [list(indices[k::threads]) for k in range(threads)]
    per_thread = [({"submit": [], "approve": []}, {"user_tasks": 0}) for _ in range(threads)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads + 1)

    def work(k: int) -> None:
        lat, counter = per_thread[k]
        barrier.wait()
        try:
            for i in shares[k]:
                service_instance(ctx, actors, i, lat, counter)
        except BaseException as exc:  # reported after the join
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    t0 = time.perf_counter()
    for w in workers:
        w.join()
    wall = time.perf_counter() - t0
    if errors:
        raise errors[0]
    merged: dict[str, list[float]] = {"submit": [], "approve": []}
    for lat, _ in per_thread:
        for kind, values in lat.items():
            merged[kind].extend(values)
    user_tasks = sum(c["user_tasks"] for _, c in per_thread)
    return {"n": len(indices), "user_tasks": user_tasks, "wall": wall}, merged


CHILD_WARMUP = 20


def run_in_processes(
    ctx: ServiceContext, url: str, n: int, warmup: int, threads: int, processes: int
) -> tuple[dict[str, Any], dict[str, list[float]], CpuMeter]:
    """Instances 0..n-1 shared out over client processes; the CPU meter starts once every
    process has warmed up and stops when the last one is done."""
    spawn = multiprocessing.get_context("spawn")
    with spawn.Manager() as manager, ProcessPoolExecutor(processes, mp_context=spawn) as pool:
        # ready: all warmed up; go: start; done: the server CPU has been read, so the
        # clients' connections (whose backends the meter reads) may close.
        ready, go, done = (manager.Barrier(processes + 1) for _ in range(3))
        outbox = manager.Queue()
        futures = [
            pool.submit(
                _client_process,
                url,
                list(range(k, n, processes)),
                range(n + warmup + k * CHILD_WARMUP, n + warmup + (k + 1) * CHILD_WARMUP),
                threads,
                (ready, go, done),
                outbox,
            )
            for k in range(processes)
        ]
        ready.wait()
        with housekeeping(ctx), CpuMeter(ctx) as cpu:
            go.wait()
            t0 = time.perf_counter()
            results = [outbox.get() for _ in futures]
            wall = time.perf_counter() - t0
        done.wait()
        for future in futures:
            future.result()  # raises a client's error
    cpu.client_s += sum(child_cpu for _, _, child_cpu in results)
    latencies: dict[str, list[float]] = {"submit": [], "approve": []}
    for _, lat, _ in results:
        for kind, values in lat.items():
            latencies[kind].extend(values)
    user_tasks = sum(counts["user_tasks"] for counts, _, _ in results)
    return {"n": n, "user_tasks": user_tasks, "wall": wall}, latencies, cpu


def _client_process(
    url: str,
    indices: list[int],
    warmup: range,
    threads: int,
    barriers: tuple[Any, Any, Any],
    outbox: Any,
) -> None:
    ready, go, done = barriers
    ctx = build_context(url, pool_size=max(10, threads))
    try:
        with ctx.db.read() as conn:
            actors = {
                p.username: auth.actor_from_row(conn, org_store.user_by_username(conn, p.username))
                for p in demo.PEOPLE
            }
        scratch: dict[str, list[float]] = {"submit": [], "approve": []}
        for i in warmup:
            service_instance(ctx, actors, i, scratch, {"user_tasks": 0})
        ready.wait()
        go.wait()
        cpu0 = time.process_time()
        try:
            counts, latencies = _run_services(ctx, actors, indices, threads)
            outbox.put((counts, latencies, time.process_time() - cpu0))
        except BaseException:
            outbox.put(({"user_tasks": 0}, {"submit": [], "approve": []}, 0.0))
            raise  # future.result() re-raises it in the parent, after `done`
        finally:
            done.wait()
    finally:
        ctx.db.dispose()


def storage_snapshot(ctx: ServiceContext) -> dict[str, dict[str, int]]:
    """Per table: rows, payload bytes of the rows, and bytes on disk incl. indexes."""
    tables = ("tickets", "tasks", "task_assignees", "ticket_steps", "audit_log", "jobs")
    out: dict[str, dict[str, int]] = {}
    with ctx.db.engine.connect() as conn:
        if ctx.db.is_sqlite:
            disk = dict(
                conn.execute(
                    text(
                        "SELECT coalesce(i.tbl_name, d.name), sum(d.pgsize) FROM dbstat d "
                        "LEFT JOIN sqlite_master i ON i.name = d.name GROUP BY 1"
                    )
                ).all()
            )
            payload = dict(
                conn.execute(text("SELECT name, sum(payload) FROM dbstat GROUP BY name")).all()
            )
            for t in tables:
                rows = conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                out[t] = {
                    "rows": int(rows),
                    "row_bytes": int(payload.get(t) or 0),
                    "disk_bytes": int(disk.get(t) or 0),
                }
        else:
            for t in tables:
                rows, row_bytes = conn.execute(
                    text(f"SELECT count(*), coalesce(sum(pg_column_size(x.*)), 0) FROM {t} x")
                ).one()
                disk = conn.execute(text(f"SELECT pg_total_relation_size('{t}')")).scalar_one()
                out[t] = {"rows": int(rows), "row_bytes": int(row_bytes), "disk_bytes": int(disk)}
    return out


def state_sizes(ctx: ServiceContext) -> dict[str, Any]:
    """The finished tickets' `state` and `values` columns: as stored and as compact JSON."""
    compact = {"separators": (",", ":"), "ensure_ascii": False}
    with ctx.db.engine.connect() as conn:
        if ctx.db.is_sqlite:
            stored = conn.execute(
                text(
                    "SELECT avg(length(CAST(state AS BLOB))), max(length(CAST(state AS BLOB))),"
                    " avg(length(CAST(\"values\" AS BLOB))) FROM tickets WHERE status = 'approved'"
                )
            ).one()
        else:
            stored = conn.execute(
                text(
                    "SELECT avg(pg_column_size(state)), max(pg_column_size(state)),"
                    " avg(pg_column_size(\"values\")) FROM tickets WHERE status = 'approved'"
                )
            ).one()
        rows = conn.execute(
            text("SELECT state, \"values\" FROM tickets WHERE status = 'approved' LIMIT 200")
        ).all()

    def as_obj(v: Any) -> Any:
        return json.loads(v) if isinstance(v, str) else v

    state_json = [len(json.dumps(as_obj(r[0]), **compact).encode()) for r in rows]  # type: ignore[arg-type]
    values_json = [len(json.dumps(as_obj(r[1]), **compact).encode()) for r in rows]  # type: ignore[arg-type]
    return {
        "state_stored_mean_bytes": round(float(stored[0] or 0), 1),
        "state_stored_max_bytes": int(stored[1] or 0),
        "values_stored_mean_bytes": round(float(stored[2] or 0), 1),
        "state_json_mean_bytes": round(sum(state_json) / max(1, len(state_json)), 1),
        "state_json_max_bytes": max(state_json, default=0),
        "values_json_mean_bytes": round(sum(values_json) / max(1, len(values_json)), 1),
        "sample_state": as_obj(rows[0][0]) if rows else None,
    }


def growth(
    before: dict[str, dict[str, int]], after: dict[str, dict[str, int]], n: int
) -> dict[str, Any]:
    per_table = {}
    for t, a in after.items():
        b = before.get(t, {"rows": 0, "row_bytes": 0, "disk_bytes": 0})
        per_table[t] = {
            "rows_per_instance": round((a["rows"] - b["rows"]) / n, 2),
            "row_bytes_per_instance": round((a["row_bytes"] - b["row_bytes"]) / n, 1),
            "disk_bytes_per_instance": round((a["disk_bytes"] - b["disk_bytes"]) / n, 1),
        }
    core = ("tickets", "tasks", "task_assignees", "ticket_steps")
    return {
        "per_table": per_table,
        "instance_row_bytes": round(sum(per_table[t]["row_bytes_per_instance"] for t in core), 1),
        "instance_disk_bytes": round(sum(per_table[t]["disk_bytes_per_instance"] for t in core), 1),
        "all_row_bytes": round(sum(v["row_bytes_per_instance"] for v in per_table.values()), 1),
        "all_disk_bytes": round(sum(v["disk_bytes_per_instance"] for v in per_table.values()), 1),
    }


def queued_jobs(ctx: ServiceContext) -> int:
    with ctx.db.engine.connect() as conn:
        return int(
            conn.execute(text("SELECT count(*) FROM jobs WHERE state = 'queued'")).scalar_one()
        )


def bench_services(
    label: str,
    url: str,
    n: int,
    warmup: int,
    threads: int,
    profile_dir: Path | None,
    measure: bool,
    processes: int = 1,
) -> dict[str, Any]:
    """`processes` > 1: that many client processes with `threads` threads each, as
    several server workers would run; each process warms up its own caches first."""
    ctx, actors, setup_s = prepare_services(url, pool_size=max(10, threads))
    try:
        # Warm-up (caches: app registry, statement caches, prepared statements, pool),
        # also counting what each step sends to the database.
        counter = StatementCounter(ctx.db)
        counter.start()
        lat_w: dict[str, list[float]] = {"submit": [], "approve": []}
        cnt_w = {"user_tasks": 0}
        for i in range(n, n + warmup):
            service_instance(ctx, actors, i, lat_w, cnt_w)
        counter.detach()
        steps_w = max(1, warmup + cnt_w["user_tasks"])
        before = storage_snapshot(ctx) if measure else {}
        if processes > 1:
            counts, lat, cpu = run_in_processes(ctx, url, n, warmup, threads, processes)
        else:
            profiling = maybe_profile(profile_dir if threads <= 1 else None, label)
            with profiling, CpuMeter(ctx) as cpu:
                counts, lat = run_services(ctx, actors, range(n), threads)
        result = rates(
            label, n, counts["user_tasks"], n + counts["user_tasks"], counts["wall"], lat
        )
        result["threads"] = threads
        result["processes"] = processes
        result["setup_s"] = round(setup_s, 2)
        result["sql_statements_per_instance"] = round(counter.statements / max(1, warmup), 1)
        result["sql_statements_per_step"] = round(counter.statements / steps_w, 2)
        result["commits_per_step"] = round(counter.commits / steps_w, 2)
        result["client_cpu_ms_per_instance"] = round(cpu.client_s * 1000 / n, 2)
        result["client_cpu_cores"] = round(cpu.client_s / counts["wall"], 2)
        if cpu.server_s is not None:
            result["server_cpu_ms_per_instance"] = round(cpu.server_s * 1000 / n, 2)
            result["server_cpu_cores"] = round(cpu.server_s / counts["wall"], 2)
        with ctx.db.engine.connect() as conn:
            done = conn.execute(
                text("SELECT count(*) FROM tickets WHERE status = 'approved'")
            ).scalar_one()
        expected = n + warmup + (processes * CHILD_WARMUP if processes > 1 else 0)
        if done != expected:
            raise RuntimeError(f"{label}: {done} tickets approved, expected {expected}")
        result["jobs_queued"] = queued_jobs(ctx)
        if measure:
            result["storage"] = growth(before, storage_snapshot(ctx), n)
            result["stored_state"] = state_sizes(ctx)
        return result
    finally:
        ctx.db.dispose()


@contextmanager
def fresh_sqlite() -> Any:
    tmp = Path(tempfile.mkdtemp(prefix="flowdesk-bench-"))
    try:
        yield f"sqlite:///{tmp / 'bench.db'}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def fresh_pg(url: str, keep: bool) -> Any:
    target = make_url(url)
    name = target.database or "flowdesk_bench"
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    drop()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield target.render_as_string(hide_password=False)
    finally:
        if not keep:
            drop()
        admin.dispose()


# ---------------------------------------------------------------------------- profiling


@contextmanager
def maybe_profile(directory: Path | None, label: str) -> Any:
    if directory is None:
        yield
        return
    directory.mkdir(parents=True, exist_ok=True)
    profiler = cProfile.Profile(time.process_time)  # CPU, not waiting for the server
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        stem = label.replace("/", "_")
        profiler.dump_stats(directory / f"{stem}.prof")
        with (directory / f"{stem}.txt").open("w") as fh:
            stats = pstats.Stats(profiler, stream=fh).strip_dirs()
            fh.write(f"# {label}: top functions by own time\n")
            stats.sort_stats("tottime").print_stats(40)
            fh.write(f"\n# {label}: top functions by cumulative time\n")
            stats.sort_stats("cumulative").print_stats(60)


# ---------------------------------------------------------------------------- SpiffWorkflow


def run_spiff(python: Path, mode: str, n: int) -> dict[str, Any]:
    script = PEERS / "bench_spiff.py"
    cmd = [
        str(python),
        str(script),
        "--mode",
        mode,
        "-n",
        str(n),
        "--bpmn",
        str(PEERS / "loan.bpmn"),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr}")
    result = json.loads(done.stdout)
    result["command"] = " ".join(cmd)
    return result


# ---------------------------------------------------------------------------- report


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.1f}×" if a and b else "–"


def print_report(report: dict[str, Any]) -> None:
    rows: list[dict[str, Any]] = []
    spiff = report.get("spiff", {})
    eng = report.get("engine", {})
    for key in ("plain", "persist"):
        if key in spiff:
            s = spiff[key]
            rows.append(
                {
                    "mode": f"spiff/{key}",
                    "instances_per_s": s["instances_per_s"],
                    "user_tasks_per_s": s["user_tasks_per_s"],
                    "latency": {
                        "instance": {
                            "p50_ms": s["per_instance_p50_ms"],
                            "p99_ms": s["per_instance_p95_ms"],
                        }
                    },
                    "note": "per-instance p50/p95",
                }
            )
    for key in ("plain", "persist"):
        if key in eng:
            rows.append(eng[key])
    rows.extend(report.get("services", []))
    code, machine = report.get("code", {}), report.get("machine", {})
    print()
    print(
        f"flowdesk {code.get('commit')}"
        f" (+{len(code.get('uncommitted_files_on_path', []))} uncommitted files in"
        f" engines/services/store/kernel), {machine.get('nproc')} CPUs,"
        f" Python {machine.get('python')},"
        f" load avg {machine.get('load_avg_at_start', [0])[0]:.2f} at start"
    )
    print(
        f"{'mode':<16}{'inst/s':>9}{'tasks/s':>9}{'steps/s':>9}  latency p50/p99 ms per step kind"
    )
    for r in rows:
        lat = "  ".join(
            f"{k} {v['p50_ms']:.3f}/{v['p99_ms']:.3f}" for k, v in r.get("latency", {}).items()
        )
        steps = r.get("steps_per_s", "")
        print(
            f"{r['mode']:<16}{r['instances_per_s']:>9}{r['user_tasks_per_s']:>9}{steps!s:>9}  {lat}"
            + (f"  ({r['note']})" if r.get("note") else "")
        )
    if len(next(iter(report.get("rounds", {"": [0]}).values()))) > 1:
        print()
        print("instances/s per round (the table shows each mode's median round):")
        for mode, values in report["rounds"].items():
            print(f"  {mode:<16}" + "".join(f"{v:>10}" for v in values))
    print()
    for line in report.get("ratios", []):
        print(line)
    services = report.get("services", [])
    if services:
        print()
        print(
            f"{'mode':<16}{'stmts/step':>11}{'commits/step':>13}{'client CPU':>12}"
            f"{'server CPU':>12}{'cores used':>12}{'jobs queued':>12}"
        )
        for r in services:
            server = r.get("server_cpu_ms_per_instance")
            cores = r["client_cpu_cores"] + (r.get("server_cpu_cores") or 0)
            print(
                f"{r['mode']:<16}{r['sql_statements_per_step']:>11}{r['commits_per_step']:>13}"
                f"{r['client_cpu_ms_per_instance']:>9} ms"
                + (f"{server:>9} ms" if server is not None else f"{'–':>12}")
                + f"{cores:>12.2f}{r['jobs_queued']:>12}"
            )
        print("(CPU per instance; cores used = (client + server CPU) / wall)")
    for r in services:
        if "stored_state" in r:
            st, sg = r["stored_state"], r["storage"]
            print(
                f"{r['mode']}: finished instance state {st['state_stored_mean_bytes']} B as stored"
                f" ({st['state_json_mean_bytes']} B compact JSON), values"
                f" {st['values_stored_mean_bytes']} B ({st['values_json_mean_bytes']} B JSON);"
                " rows per instance (tickets, tasks, assignees, steps)"
                f" {sg['instance_row_bytes']} B,"
                f" on disk incl. indexes {sg['instance_disk_bytes']} B; with audit+jobs"
                f" {sg['all_row_bytes']} B / {sg['all_disk_bytes']} B"
            )


def client_spec(spec: str) -> tuple[int, int]:
    """ "4" is one process of 4 threads, "2x4" two processes of 4 threads each."""
    procs, _, threads = spec.rpartition("x")
    return int(procs or 1), int(threads)


def run_round(
    args: argparse.Namespace,
    n: int,
    sn: int,
    threads: Sequence[int],
    say: Callable[[str], None],
    profile: Path | None,
) -> dict[str, Any]:
    """Every mode once, Spiff interleaved with flowdesk so drifting load hits both alike."""
    out: dict[str, Any] = {"spiff": {}, "services": []}
    if not args.skip_spiff:
        say(f"SpiffWorkflow plain, n={n}")
        out["spiff"]["plain"] = run_spiff(args.spiff_python, "plain", n)
    if not args.skip_engine:
        say(f"flowdesk engine plain + persist, n={n}")
        out["engine"] = bench_engine(n, args.warmup, profile)
    if not args.skip_spiff:
        say(f"SpiffWorkflow persist, n={n}")
        out["spiff"]["persist"] = run_spiff(args.spiff_python, "persist", n)
    if not args.skip_sqlite:
        for j, k in enumerate(int(c) for c in args.sqlite_clients.split(",") if c.strip()):
            say(f"services on SQLite, {k} client thread(s), n={sn}")
            with fresh_sqlite() as url:
                out["services"].append(
                    bench_services(f"sqlite/{k}", url, sn, args.warmup, k, profile, j == 0)
                )
    if not args.skip_pg:
        for j, clients in enumerate(threads):
            procs, k = client_spec(clients)
            say(f"services on PostgreSQL, {procs} process(es) x {k} thread(s), n={sn}")
            with fresh_pg(args.pg_url, args.keep_db) as url:
                out["services"].append(
                    bench_services(f"pg/{clients}", url, sn, args.warmup, k, profile, j == 0, procs)
                )
    return out


def _median(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median instances/s (the lower middle one for an even count)."""
    ordered = sorted(results, key=lambda r: r["instances_per_s"])
    return ordered[(len(ordered) - 1) // 2]


def merge_rounds(report: dict[str, Any], rounds: list[dict[str, Any]]) -> None:
    """Each mode's median round into the report; every round's instances/s in `rounds`."""
    per_mode: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rnd in rounds:
        for key, res in rnd["spiff"].items():
            per_mode[f"spiff/{key}"].append(res)
        for key in ("plain", "persist"):
            if key in rnd.get("engine", {}):
                per_mode[f"engine/{key}"].append(rnd["engine"][key])
        for res in rnd["services"]:
            per_mode[res["mode"]].append(res)
    report["rounds"] = {m: [r["instances_per_s"] for r in rs] for m, rs in per_mode.items()}
    spiff = {k.split("/")[1]: _median(v) for k, v in per_mode.items() if k.startswith("spiff/")}
    if spiff:
        report["spiff"] = spiff
    if "engine" in rounds[0]:
        engine = {k: v for k, v in rounds[0]["engine"].items() if k not in ("plain", "persist")}
        for key in ("plain", "persist"):
            engine[key] = _median(per_mode[f"engine/{key}"])
        report["engine"] = engine
    report["services"] = [
        _median(rs) for m, rs in per_mode.items() if not m.startswith(("spiff/", "engine/"))
    ]


def code_version() -> dict[str, Any]:
    """Which flowdesk ran: the commit, and whether src/ had uncommitted changes."""
    import flowdesk

    src = Path(flowdesk.__file__).resolve().parents[1]

    def git(*cmd: str) -> str:
        done = subprocess.run(["git", *cmd], cwd=src, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    # Uncommitted changes to the code the bench runs (the web layer is not on its path).
    hot = ["flowdesk/engines", "flowdesk/services", "flowdesk/store", "flowdesk/kernel"]
    dirty = git("status", "--porcelain", "--", *hot)
    return {
        "flowdesk_src": str(src),
        "commit": git("rev-parse", "--short", "HEAD") or "(not a git checkout)",
        "uncommitted_files_on_path": [ln.split(maxsplit=1)[-1] for ln in dirty.splitlines()],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=2000, help="instances for the engine and Spiff modes")
    ap.add_argument("--services-n", type=int, help="instances for the services modes (default -n)")
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=1, help="rounds; each mode reports its median")
    ap.add_argument(
        "--clients",
        default="1,4,8",
        help="PostgreSQL runs: client threads of each, e.g. 1,4,8; PxK = P processes of K threads",
    )
    ap.add_argument("--pg-url", default=os.environ.get("FLOWDESK_BENCH_PG_URL", DEFAULT_PG_URL))
    ap.add_argument("--skip-pg", action="store_true")
    ap.add_argument("--skip-sqlite", action="store_true")
    ap.add_argument(
        "--sqlite-clients",
        default="1",
        help="SQLite runs: client threads of each, e.g. 1,4 (writers queue in the process)",
    )
    ap.add_argument("--skip-engine", action="store_true")
    ap.add_argument("--skip-spiff", action="store_true")
    ap.add_argument("--spiff-python", type=Path, default=HERE / ".venv-peers" / "bin" / "python")
    ap.add_argument("--keep-db", action="store_true", help="do not drop the PG bench database")
    ap.add_argument("--profile", type=Path, help="write cProfile stats of each mode here")
    ap.add_argument("--json", type=Path, help="also write the full report here")
    args = ap.parse_args(argv)
    n = args.n
    sn = args.services_n or n
    threads = [t.strip() for t in args.clients.split(",") if t.strip()]
    for spec in threads:
        client_spec(spec)  # refuse a bad spec before anything runs

    report: dict[str, Any] = {
        "machine": {
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_avg_at_start": os.getloadavg(),
        },
        "code": code_version(),
        "args": vars(args)
        | {
            "spiff_python": str(args.spiff_python),
            "profile": str(args.profile),
            "json": str(args.json),
        },
        "services": [],
    }

    def say(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    if not args.skip_spiff and not args.spiff_python.exists():
        raise SystemExit(f"{args.spiff_python} missing: run bash bench/setup.sh first")
    rounds = []
    for r in range(args.repeat):
        say(f"round {r + 1} of {args.repeat}")
        rounds.append(run_round(args, n, sn, threads, say, args.profile if r == 0 else None))
    merge_rounds(report, rounds)

    # Ratios against SpiffWorkflow and the targets.
    spiff = report.get("spiff", {})
    sp_plain = spiff.get("plain", {}).get("instances_per_s")
    sp_persist = spiff.get("persist", {}).get("instances_per_s")
    eng = report.get("engine", {})
    svc = {r["mode"]: r for r in report["services"]}
    pg_best = max(
        (r for m, r in svc.items() if m.startswith("pg/")),
        key=lambda r: r["instances_per_s"],
        default=None,
    )
    lines = []
    targets: dict[str, Any] = {}
    if "plain" in eng:
        v = eng["plain"]["instances_per_s"]
        lines.append(f"engine/plain   / spiff/plain   = {ratio(v, sp_plain)}  (target ≥ 25×)")
        targets["engine_plain_vs_spiff_plain"] = {
            "ratio": v / sp_plain if sp_plain else None,
            "target": 25,
        }
    if "persist" in eng:
        v = eng["persist"]["instances_per_s"]
        lines.append(f"engine/persist / spiff/persist = {ratio(v, sp_persist)}")
        targets["engine_persist_vs_spiff_persist"] = {
            "ratio": v / sp_persist if sp_persist else None
        }
    if "sqlite/1" in svc:
        v = svc["sqlite/1"]["instances_per_s"]
        lines.append(f"sqlite/1       / spiff/persist = {ratio(v, sp_persist)}  (target ≥ 4×)")
        targets["sqlite_vs_spiff_persist"] = {
            "ratio": v / sp_persist if sp_persist else None,
            "target": 4,
        }
    if pg_best is not None:
        v = pg_best["instances_per_s"]
        lines.append(
            f"best PG ({pg_best['mode']}) = {v} instances/s (target ≥ 420/s);"
            f" / spiff/persist = {ratio(v, sp_persist)}"
        )
        targets["pg_best"] = {"mode": pg_best["mode"], "instances_per_s": v, "target": 420}
    for r in report["services"]:
        if "stored_state" in r:
            targets[f"{r['mode']}_state_bytes"] = {
                "mean": r["stored_state"]["state_stored_mean_bytes"],
                "target_max": 2048,
            }
    report["ratios"] = lines
    report["targets"] = targets
    report["machine"]["load_avg_at_end"] = os.getloadavg()
    print_report(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
