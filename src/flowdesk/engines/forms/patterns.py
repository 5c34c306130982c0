"""Builders' text patterns: the safe regular expressions of `flowdesk.kernel.patterns`
(ADR 0027), shared with the expression engine's REGEXMATCH and REGEXEXTRACT (ADR 0031)."""

from flowdesk.kernel.patterns import (
    MATCH_TIMEOUT,
    MAX_PATTERN_LENGTH,
    PatternError,
    check_pattern,
    compiled,
    matches,
    search,
)

__all__ = [
    "MATCH_TIMEOUT",
    "MAX_PATTERN_LENGTH",
    "PatternError",
    "check_pattern",
    "compiled",
    "matches",
    "search",
]
