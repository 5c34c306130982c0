#!/usr/bin/env python3
"""Reading a 100k-row XLSX: openpyxl read-only vs python-calamine, time and peak memory.

Writes a workbook shaped like a loan import (six columns: text, money, integer, two
choices, long text) with openpyxl's write-only mode, then reads every cell of it as
text in a fresh child process per reader (so each peak RSS is that reader's own):

  openpyxl   load_workbook(read_only=True), iter_rows (what services/spreadsheets.py does)
  calamine   python_calamine.CalamineWorkbook.from_filelike(...).get_sheet_by_index(0)
             .iter_rows() (needs the bench-only package python-calamine)

With `--store N` it also imports the first N rows of the workbook into the loan app
of a fresh SQLite demo bank (services/ticket_import.py: read, validate, file each
ticket, one transaction) and prints rows/s and the peak RSS of that child.

Usage (from the repository root):
  .venv/bin/python bench/import_read.py [--rows 100000] [--rounds 3] [--store 10000]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = ["申请人姓名", "贷款金额 (CNY)", "Term (months)", "credit_rating", "区域", "贷款用途"]


def write_workbook(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("loans")
    sheet.append(HEADER)
    for n in range(rows):
        sheet.append(
            [
                f"申请人{n}",
                1000 + n % 50000 + 0.5,
                1 + n % 360,
                "ABC"[n % 3],
                "华东",
                "采购设备一批",
            ]
        )
    book.save(path)


def read_openpyxl(path: Path) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from flowdesk.services import spreadsheets

    book = spreadsheets.open_workbook(path.read_bytes())
    cells = 0
    for _, row in spreadsheets.xlsx_rows(
        book.worksheets[0], "loans", max_columns=101, max_cell=4000
    ):
        cells += len(row)
    book.close()
    return cells


def read_calamine(path: Path) -> int:
    import io

    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes()))
    cells = 0
    for row in book.get_sheet_by_index(0).iter_rows():
        cells += len([str(v) for v in row])
    return cells


def store(path: Path, rows: int) -> None:
    """The whole import of `rows` rows, in a fresh SQLite demo bank."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import http_load
    from openpyxl import load_workbook

    from flowdesk.services import auth, demo, ticket_import
    from flowdesk.services.bootstrap import build_context, migrate_database
    from flowdesk.services.context import fast_hasher

    book = load_workbook(path, read_only=True)
    small = first_rows(book.worksheets[0], rows)
    with http_load.fresh_database("sqlite", "") as url:
        ctx = build_context(url)
        migrate_database(ctx)
        ctx.hasher = fast_hasher()
        demo.load(ctx)
        actor = auth.authenticate(ctx, username="zhang.wei", password=demo.DEMO_PASSWORD)
        start = time.perf_counter()
        report = ticket_import.import_rows(ctx, actor, "loan", filename="loans.xlsx", content=small)
        elapsed = time.perf_counter() - start
        ctx.db.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{elapsed:.3f} {peak_mb:.1f} {report.created}")


def first_rows(sheet: object, rows: int) -> bytes:
    """The header and the first `rows` rows as a new workbook's bytes."""
    import io

    from openpyxl import Workbook

    book = Workbook(write_only=True)
    out = book.create_sheet("loans")
    for n, row in enumerate(sheet.iter_rows(values_only=True)):  # type: ignore[attr-defined]
        if n > rows:
            break
        out.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def child(reader: str, path: Path) -> None:
    if reader.startswith("store:"):
        store(path, int(reader.split(":")[1]))
        return
    start = time.perf_counter()
    cells = read_openpyxl(path) if reader == "openpyxl" else read_calamine(path)
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{elapsed:.3f} {peak_mb:.1f} {cells}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--store", type=int, default=0)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "loans.xlsx"
        write_workbook(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        print(f"{args.rows} rows × {len(HEADER)} columns, {size_mb:.1f} MB XLSX")
        print("| reader | seconds (median) | rows/s | peak RSS MB |\n| --- | ---: | ---: | ---: |")
        for reader in ("openpyxl", "calamine") if args.rounds else ():
            times, peaks = [], []
            for _ in range(args.rounds):
                out = subprocess.run(
                    [sys.executable, __file__, "--child", reader, str(path)],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout.split()
                times.append(float(out[0]))
                peaks.append(float(out[1]))
            median = statistics.median(times)
            print(f"| {reader} | {median:.2f} | {args.rows / median:,.0f} | {max(peaks):.0f} |")
        if args.store:
            out = subprocess.run(
                [sys.executable, __file__, "--child", f"store:{args.store}", str(path)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
            seconds, peak, created = float(out[0]), float(out[1]), int(out[2])
            print(
                f"\nimport into loan (SQLite, one transaction): {created} tickets in"
                f" {seconds:.1f} s = {created / seconds:,.0f} rows/s, peak RSS {peak:.0f} MB"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
