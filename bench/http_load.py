#!/usr/bin/env python3
"""HTTP speed: real `flowdesk serve` processes driven by Debian's `wrk`, SQLite and PostgreSQL.

For each database a fresh one is made (a temporary SQLite file; a new PostgreSQL
database), migrated, filled with the demo bank and `--tickets` loans filed through the
services (half small: a task for the branch head; half large: legal ∥ finance, and some
taken on to the committee and disbursement), so every approver holds ≥ 20 open tasks
and lists page over thousands of rows. Sessions (cookie + CSRF) and API tokens are made
through `services.auth`, as logging in would. Then `flowdesk serve --workers N` starts,
and `wrk` measures, in `--rounds` interleaved rounds:

  inbox/web      GET /tasks                    (the inbox page, 20 rows)
  inbox/api      GET /api/v1/tasks?limit=20
  ticket/web     GET /tickets/{id}             (rotating over the approver's tickets)
  ticket/api     GET /api/v1/tickets/{id}
  me/api         GET /api/v1/me
  approve/api    POST /api/v1/tasks/{id}/approve, bearer token, a new open task each time
  approve/web    POST /tasks/{id}/approve, session cookie + CSRF field (with --web-approvals)

Prints req/s (min / median / max over the rounds) and p50 / p99 from wrk's latency
distribution. `--ab SRC` also serves the same database from another source tree (e.g.
`git archive <commit> src | tar -x -C /tmp/base`) on a second port and measures the two
alternately, A B A B …, printing the ratio B/A pair by pair: the way to compare a change
on a noisy, shared machine.

Usage (from the repository root; `bash bench/setup.sh` installs wrk):
  .venv/bin/python bench/http_load.py [--db sqlite,pg] [--workers 2] [--tickets 6000]
      [--rounds 3] [--duration 5] [--connections 32] [--pg-url URL] [--ab SRC] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from flowdesk.engines.access import Actor
from flowdesk.services import auth, demo, tickets
from flowdesk.services.bootstrap import build_context, migrate_database
from flowdesk.services.context import ServiceContext, fast_hasher

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FLOWDESK = ROOT / ".venv" / "bin" / "flowdesk"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/flowdesk_http_bench"
SMALL, LARGE = "20000.00", "120000.00"  # the loan's gateway: amount <= 50000
ACTING_USER = {
    "legal_review": "wang.fang",
    "finance_review": "liu.yang",
    "committee": "chen.jing",
    "disburse": "zhao.lei",
}
BRANCH_STAFF = [(p.username, p.manager or "") for p in demo.BRANCHES if not p.head]

# One Lua script for every scenario: each wrk thread takes its own share of the lines of
# a requests file (method, path, header, header value, body; tab-separated) and sends
# them in turn, cycling for reads, once for approvals (a task is approved once).
LUA = r"""
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local reqs = {}
local idx = 0
function init(args)
  local nthreads = tonumber(args[2])
  local i = 0
  for line in io.lines(args[1]) do
    if i % nthreads == tid then
      local method, path, hname, hvalue, body =
        line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t?(.*)$")
      local headers = {}
      headers[hname] = hvalue
      if body ~= "" then
        headers["Content-Type"] = (hname == "Cookie") and "application/x-www-form-urlencoded"
                                  or "application/json"
      else
        body = nil
      end
      table.insert(reqs, wrk.format(method, path, headers, body))
    end
    i = i + 1
  end
end

function request()
  idx = idx % #reqs + 1
  return reqs[idx]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "non2xx3xx": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
"""


@dataclass
class Workload:
    """What the seeded database holds for the scenarios."""

    reader: str  # the approver whose inbox and tickets are read
    cookie: str  # "flowdesk_session=…"
    bearer: str  # "Bearer fdk_…"
    ticket_ids: list[str]
    # (task id, username) of open tasks, in the order they are handed to approvals
    pool: list[tuple[str, str]]
    sessions: dict[str, tuple[str, str]] = field(default_factory=dict)  # user → cookie, csrf
    tokens: dict[str, str] = field(default_factory=dict)  # user → bearer header
    open_tasks: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def seed(url: str, n_tickets: int) -> Workload:
    t0 = time.perf_counter()
    ctx = build_context(url)
    migrate_database(ctx)
    ctx.hasher = fast_hasher()  # only the demo passwords; nobody logs in with them here
    demo.load(ctx)
    actors = {
        p.username: auth.authenticate(ctx, username=p.username, password=demo.DEMO_PASSWORD)
        for p in demo.PEOPLE
    }
    small: list[tuple[str, str]] = []  # (branch_review task, head)
    large: list[tuple[str, str]] = []  # (legal task, finance task)
    reader_tickets: dict[str, list[str]] = {}
    for i in range(n_tickets):
        applicant, head = BRANCH_STAFF[i % len(BRANCH_STAFF)]
        big = i % 2 == 1
        outcome = tickets.submit(
            ctx, actor=actors[applicant], app_key="loan", values=_values(i, big)
        )
        opened = list(outcome.opened_task_ids)
        if big:
            large.append((opened[0], opened[1]))
        else:
            small.append((opened[0], head))
            reader_tickets.setdefault(head, []).append(outcome.ticket_id)
    # Take some large loans on, so the committee and disbursement hold open tasks too.
    for legal, finance in large[:60]:
        _approve(ctx, actors["wang.fang"], legal)
        _approve(ctx, actors["liu.yang"], finance)
    committee = _open_tasks(ctx, actors["chen.jing"])
    for task_id in committee[:30]:
        _approve(ctx, actors["chen.jing"], task_id)
    pool: list[tuple[str, str]] = []
    for (branch_task, head), (legal, finance) in zip(small, large[60:], strict=False):
        pool += [(branch_task, head), (legal, "wang.fang"), (finance, "liu.yang")]
    reader = max(reader_tickets, key=lambda user: len(reader_tickets[user]))
    workload = Workload(
        reader=reader,
        cookie="",
        bearer="",
        # The reader's own tickets, last filed first: not the ones approvals start with.
        ticket_ids=reader_tickets[reader][::-1][:200],
        pool=pool,
    )
    for user in {*ACTING_USER.values(), *(head for _, head in small)}:
        session = auth.start_session(ctx, actors[user])
        workload.sessions[user] = (f"flowdesk_session={session.token}", session.csrf_token)
        workload.tokens[user] = "Bearer " + auth.create_token(ctx, actors[user], name="bench")
        workload.open_tasks[user] = len(_open_tasks(ctx, actors[user], limit=100))
    # The submits and approvals above queued notification jobs; deliver them now, or the
    # server's job loop would work off thousands during the first measurements.
    from flowdesk.services import jobs

    while True:
        ran = jobs.run_due(ctx, owner="bench-seed", batch=200)
        if ran.done + ran.failed + ran.lost == 0:
            break
    workload.cookie = workload.sessions[reader][0]
    workload.bearer = workload.tokens[reader]
    ctx.db.dispose()
    workload.seconds = time.perf_counter() - t0
    return workload


def _values(i: int, big: bool) -> dict[str, object]:
    return {
        "applicant_name": f"客户{i:06d}",
        "amount": LARGE if big else SMALL,
        "term_months": (12, 24, 36, 60, 120)[i % 5],
        "credit_rating": ("A", "B", "C")[i % 3],
        "region": ("north", "south", "east", "west", "central")[i % 5],
        "purpose": "流动资金周转 working capital for the next season",
    }


def _approve(ctx: ServiceContext, actor: Actor, task_id: str) -> list[str]:
    return list(tickets.approve(ctx, actor=actor, task_id=task_id, comment="同意").opened_task_ids)


def _open_tasks(ctx: ServiceContext, actor: Actor, limit: int = 100) -> list[str]:
    from flowdesk.services import views

    page = views.my_tasks(ctx, actor, cursor=None, limit=limit, locale="en")
    return [t.id for t in page.items]


# ---------------------------------------------------------------------------- databases


@contextmanager
def fresh_database(kind: str, pg_url: str) -> Iterator[str]:
    if kind == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix="flowdesk-http-"))
        try:
            yield f"sqlite:///{tmp / 'bench.db'}"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    target = make_url(pg_url)
    name = target.database or "flowdesk_http_bench"
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield target.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# ---------------------------------------------------------------------------- servers


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(url: str, workers: int, src: Path | None, extra: Sequence[str]) -> Iterator[int]:
    """`flowdesk serve --workers N` on a free port (from another source tree with `src`)."""
    port = _free_port()
    env = {**os.environ, "FLOWDESK_DATABASE_URL": url, "FLOWDESK_DEV": "1"}
    env.pop("FLOWDESK_SECRET_KEY", None)
    command = [str(FLOWDESK)]
    if src is not None:
        env["PYTHONPATH"] = str(src)
        command = [sys.executable, "-c", "from flowdesk.cli import main; main()"]
    command += ["serve", "--dev", "--port", str(port), *extra]
    if workers > 1:
        command += ["--workers", str(workers)]
    log = Path(tempfile.mkstemp(prefix="flowdesk-http-serve-", suffix=".log")[1])
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"serve exited: {log.read_text()[-2000:]}")
            with suppress(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=2)
                break
            if time.monotonic() > deadline:
                raise RuntimeError("serve did not answer within 90 s")
            time.sleep(0.3)
        SERVER_PIDS[port] = proc.pid
        yield port
    finally:
        SERVER_PIDS.pop(port, None)
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.unlink(missing_ok=True)


# ---------------------------------------------------------------------------- wrk

SERVER_PIDS: dict[int, int] = {}  # port → the `flowdesk serve` process
TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its descendants (from /proc): the server's
    own cost per request, which other load on a shared machine changes far less than
    req/s."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        with suppress(OSError):
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
    return total


@dataclass(frozen=True)
class Scenario:
    name: str
    lines: list[str]  # method \t path \t header \t value \t body
    once: bool = False  # approvals: each line is used once


def read_scenarios(w: Workload) -> list[Scenario]:
    def get(path: str, web: bool) -> str:
        return f"GET\t{path}\t" + (f"Cookie\t{w.cookie}" if web else f"Authorization\t{w.bearer}")

    return [
        Scenario("inbox/web", [get("/tasks", True)]),
        Scenario("inbox/api", [get("/api/v1/tasks?limit=20", False)]),
        Scenario("ticket/web", [get(f"/tickets/{t}", True) for t in w.ticket_ids]),
        Scenario("ticket/api", [get(f"/api/v1/tickets/{t}", False) for t in w.ticket_ids]),
        Scenario("me/api", [get("/api/v1/me", False)]),
    ]


def approval_lines(w: Workload, count: int, web: bool) -> list[str]:
    lines = []
    for task_id, user in w.pool[:count]:
        if web:
            cookie, csrf = w.sessions[user]
            body = f"csrf_token={csrf}&comment=ok"
            lines.append(f"POST\t/tasks/{task_id}/approve\tCookie\t{cookie}\t{body}")
        else:
            body = '{"comment": "ok"}'
            lines.append(
                f"POST\t/api/v1/tasks/{task_id}/approve\tAuthorization\t{w.tokens[user]}\t{body}"
            )
    del w.pool[:count]
    return lines


def run_wrk(
    port: int, scenario: Scenario, *, duration: float, connections: int, threads: int, tmp: Path
) -> dict[str, Any]:
    requests_file = tmp / f"{scenario.name.replace('/', '_')}.tsv"
    requests_file.write_text("\n".join(scenario.lines) + "\n", encoding="utf-8")
    script = tmp / "bench.lua"
    script.write_text(LUA, encoding="utf-8")
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
        "--",
        str(requests_file),
        str(threads),
    ]
    cpu0 = tree_cpu_seconds(SERVER_PIDS[port]) if port in SERVER_PIDS else 0.0
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    cpu1 = tree_cpu_seconds(SERVER_PIDS[port]) if port in SERVER_PIDS else 0.0
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr}{done.stdout}")
    out = done.stdout
    found = re.search(r"^BENCH (\{.*\})$", out, re.M)
    if not found:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    result: dict[str, Any] = json.loads(found.group(1))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["cpu_ms"] = (cpu1 - cpu0) * 1000 / max(1, result["requests"])
    if scenario.once and result["requests"] > len(scenario.lines):
        result["pool_exhausted"] = True
    return result


# ---------------------------------------------------------------------------- report


def spread(values: Sequence[float]) -> str:
    return f"{min(values):,.0f} / {statistics.median(values):,.0f} / {max(values):,.0f}"


def print_table(title: str, rows: dict[str, list[dict[str, Any]]]) -> None:
    print(f"\n{title}")
    print(
        "| scenario | req/s median | min / median / max | p50 ms | p99 ms (min–max) "
        "| server CPU ms/req | non-2xx/3xx |"
    )
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
    for name, results in rows.items():
        rps = [r["rps"] for r in results]
        p50 = statistics.median(r["p50_us"] for r in results) / 1000
        p99s = [r["p99_us"] / 1000 for r in results]
        bad = sum(r["non2xx3xx"] + r["socket_errors"] for r in results)
        flag = " (pool ran out)" if any(r.get("pool_exhausted") for r in results) else ""
        p99 = f"{statistics.median(p99s):.1f} ({min(p99s):.1f}–{max(p99s):.1f})"
        print(
            f"| {name} | **{statistics.median(rps):,.0f}** | {spread(rps)} | {p50:.1f} | {p99} "
            f"| {statistics.median(r['cpu_ms'] for r in results):.2f} | {bad}{flag} |"
        )


def print_ratios(title: str, a: dict[str, list[dict[str, Any]]], b: dict[str, Any]) -> None:
    print(f"\n{title}: B/A req/s ratio pair by pair (min / median / max), then A and B medians")
    print(
        "| scenario | B/A req/s min / median / max | B/A CPU per request min / median / max "
        "| A req/s | B req/s | A p99 ms | B p99 ms |"
    )
    print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
    for name in a:
        ratios = [rb["rps"] / ra["rps"] for ra, rb in zip(a[name], b[name], strict=True)]
        cpu = [rb["cpu_ms"] / ra["cpu_ms"] for ra, rb in zip(a[name], b[name], strict=True)]
        print(
            f"| {name} | {min(ratios):.2f} / **{statistics.median(ratios):.2f}** / "
            f"{max(ratios):.2f} | {min(cpu):.2f} / **{statistics.median(cpu):.2f}** / "
            f"{max(cpu):.2f} | {statistics.median(r['rps'] for r in a[name]):,.0f} "
            f"| {statistics.median(r['rps'] for r in b[name]):,.0f} "
            f"| {statistics.median(r['p99_us'] for r in a[name]) / 1000:.1f} "
            f"| {statistics.median(r['p99_us'] for r in b[name]) / 1000:.1f} |"
        )


def bench_database(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    workers = args.workers
    with fresh_database(kind, args.pg_url) as url:
        print(f"[{kind}] seeding {args.tickets} tickets …", file=sys.stderr, flush=True)
        w = seed(url, args.tickets)
        print(
            f"[{kind}] seeded in {w.seconds:.0f} s; reader {w.reader}; approval pool "
            f"{len(w.pool)}; open tasks (first 100 counted): {w.open_tasks}",
            file=sys.stderr,
            flush=True,
        )
        extra = ["--no-worker"] if args.no_worker else []
        results: dict[str, dict[str, list[dict[str, Any]]]] = {"A": {}, "B": {}}
        with (
            server(url, workers, args.a, extra) as port_a,
            _maybe_server(url, workers, args.ab, extra) as port_b,
            tempfile.TemporaryDirectory() as tmp,
        ):
            ports = {"A": port_a} | ({"B": port_b} if port_b else {})
            reads = read_scenarios(w)
            wanted = [s for s in reads if not args.only or s.name in args.only]
            approvals = ["approve/api"] + (["approve/web"] if args.web_approvals else [])
            approvals = [a for a in approvals if not args.only or a in args.only]
            for scenario in wanted:  # warm-up: templates compiled, pools filled, caches hot
                for port in ports.values():
                    run_wrk(port, scenario, duration=1, connections=8, threads=1, tmp=Path(tmp))
            # The pool shared out evenly: each run gets its own tasks, never one twice.
            per_run = len(w.pool) // (args.rounds * max(1, len(approvals)) * len(ports))
            for round_no in range(args.rounds):
                for scenario in wanted:
                    for label, port in ports.items():
                        r = run_wrk(
                            port,
                            scenario,
                            duration=args.duration,
                            connections=args.connections,
                            threads=args.threads,
                            tmp=Path(tmp),
                        )
                        results[label].setdefault(scenario.name, []).append(r)
                for name in approvals:
                    for label, port in ports.items():
                        lines = approval_lines(w, per_run, web=name.endswith("web"))
                        if len(lines) < per_run:
                            print(f"[{kind}] approval pool exhausted", file=sys.stderr)
                        s = Scenario(name, lines, once=True)
                        r = run_wrk(
                            port,
                            s,
                            duration=args.approval_duration,
                            connections=args.write_connections,
                            threads=args.threads,
                            tmp=Path(tmp),
                        )
                        results[label].setdefault(name, []).append(r)
                print(f"[{kind}] round {round_no + 1} done", file=sys.stderr, flush=True)
        title = f"{kind}: flowdesk serve --workers {workers}, {args.tickets} tickets"
        print_table(title + (f" (A: {args.a or 'this tree'})" if args.ab else ""), results["A"])
        if args.ab:
            print_table(title + f" (B: {args.ab})", results["B"])
            print_ratios(title, results["A"], results["B"])
        return {"workload": {"reader": w.reader, "open_tasks": w.open_tasks}, **results}


@contextmanager
def _maybe_server(url: str, workers: int, src: Path | None, extra: Sequence[str]) -> Iterator[int]:
    if src is None:
        yield 0
        return
    with server(url, workers, src, extra) as port:
        yield port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="sqlite,pg", help="sqlite, pg or both (comma)")
    parser.add_argument("--pg-url", default=os.environ.get("FLOWDESK_BENCH_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--no-worker", action="store_true", help="serve --no-worker")
    parser.add_argument("--tickets", type=int, default=6000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32, help="wrk -c for reads")
    parser.add_argument("--write-connections", type=int, default=8, help="wrk -c, approvals")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument(
        "--approval-duration", type=float, default=3.0, help="seconds per approvals run"
    )
    parser.add_argument("--web-approvals", action="store_true", help="also approve/web")
    parser.add_argument("--only", type=lambda s: set(s.split(",")), default=None)
    parser.add_argument("--ab", type=Path, default=None, help="B: another tree's src/")
    parser.add_argument("--a", type=Path, default=None, help="A: serve this src/ (default: ours)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed: bash bench/setup.sh")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    print(
        f"flowdesk {commit}, {os.cpu_count()} CPUs; wrk -t{args.threads} "
        f"-c{args.connections} (approvals -c{args.write_connections}) -d{args.duration}s"
    )
    report = {}
    for kind in args.db.split(","):
        report[kind] = bench_database(kind.strip(), args)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
