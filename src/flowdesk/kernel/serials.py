"""Ticket serial numbers, e.g. LN-2026-000123: the app's prefix, the year in the bank's
time zone, and a per-app, per-year sequence of at least six digits."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
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


def serial_year(moment: datetime) -> int:
    return moment.astimezone(BANK_ZONE).year


def default_prefix(app_key: str) -> str:
    """An app without `serial_prefix`: its key in capitals, letters and digits only."""
    cleaned = re.sub(r"[^A-Z0-9]", "", app_key.upper())
    return cleaned[:12] or "T"


def format_serial(prefix: str, year: int, sequence: int) -> str:
    return f"{prefix}-{year}-{sequence:0{SEQUENCE_DIGITS}d}"
