#!/usr/bin/env python3
"""What the bench database's PostgreSQL backends are doing, sampled while a bench runs.

Polls pg_stat_activity every few milliseconds for the backends connected to the bench
database and prints how often each was active on CPU, waiting for the client, or
waiting on a lock (and on which statement), so lock convoys show up:

  .venv/bin/python bench/engine.py --services-n 2000 --skip-spiff --skip-engine \\
      --skip-sqlite --clients 8 &
  .venv/bin/python bench/pg_waits.py --seconds 20
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter

import psycopg

QUERY = """
SELECT state, coalesce(wait_event_type, 'CPU'), coalesce(wait_event, 'running'), query
FROM pg_stat_activity
WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'
"""


def shorten(query: str) -> str:
    query = re.sub(r"\s+", " ", query).strip()
    return query[:90]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--database", default="flowdesk_bench")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--interval", type=float, default=0.005)
    args = ap.parse_args()

    states: Counter[tuple[str, str, str]] = Counter()
    waiting_on: Counter[tuple[str, str]] = Counter()
    samples = 0
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            rows = conn.execute(QUERY, (args.database,)).fetchall()
            if rows:
                samples += 1
            for state, wtype, wevent, query in rows:
                states[(state or "?", wtype, wevent)] += 1
                if state == "active" and wtype == "Lock":
                    waiting_on[(wevent, shorten(query or ""))] += 1
            time.sleep(args.interval)
    if not samples:
        print("no backends seen", file=sys.stderr)
        return 1
    total = sum(states.values())
    print(f"{samples} samples, {total / samples:.1f} backends on average\n")
    print("backend state (share of backend-samples):")
    for (state, wtype, wevent), count in states.most_common(15):
        print(f"  {100 * count / total:5.1f}%  {state:<20} {wtype:<10} {wevent}")
    if waiting_on:
        print("\nlock waits by statement:")
        for (wevent, query), count in waiting_on.most_common(8):
            print(f"  {100 * count / total:5.1f}%  {wevent:<14} {query}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
