#!/usr/bin/env python3
"""Which B-tree pages a step writes on SQLite, read off the WAL itself.

Runs the loan workload of bench/engine.py on a fresh SQLite file with automatic
checkpoints off, then reads the page number of every WAL frame (each page a COMMIT
writes is one frame: two `pwrite` calls, and later one copy at checkpoint) and names
its table or index with SQLite's `dbstat`. Prints frames per step and per B-tree.

  .venv/bin/python bench/wal_pages.py [--instances 200]
"""

from __future__ import annotations

import argparse
import sqlite3
import struct
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import engine as bench
from whatif import no_autocheckpoint

_WAL_HEADER = 32
_FRAME_HEADER = 24


def frame_pages(wal: bytes, page_size: int) -> list[int]:
    pages = []
    offset = _WAL_HEADER
    while offset + _FRAME_HEADER + page_size <= len(wal):
        (page,) = struct.unpack(">I", wal[offset : offset + 4])
        pages.append(page)
        offset += _FRAME_HEADER + page_size
    return pages


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=300)
    args = ap.parse_args()
    with no_autocheckpoint(), bench.fresh_sqlite() as url:
        ctx, actors, _ = bench.prepare_services(url, 10)
        latencies: dict[str, list[float]] = {"submit": [], "approve": []}
        for i in range(args.warmup):
            bench.service_instance(ctx, actors, i, latencies, {"user_tasks": 0})
        path = url.removeprefix("sqlite:///")
        with ctx.db.engine.connect() as conn:
            driver = conn.connection.dbapi_connection
            assert driver is not None
            page_size = driver.execute("PRAGMA page_size").fetchone()[0]
            driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        counter = {"user_tasks": 0}
        start = args.warmup + 1_000
        for i in range(start, start + args.instances):
            bench.service_instance(ctx, actors, i, latencies, counter)
        steps = args.instances + counter["user_tasks"]
        pages = frame_pages(Path(path + "-wal").read_bytes(), page_size)
        ctx.db.dispose()
        with sqlite3.connect(path) as conn:
            owner = dict(conn.execute("SELECT pageno, name FROM dbstat").fetchall())
    by_tree = Counter(owner.get(page, f"page {page} (freed)") for page in pages)
    print(f"{steps} steps, {len(pages) / steps:.2f} WAL frames (pages) per step")
    for name, count in by_tree.most_common():
        print(f"  {name:<40} {count / steps:6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
