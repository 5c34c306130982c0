"""China's administrative divisions (province / city / district) by their six-digit code
(GB/T 2260), read from the table python-stdnum ships for resident IDs (`cn/loc`).

The table is offline, kept with the library, and knows abolished and renamed counties
with their years. A region field accepts only codes in use today (a county whose last
name has no end year); a resident ID accepts any code ever assigned (identity.py). The
names are Chinese only: the table has no English, so English pages show the Chinese
names with the code.
"""

from __future__ import annotations

import re
from functools import lru_cache

from stdnum import numdb

_CODE = re.compile(r"[1-9][0-9]{5}")
# "[1990-]南山区" or "[1983-1989]南头区办事处": a name with the years it was in use
_DATED = re.compile(r"\[(\d*)-(\d*)\](.*)")
# The placeholder names of a municipality's "districts under the city" rows.
_PLACEHOLDERS = frozenset(
    {"市辖区", "县", "省直辖县级行政区划", "省直辖县级行政单位", "自治区直辖县级行政区划"}
)


def _props(code: str) -> dict[str, str]:
    info: dict[str, str] = {}
    for _part, props in numdb.get("cn/loc").info(code):
        info.update(props)
    return info


@lru_cache(maxsize=4096)
def current_name(code: str) -> str | None:
    """The division's name in use today, or None for a code unknown or no longer used."""
    if not _CODE.fullmatch(code):
        return None
    county = _props(code).get("county")
    if not county:
        return None
    names = county.split(",")
    for name in reversed(names):
        dated = _DATED.fullmatch(name)
        if dated is None:
            return name
        if not dated.group(2):  # no end year: still in use
            return dated.group(3)
    return None


def is_current(code: str) -> bool:
    """A code a region field accepts: in use today and not a placeholder row (市辖区)."""
    name = current_name(code)
    return name is not None and name not in _PLACEHOLDERS


def region_path(code: str) -> tuple[str, ...]:
    """Province, city and district names for a current code ("广东省", "深圳市", "南山区");
    a province code gives one name, a city code two; () for an unknown code."""
    name = current_name(code)
    if name is None:
        return ()
    province = current_name(code[:2] + "0000") or _props(code).get("province", "")
    if code.endswith("0000"):
        return (province,)
    city = current_name(code[:4] + "00")
    parts = [province]
    if city and city not in _PLACEHOLDERS and city != province:
        parts.append(city)
    if not code.endswith("00") and name not in parts:
        parts.append(name)
    return tuple(parts)


@lru_cache(maxsize=1)
def current_divisions() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Every code a region field accepts with its names, in code order (built once from
    the table's tree: provinces, then their two-digit sub-codes)."""
    found: list[tuple[str, tuple[str, ...]]] = []
    for _length, low, high, _props, children in numdb.get("cn/loc").prefixes:
        if low != high:
            continue
        candidates = [low + "0000"]
        for _sub_length, sub_low, sub_high, _sub_props, _ in children:
            if sub_low == sub_high and len(sub_low) == 4:
                candidates.append(low + sub_low)
        for code in dict.fromkeys(candidates):
            if is_current(code):
                found.append((code, region_path(code)))
    return tuple(sorted(found))


MAX_SEARCH_RESULTS = 20


def search_divisions(query: str, limit: int = MAX_SEARCH_RESULTS) -> list[tuple[str, str]]:
    """Divisions whose code starts with `query` or whose names contain it ("南山",
    "深圳市南山", "4403"), as (code, "广东省 深圳市 南山区"), districts after the places
    they belong to."""
    text = "".join(query.split())
    if not text:
        return []
    hits = []
    for code, path in current_divisions():
        if code.startswith(text) or text in "".join(path):
            hits.append((code, " ".join(path)))
            if len(hits) >= limit:
                break
    return hits
