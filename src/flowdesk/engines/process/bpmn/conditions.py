"""conditionExpression bodies in modelers' dialects, rewritten as flowdesk expressions.

Camunda 7, Flowable and Activiti write JUEL (`${amount > 100}`, `#{x eq 'A'}`), Camunda 8
writes FEEL (`=amount > 100`), SpiffWorkflow Python (`amount <= 50000`). Their simple
comparisons and logic are already flowdesk's syntax once the wrapper is removed and
JUEL's word operators are spelled as symbols, so that is all this module does: it works
on text only (the process engine does not depend on the expression engine), and the
app layer then type-checks the result against the form. Whatever does not come out as
a valid flowdesk expression (method calls, scripts, variables the form lacks) is
refused there, with the flow's id in the error's path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .namespaces import FLOWDESK_EXPRESSION

_JUEL = re.compile(r"\A\s*[$#]\{(?P<body>.*)\}\s*\Z", re.DOTALL)
_JUEL_WORDS = {"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}
_WORD = re.compile(r"[A-Za-z_]\w*")
_QUOTED = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\"""", re.DOTALL)

# Languages whose simple comparisons read the same in flowdesk's language.
_KNOWN_LANGUAGES = (
    FLOWDESK_EXPRESSION,
    "juel",
    "feel",
    "python",
    "http://www.omg.org/spec/feel",
    "https://www.omg.org/spec/feel",
    "http://www.python.org",
    "https://www.python.org",
    "http://www.w3.org/1999/xpath",  # the BPMN default; simple comparisons only
    "http://www.w3.org/tr/xpath",
)


@dataclass(frozen=True, slots=True)
class Converted:
    """The flowdesk text (None when the body is empty) and a note for a warning, if any."""

    text: str | None
    note: str | None = None


def known_language(language: str | None) -> bool:
    if not language:
        return True
    lowered = language.strip().lower().rstrip("/")
    return any(lowered.startswith(known.rstrip("/")) for known in _KNOWN_LANGUAGES)


def convert(body: str) -> Converted:
    """The condition as flowdesk text: JUEL/FEEL wrappers removed, JUEL words as symbols."""
    text = " ".join(body.split())
    if not text:
        return Converted(None)
    match = _JUEL.match(text)
    if match:
        inner = match.group("body").strip()
        if "${" in inner or "#{" in inner:
            return Converted(text)  # a template of several parts: left for the checker
        return Converted(_juel_words(inner) or None, "JUEL ${...} read as a flowdesk expression")
    if text.startswith("="):  # Camunda 8 writes FEEL expressions as "=expression"
        inner = text[1:].strip()
        return Converted(inner or None, "FEEL =... read as a flowdesk expression")
    return Converted(text)


def _juel_words(text: str) -> str:
    """JUEL's eq/ne/lt/gt/le/ge as == != < > <= >=, outside quoted text."""
    out: list[str] = []
    last = 0
    for quoted in _QUOTED.finditer(text):
        out.append(_replace_words(text[last : quoted.start()]))
        out.append(quoted.group())
        last = quoted.end()
    out.append(_replace_words(text[last:]))
    return "".join(out)


def _replace_words(part: str) -> str:
    return _WORD.sub(lambda m: _JUEL_WORDS.get(m.group(), m.group()), part)
