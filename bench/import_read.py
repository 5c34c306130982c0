#!/usr/bin/env python3
"""Reading a 100k-row XLSX: openpyxl read-only vs python-calamine, time and peak memory.

Writes a workbook shaped like a loan import (six columns: text, money, integer, two
choices, long text) with openpyxl's write-only mode, then reads every cell of it as
text in a fresh child process per reader (so each peak RSS is that reader's own):

  openpyxl   load_workbook(read_only=True), iter_rows (what services/spreadsheets.py does)
  calamine   python_calamine.CalamineWorkbook.from_filelike(...).get_sheet_by_index(0)
             .iter_rows() (needs the bench-only package python-calamine)

Usage (from the repository root):
  .venv/bin/python bench/import_read.py [--rows 100000] [--rounds 3]
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


def child(reader: str, path: Path) -> None:
    start = time.perf_counter()
    cells = read_openpyxl(path) if reader == "openpyxl" else read_calamine(path)
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{elapsed:.3f} {peak_mb:.1f} {cells}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
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
        for reader in ("openpyxl", "calamine"):
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
