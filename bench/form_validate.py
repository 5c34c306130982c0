#!/usr/bin/env python3
"""Validating and computing one submission of a large form: p50 / p90 / p99 per submission.

The form (ADR 0036's target: p50 <= 1 ms) has 40 fields: 30 typed inputs (text, money,
integers, dates, choices, a resident ID, a mobile, an email, percents, …), a sub-table of
expense lines with 20 rows (date, type, quantity, unit price, the row formula
amount = ROUND(qty * price, 2), a payee's resident ID) and 10 formulas (the row formula
and 9 form formulas: SUM, COUNT, AVERAGE, MAX and COUNTIF over the lines, IF, ROUND and
text over the other fields). Wall time and the thread's CPU time are both printed: on a
busy host the wall figures' tail is the scheduler's, the CPU figures the engine's. One
submission is what `tickets.submit` does with the
form's values before it writes: `validate_submission` (HTML text, as the web form posts
it, or JSON) and `FormComputer.complete` (row formulas, then the form's formulas).

Usage (from the repository root):
  .venv/bin/python bench/form_validate.py [-n 3000] [--rows 20] [--source html|json]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

from flowdesk.engines.apps.formulas import FormComputer, check_form_expressions
from flowdesk.engines.forms import parse_form, validate_submission

RESIDENT_ID = "11010519491231002X"


def text(en: str) -> dict[str, str]:
    return {"en": en, "zh": en}


def _inputs() -> list[tuple[dict[str, Any], str, object]]:
    """(definition, HTML text, JSON value) of the 30 typed input fields."""
    options = [{"value": v, "label": text(v)} for v in ("a", "b", "c", "d", "e")]
    kinds: list[tuple[dict[str, Any], str, object]] = []
    for n in range(6):
        kinds.append(({"type": "text", "max_length": 100}, f"Text value {n}", f"Text value {n}"))
    for n in range(5):
        kinds.append(({"type": "money", "max": 10_000_000}, "12,345.67", f"{1234 + n}.50"))
    for n in range(4):
        kinds.append(({"type": "integer", "min": 0, "max": 1000}, str(n + 1), n + 1))
    for _ in range(3):
        kinds.append(({"type": "date"}, "2026-12-03", "2026-12-03"))
    for _ in range(3):
        kinds.append(({"type": "choice", "options": options}, "c", "c"))
    kinds.append(({"type": "boolean"}, "on", True))
    kinds.append(({"type": "boolean"}, "on", False))
    kinds.append(({"type": "email"}, "li.na@bank.example.com", "li.na@bank.example.com"))
    kinds.append(({"type": "mobile"}, "138 1234 5678", "13812345678"))
    kinds.append(({"type": "resident_id"}, RESIDENT_ID, RESIDENT_ID))
    kinds.append(({"type": "percent", "max": 100}, "12.5%", "12.5"))
    kinds.append(({"type": "percent", "max": 100}, "3", "3"))
    kinds.append(({"type": "long_text"}, "Line one\nline two", "Line one\nline two"))
    kinds.append(({"type": "region"}, "440305", "440305"))
    assert len(kinds) == 30
    return kinds


FORMULAS = (
    ("lines_total", "SUM(lines.amount)"),
    ("lines_count", "COUNT(lines.amount)"),
    ("lines_mean", "ROUND(AVERAGE(lines.amount), 2)"),
    ("largest", "MAX(lines.amount)"),
    ("travel_lines", 'COUNTIF(lines.type, "travel")'),
    ("big_lines", 'COUNTIF(lines.amount, ">1000")'),
    ("grand_total", "f6 + f7 + f8"),
    ("needs_finance", 'IF(f6 > 10000, "finance", "manager")'),
    ("label", "UPPER(LEFT(f0, 4)) & '-' & TEXT(f11, '0')"),
)


def build(rows: int) -> tuple[Any, Any, dict[str, object], dict[str, object]]:
    fields: list[dict[str, Any]] = []
    html: dict[str, object] = {}
    json: dict[str, object] = {}
    for n, (spec, typed, value) in enumerate(_inputs()):
        key = f"f{n}"
        fields.append({"key": key, "label": text(key), "required": True, **spec})
        html[key] = typed
        json[key] = value
    types = [{"value": v, "label": text(v)} for v in ("travel", "meal", "other")]
    fields.append(
        {
            "key": "lines",
            "type": "table",
            "label": text("Lines"),
            "required": True,
            "max_rows": 100,
            "columns": [
                {"key": "date", "type": "date", "label": text("Date"), "required": True},
                {"key": "type", "type": "choice", "label": text("Type"), "options": types},
                {"key": "qty", "type": "integer", "label": text("Qty"), "min": 1},
                {"key": "price", "type": "money", "label": text("Price"), "required": True},
                {
                    "key": "amount",
                    "type": "formula",
                    "label": text("Amount"),
                    "formula": "ROUND(qty * price, 2)",
                },
                {"key": "payee", "type": "resident_id", "label": text("Payee")},
            ],
        }
    )
    kinds = ("travel", "meal", "other")
    html["lines"] = [
        {
            "date": "2026-12-01",
            "type": kinds[n % 3],
            "qty": str(n % 4 + 1),
            "price": f"{100 + 37 * n:,}.25",
            "payee": RESIDENT_ID if n % 5 == 0 else "",
        }
        for n in range(rows)
    ]
    json["lines"] = [
        {
            "date": "2026-12-01",
            "type": kinds[n % 3],
            "qty": n % 4 + 1,
            "price": f"{100 + 37 * n}.25",
            **({"payee": RESIDENT_ID} if n % 5 == 0 else {}),
        }
        for n in range(rows)
    ]
    for key, expression in FORMULAS:
        fields.append({"key": key, "type": "formula", "label": text(key), "formula": expression})
    assert len(fields) == 40
    form, errors = check_form_expressions(parse_form({"fields": fields}))
    assert not errors, errors
    return form, FormComputer(form), html, json


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=3000, help="submissions timed")
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--source", choices=("html", "json", "both"), default="both")
    args = parser.parse_args()
    form, computer, html, json = build(args.rows)
    sources = ("html", "json") if args.source == "both" else (args.source,)
    print(f"40 fields, {args.rows}-row sub-table, 10 formulas; {args.n} submissions each")
    for source in sources:
        raw = html if source == "html" else json
        values = computer.complete(validate_submission(form, raw, source=source))
        assert values["lines_count"] == str(args.rows), values["lines_count"]
        for _ in range(200):  # warm up
            computer.complete(validate_submission(form, raw, source=source))
        times: list[float] = []
        cpu: list[float] = []
        for _ in range(args.n):
            start, start_cpu = time.perf_counter(), time.thread_time()
            computer.complete(validate_submission(form, raw, source=source))
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - start_cpu) * 1000)
        for name, figures in (("wall", times), ("cpu", cpu)):
            figures.sort()
            print(
                f"{source:>4} {name:>4}: p50 {percentile(figures, 0.5):.3f} ms"
                f"  p90 {percentile(figures, 0.9):.3f} ms  p99 {percentile(figures, 0.99):.3f} ms"
                f"  (mean {statistics.fmean(figures):.3f} ms)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
