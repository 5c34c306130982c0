"""Search terms for text that mixes Chinese and Latin script (ADR 0010).

Chinese has no spaces between words, so a word cannot be cut out of a sentence
without a dictionary. Every pair of neighbouring Han characters (a bigram) is a term
instead: a two-character word such as 设备 is then one exact term, and a longer one
the terms of its pairs. The last character of a Han run is a term of its own too, so a
one-character query (a prefix) finds it wherever it stands. Latin letters and digits
form words. Text is NFKC-normalised and case-folded first, so full-width ＡＢＣ１２３
finds abc123.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

MAX_TERM = 64  # longer words are cut: a term is a key in an index
MAX_QUERY_TERMS = 12  # each term is one look-up; a longer query is refused, not truncated

# Han ideographs (CJK Unified Ideographs and extension A, compatibility ideographs) or
# runs of letters and digits of any script but Han.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_HAN}]+|[^\W_{_HAN}]+")
_IS_HAN = re.compile(rf"[{_HAN}]")


def _normal(text: str) -> str:
    if not unicodedata.is_normalized("NFKC", text):  # a C-level check: most text already is
        text = unicodedata.normalize("NFKC", text)
    return text.casefold()


def document_terms(texts: Iterable[str]) -> frozenset[str]:
    """The distinct terms of a ticket's searchable texts (serial, title, text fields)."""
    terms: set[str] = set()
    for text in texts:
        for run in _RUN.findall(_normal(text)):
            if _IS_HAN.match(run):
                terms.update(run[i : i + 2] for i in range(len(run) - 1))
                terms.add(run[-1])
            else:
                terms.add(run[:MAX_TERM])
    return frozenset(terms)


@dataclass(frozen=True)
class QueryTerm:
    """One condition of a query: the document has `text` as a term, or (prefix) a term
    starting with it."""

    text: str
    prefix: bool


def query_terms(query: str) -> list[QueryTerm]:
    """A query's conditions, all of which a match must meet. Han runs give their
    bigrams (exact); a single Han character and Latin words match as prefixes, so
    `LN-2026-0001` finds LN-2026-000123 and `loan` finds loans."""
    found: dict[QueryTerm, None] = {}
    for run in _RUN.findall(_normal(query)):
        if _IS_HAN.match(run):
            if len(run) == 1:
                found[QueryTerm(run, prefix=True)] = None
            for i in range(len(run) - 1):
                found[QueryTerm(run[i : i + 2], prefix=False)] = None
        else:
            found[QueryTerm(run[:MAX_TERM], prefix=len(run) < MAX_TERM)] = None
    return list(found)
