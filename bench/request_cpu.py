#!/usr/bin/env python3
"""CPU per request of the read scenarios, in one process, without HTTP or wrk.

`bench/http_load.py` measures whole servers under `wrk`; on a shared, noisy host its
req/s move by a third between minutes. This drives the same ASGI application in
process (the scenarios and the seeded database of http_load.py, requests made as
ASGI calls, the answer checked for 200) and divides the process's CPU time (all
threads) by the requests: a figure that moves far less with the host's load, for
comparing a change. Not a throughput: uvicorn's parsing and the socket are not in it.

Usage (from the repository root):
  .venv/bin/python bench/request_cpu.py [--db sqlite,pg] [--tickets 2000] [-n 1500]
      [--rounds 3] [--only inbox/web,ticket/api] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import http_load

from flowdesk.main import create_app
from flowdesk.settings import Settings


def _scope(line: str) -> dict[str, Any]:
    method, path, header, value = line.split("\t")[:4]
    route, _, query = path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"localhost"), (header.lower().encode(), value.encode())],
        "client": ("127.0.0.1", 40000),
        "server": ("localhost", 80),
    }


async def _request(app: Any, line: str) -> int:
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(_scope(line), receive, send)
    return status[0]


async def _measure(app: Any, lines: list[str], n: int, rounds: int) -> list[float]:
    for i in range(50):  # templates compiled, caches warm
        status = await _request(app, lines[i % len(lines)])
        if status != 200:
            raise SystemExit(f"{lines[0].split()[1]} answered {status}")
    figures = []
    for _ in range(rounds):
        start = time.process_time()
        for i in range(n):
            await _request(app, lines[i % len(lines)])
        figures.append(1000 * (time.process_time() - start) / n)
    return figures


def bench(kind: str, args: argparse.Namespace) -> None:
    with http_load.fresh_database(kind, args.pg_url) as url:
        workload = http_load.seed(url, args.tickets)
        app = create_app(Settings(dev=True, run_worker=False, database_url=url), migrate=False)
        print(f"{kind}: CPU ms per request, {args.n} requests × {args.rounds} rounds")
        print("| scenario | min | median | max |\n| --- | ---: | ---: | ---: |")

        async def run_all() -> None:
            async with app.router.lifespan_context(app):
                for scenario in http_load.read_scenarios(workload):
                    if args.only and scenario.name not in args.only:
                        continue
                    got = await _measure(app, scenario.lines, args.n, args.rounds)
                    print(
                        f"| {scenario.name} | {min(got):.3f} | **{statistics.median(got):.3f}**"
                        f" | {max(got):.3f} |"
                    )

        asyncio.run(run_all())
        app.state.ctx.db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="sqlite,pg")
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("-n", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", type=lambda s: set(s.split(",")), default=None)
    parser.add_argument("--pg-url", default=http_load.DEFAULT_PG_URL)
    args = parser.parse_args()
    for kind in args.db.split(","):
        bench(kind, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
