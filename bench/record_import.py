#!/usr/bin/env python3
"""Importing 100k XLSX rows into a record app (ADR 0038): rows/s validated and stored,
peak memory.

Writes a workbook of the bundled `customers` record app's columns (customer name,
customer manager, segment, credit code left empty) with openpyxl's write-only mode,
then, in a fresh child process (so its peak RSS is the import's own), loads the demo bank
into a fresh SQLite database and runs `ticket_import.import_rows` as a customer manager
(zhang.wei): read (python-calamine), validate every row as a web submission, write every
record (serial, search terms, timeline row, audit entry), one transaction, all or nothing.

On a shared host the wall-clock rate is what the host leaves free; the CPU seconds the
import used are printed too (rows per CPU second: the rate on a core of its own).

Usage (from the repository root):
  .venv/bin/python bench/record_import.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = ["客户名称", "客户经理", "客户分层"]
MANAGERS = ("zhang.wei", "xie.ting", "pan.yue")
SEGMENTS = ("large", "sme", "micro", "中小企业")


def write_workbook(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("customers")
    sheet.append(HEADER)
    for n in range(rows):
        sheet.append([f"客户{n:06d}贸易有限公司", MANAGERS[n % 3], SEGMENTS[n % 4]])
    book.save(path)


def child(path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import http_load

    from flowdesk.kernel.heap import freeze_long_lived
    from flowdesk.services import demo, ticket_import
    from flowdesk.services.bootstrap import build_context, migrate_database
    from flowdesk.services.context import fast_hasher

    content = path.read_bytes()
    with http_load.fresh_database("sqlite", "") as url:
        ctx = build_context(url)
        migrate_database(ctx)
        ctx.hasher = fast_hasher()
        demo.load(ctx)
        actor = ticket_import.importing_user(ctx, "zhang.wei")
        freeze_long_lived()  # as `flowdesk app import-rows` does before it imports
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start, cpu = time.perf_counter(), time.process_time()
        report = ticket_import.import_rows(
            ctx, actor, "customers", filename="customers.xlsx", content=content
        )
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        ctx.db.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{elapsed:.3f} {before:.1f} {peak:.1f} {report.created} {cpu:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child))
        return 0
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "customers.xlsx"
        write_workbook(path, args.rows)
        print(f"{args.rows} rows × {len(HEADER)} columns, {path.stat().st_size / 1e6:.1f} MB XLSX")
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(path)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        seconds, before, peak = float(out[0]), float(out[1]), float(out[2])
        created, cpu = int(out[3]), float(out[4])
        print(
            f"import into customers (SQLite, one transaction): {created} records in"
            f" {seconds:.1f} s = {created / seconds:,.0f} rows/s"
            f" ({cpu:.1f} CPU s = {created / cpu:,.0f} rows per CPU second);"
            f" peak RSS {peak:.0f} MB (before the import {before:.0f} MB)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
