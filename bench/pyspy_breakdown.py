#!/usr/bin/env python3
"""Where a services run spends its time, from a py-spy raw (collapsed) profile.

Record the measured part of a bench run with py-spy (installed by
`bash bench/setup.sh --profiler`), then break the samples down:

  bench/.venv-peers/bin/py-spy record --idle -r 500 -f raw -o bench/out/sqlite.txt -- \\
      .venv/bin/python bench/engine.py --services-n 1000 --skip-spiff --skip-engine --skip-pg
  .venv/bin/python bench/pyspy_breakdown.py bench/out/sqlite.txt

Only samples under `run_services` (the timed loop) count. `--idle` keeps the samples
where the thread waits for PostgreSQL's answers, so the DB wait shows up.
Prints two tables: by the innermost frame's area (what kind of work the CPU did),
and inclusive by the flowdesk function on the stack (which of our calls caused it).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]*)(?::\d+)?\)$")

SQLA_BUILD = (
    "selectable.py",
    "dml.py",
    "coercions.py",
    "operators.py",
    "default_comparator.py",
    "_elements_constructors.py",
)


def area(func: str, path: str) -> str:
    """The kind of work the innermost frame `func` in file `path` does."""
    if "psycopg" in path:
        if "wait" in func:
            return "PG: waiting for the server (psycopg wait)"
        return "PG: psycopg driver (send, adapt, load rows)"
    if path.endswith("engine/default.py") and func.endswith("do_commit"):
        return "DB driver call: commit"
    if path.endswith("engine/default.py") and ".do_execute" in func:
        return "DB driver call: execute (sqlite3 C code)"
    if "sqlalchemy/sql/" in path:
        if any(name in path for name in SQLA_BUILD):
            return "SQLAlchemy: statement building (select/update/values)"
        return "SQLAlchemy: compile + cache key"
    if "sqlalchemy/" in path:
        return "SQLAlchemy: execute, params, result rows"
    if path.endswith(("json/encoder.py", "json/decoder.py", "json/__init__.py")):
        return "JSON encode/decode"
    if "argon2" in path:
        return "argon2"
    if "flowdesk/store/sql.py" in path and func.endswith(("run", "run_many")):
        return "DB driver call: execute (driver-level statements)"
    for part, name in (
        ("flowdesk/engines/process", "flowdesk process engine (step)"),
        ("flowdesk/engines/expr", "flowdesk conditions/expr"),
        ("flowdesk/engines/apps", "flowdesk conditions/expr"),
        ("flowdesk/engines/forms", "flowdesk form validation"),
        ("flowdesk/engines/audit", "flowdesk audit hash + masking"),
        ("hashlib", "flowdesk audit hash + masking"),
        ("flowdesk/", "flowdesk services/store own code"),
        ("bench/engine.py", "bench client"),
    ):
        if part in path:
            return name
    return "other (stdlib: uuid, datetime, threading…)"


def parse(line: str) -> tuple[list[tuple[str, str]], int] | None:
    stack, _, count = line.rstrip("\n").rpartition(" ")
    if not stack or not count.isdigit():
        return None
    frames = []
    for raw in stack.split(";"):
        m = FRAME.match(raw.strip())
        frames.append((m["func"], m["file"]) if m else (raw.strip(), ""))
    return frames, int(count)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("collapsed", type=Path)
    ap.add_argument("--under", default="run_services", help="only stacks through this function")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()

    areas: Counter[str] = Counter()
    callers: Counter[str] = Counter()
    total = 0
    for line in args.collapsed.read_text().splitlines():
        parsed = parse(line)
        if parsed is None:
            continue
        frames, count = parsed
        names = [f for f, _ in frames]
        if args.under and args.under not in names:
            continue
        total += count
        func, path = frames[-1]
        areas[area(func, path)] += count
        seen = set()
        for f, p in frames:
            if "flowdesk/" in p and "bench/" not in p:
                key = f"{p.split('flowdesk/', 1)[1]}:{f}"
                if key not in seen:
                    seen.add(key)
                    callers[key] += count
    if not total:
        print("no samples", file=sys.stderr)
        return 1
    print(f"{total} samples under {args.under}\n")
    print("By area of the innermost frame:")
    for name, count in areas.most_common():
        print(f"  {100 * count / total:5.1f}%  {name}")
    print("\nInclusive, by flowdesk function on the stack:")
    for key, count in callers.most_common(args.top):
        print(f"  {100 * count / total:5.1f}%  {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
