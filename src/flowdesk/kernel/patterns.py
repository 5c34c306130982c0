"""Regular expressions safe from catastrophic backtracking (ADR 0027, 0031): the form
engine's field patterns and the expression engine's REGEXMATCH/REGEXEXTRACT.

A pattern such as `(a+)+$` takes exponential time on "aaaa…!" in any backtracking
engine, Python's `re` included, and one request would hold a worker for hours. Rules:

- patterns are compiled by the `regex` module (its syntax is a superset of `re`) and are
  at most `MAX_PATTERN_LENGTH` characters;
- every match runs with a time limit (`MATCH_TIMEOUT`); a value that cannot be judged in
  time is refused (`pattern_timeout`), never accepted;
- publishing probes the pattern against the inputs that make backtracking blow up (runs
  of one character, with and without a foreign last character, as long as the field
  allows, for common characters and each letter the pattern names) and refuses one that
  needs more than the limit on any of them (`pattern_too_slow`), so a slow pattern is
  found by its builder, not by a clerk.

A field pattern always matches the value whole (`matches`, a fullmatch): "[0-9]{6}" means
six digits, not six digits somewhere; formulas look for the first match anywhere
(`search`), as spreadsheets' REGEXMATCH does.
"""

from __future__ import annotations

from functools import lru_cache

import regex

MAX_PATTERN_LENGTH = 300
# Seconds. A sane pattern judges 200 characters in microseconds; the margin is for a
# busy machine, where a time limit that is too tight would refuse good values.
MATCH_TIMEOUT = 0.25
_PROBE_CHARACTERS = "a0 -.A_中"


class PatternError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@lru_cache(maxsize=1024)
def compiled(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern, regex.VERSION0)


def check_pattern(pattern: str, max_length: int) -> None:
    """PatternError (`pattern_too_long`, `invalid_pattern`, `pattern_too_slow`) unless the
    pattern compiles and judges the worst inputs of up to `max_length` characters in time."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(
            "pattern_too_long", f"A pattern may have at most {MAX_PATTERN_LENGTH} characters"
        )
    try:
        compiled_pattern = compiled(pattern)
    except regex.error as exc:
        raise PatternError("invalid_pattern", f"Not a valid pattern: {exc}") from None
    # the pattern's own letters too: (x+x+)+y blows up on runs of "x" only
    own = dict.fromkeys(c for c in pattern if c.isalnum())
    for char in dict.fromkeys([*_PROBE_CHARACTERS, *own]):
        for probe in (char * max_length, char * (max_length - 1) + "!", char * 30 + "!"):
            try:
                compiled_pattern.fullmatch(probe, timeout=MATCH_TIMEOUT)
            except TimeoutError:
                raise PatternError(
                    "pattern_too_slow",
                    "The pattern backtracks too much on some inputs (nested repeats such as "
                    "(a+)+ or (a|a)*); rewrite it without repeating a repeat",
                ) from None


def matches(pattern: str, text: str) -> bool:
    """True when the whole text matches; TimeoutError when it cannot be told in time."""
    return compiled(pattern).fullmatch(text, timeout=MATCH_TIMEOUT) is not None


def search(pattern: str, text: str) -> regex.Match[str] | None:
    """The first match anywhere in the text; TimeoutError when it cannot be told in time."""
    return compiled(pattern).search(text, timeout=MATCH_TIMEOUT)
