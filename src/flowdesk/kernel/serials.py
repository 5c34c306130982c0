"""Ticket serial numbers, e.g. LN-2026-000123: the app's prefix, the year in the bank's
time zone, and a per-app, per-year sequence of at least six digits."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PREFIX_PATTERN = re.compile(r"[A-Z][A-Z0-9]{0,11}")
SEQUENCE_DIGITS = 6


def _bank_zone() -> tzinfo:
    """Banks in China keep China time; Asia/Shanghai has had no daylight saving since 1991."""
    try:
        return ZoneInfo("Asia/Shanghai")
    except ZoneInfoNotFoundError:  # a slim container without tzdata
        return timezone(timedelta(hours=8), "CST")


# The zone a ticket's serial year is counted in: a ticket filed at 2027-01-01 07:00 China
# time (23:00 UTC the day before) is a 2027 ticket, as the branch's paper files say.
BANK_ZONE = _bank_zone()


@lru_cache(maxsize=1024)
def serial_year(moment: datetime) -> int:
    """Cached: an import numbers its thousands of records at one instant."""
    return moment.astimezone(BANK_ZONE).year


def default_prefix(app_key: str) -> str:
    """An app without `serial_prefix`: its key in capitals, letters and digits only."""
    cleaned = re.sub(r"[^A-Z0-9]", "", app_key.upper())
    return cleaned[:12] or "T"


def format_serial(prefix: str, year: int, sequence: int) -> str:
    return f"{prefix}-{year}-{sequence:0{SEQUENCE_DIGITS}d}"


# Auto-number fields (ADR 0038): a format such as LN-{YYYY}-{seq:6}, numbered by the
# ticket's own serial sequence (per app and year in the bank's zone), so the number is as
# gap-free and as safe under concurrency as the serial is.
_NUMBER_TOKEN = re.compile(r"\{(YYYY|YY|MM|DD|seq(?::(\d{1,2}))?)\}")
NUMBER_FORMAT_MAX = 40
_NUMBER_LITERAL = re.compile(r"[A-Za-z0-9\-_/.#\u4e00-\u9fff]*")
MAX_SEQ_DIGITS = 12


def number_format_problem(text: str) -> str | None:
    """Why `text` is not an auto-number format, or None: it holds one {seq} or {seq:N}
    (N from 1 to 12 digits) and the year ({YYYY} or {YY}), since the sequence restarts
    each year; besides {MM} and {DD}, only letters, digits, CJK and - _ / . #."""
    if len(text) > NUMBER_FORMAT_MAX:
        return f"At most {NUMBER_FORMAT_MAX} characters"
    tokens = [m.group(1) for m in _NUMBER_TOKEN.finditer(text)]
    literal = _NUMBER_TOKEN.sub("", text)
    if not _NUMBER_LITERAL.fullmatch(literal):
        return "Only {YYYY} {YY} {MM} {DD} {seq:N}, letters, digits, CJK and - _ / . #"
    seqs = [t for t in tokens if t.startswith("seq")]
    if len(seqs) != 1:
        return "Give the sequence once, as {seq} or {seq:6}"
    digits = seqs[0].partition(":")[2]
    if digits and not 1 <= int(digits) <= MAX_SEQ_DIGITS:
        return f"{{seq:N}} pads to 1 to {MAX_SEQ_DIGITS} digits"
    if "YYYY" not in tokens and "YY" not in tokens:
        return "Give the year ({YYYY} or {YY}): the sequence restarts each year"
    return None


def format_number(text: str, year: int, moment: datetime, sequence: int) -> str:
    """The auto-number `text` for the serial's `year` and `sequence`, the month and day of
    `moment` in the bank's zone: LN-{YYYY}-{seq:6} → LN-2026-000123."""
    head, digits, tail = _number_template(text, year, moment)
    return f"{head}{sequence:0{digits}d}{tail}"


@lru_cache(maxsize=256)
def _number_template(text: str, year: int, moment: datetime) -> tuple[str, int, str]:
    """The format with its date filled in, split around the sequence (an import numbers
    thousands of records at one instant with one template)."""
    local = moment.astimezone(BANK_ZONE)
    dates = {"YYYY": f"{year:04d}", "YY": f"{year % 100:02d}", "MM": f"{local.month:02d}"}
    dates["DD"] = f"{local.day:02d}"
    parts: list[str] = []
    digits = 1
    for piece in _NUMBER_TOKEN.split(text)[::3]:
        parts.append(piece)
    tokens = _NUMBER_TOKEN.findall(text)
    out = [parts[0]]
    split_at = 0
    for i, (name, width) in enumerate(tokens):
        if name.startswith("seq"):
            digits = int(width or 1)
            split_at = len(out)
            out.append("")
        else:
            out.append(dates[name])
        out.append(parts[i + 1])
    return "".join(out[:split_at]), digits, "".join(out[split_at + 1 :])
