#!/usr/bin/env python3
"""Exporting a large ticket list: time and peak memory of XLSX and CSV (ADR 0032).

Files N loan tickets into a fresh SQLite demo bank (through the import, one
transaction), then exports `GET /tickets/export?app=loan` for their applicant through
the service (services/ticket_export.py), reading every chunk, once as XLSX and once as
CSV, each in its own child process so each peak RSS is that export's own.

Usage (from the repository root):
  .venv/bin/python bench/export_rows.py [--tickets 20000]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def seed(url: str, tickets: int, workbook: Path) -> None:
    from import_read import first_rows, write_workbook
    from openpyxl import load_workbook

    from flowdesk.services import auth, demo, ticket_import
    from flowdesk.services.bootstrap import build_context, migrate_database
    from flowdesk.services.context import fast_hasher

    write_workbook(workbook, tickets)
    content = first_rows(load_workbook(workbook, read_only=True).worksheets[0], tickets)
    ctx = build_context(url)
    migrate_database(ctx)
    ctx.hasher = fast_hasher()
    demo.load(ctx)
    actor = auth.authenticate(ctx, username="zhang.wei", password=demo.DEMO_PASSWORD)
    ticket_import.import_rows(ctx, actor, "loan", filename="seed.xlsx", content=content)
    ctx.db.dispose()


def export(url: str, file_format: str) -> None:
    from flowdesk.services import auth, demo, ticket_export
    from flowdesk.services.bootstrap import build_context
    from flowdesk.services.context import fast_hasher
    from flowdesk.services.list_query import parse_list_query

    ctx = build_context(url)
    ctx.hasher = fast_hasher()
    actor = auth.authenticate(ctx, username="zhang.wei", password=demo.DEMO_PASSWORD)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    query = parse_list_query({"app": "loan"})
    out = ticket_export.export_tickets(
        ctx,
        actor,
        query,
        scope="mine",
        format=file_format,  # type: ignore[arg-type]
    )
    size = sum(len(chunk) for chunk in out.chunks)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{elapsed:.3f} {before:.1f} {peak:.1f} {size}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        export(args.child[0], args.child[1])
        return 0
    directory = Path(tempfile.mkdtemp(prefix="flowdesk-export-"))
    try:
        url = f"sqlite:///{directory / 'bench.db'}"
        seed(url, args.tickets, directory / "seed.xlsx")
        print(f"{args.tickets} loan tickets of one applicant, exported with app=loan")
        print("| format | seconds | rows/s | RSS before MB | peak RSS MB | file MB |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for file_format in ("xlsx", "csv"):
            out = subprocess.run(
                [sys.executable, __file__, "--child", url, file_format],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
            seconds, before, peak, size = float(out[0]), float(out[1]), float(out[2]), int(out[3])
            print(
                f"| {file_format} | {seconds:.1f} | {args.tickets / seconds:,.0f} |"
                f" {before:.0f} | {peak:.0f} | {size / 1e6:.1f} |"
            )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
