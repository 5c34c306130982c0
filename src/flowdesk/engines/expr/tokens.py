"""Why this module exists: it is the only place that looks at raw characters.

Character-level rules live here: numbers with '_' separators read exactly as Decimal,
quoted text with backslash escapes, case-insensitive keywords, identifiers in any
script (field names may be Chinese) and dotted ones (applicant.job_level), and the
several spellings of an operator ('=' / '==', '!=' / '<>', 'and' / '&&', 'or' / '||',
'not' / '!'). The parser then works with clean tokens, and every error carries an
exact character position.
"""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from flowdesk.engines.expr.errors import SYNTAX, ExprError


class TokenKind(enum.Enum):
    NUMBER = "number"
    TEXT = "text"
    NAME = "name"
    AND = "and"
    OR = "or"
    NOT = "not"
    IN = "in"
    TRUE = "true"
    FALSE = "false"
    NULL = "null"
    PLUS = "+"
    MINUS = "-"
    STAR = "*"
    SLASH = "/"
    AMP = "&"
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    LPAREN = "("
    RPAREN = ")"
    LBRACKET = "["
    RBRACKET = "]"
    COMMA = ","
    END = "end"


@dataclass(frozen=True, slots=True)
class Token:
    """One token; `text` is the exact source spelling, `value` the literal's value."""

    kind: TokenKind
    text: str
    position: int
    value: Decimal | str | None = None

    def describe(self) -> str:
        """How error messages name this token, e.g. "')'" or "end of expression"."""
        if self.kind is TokenKind.END:
            return "end of expression"
        shown = self.text if len(self.text) <= 30 else self.text[:27] + "..."
        if self.kind is TokenKind.TEXT:
            return f"text {shown}"
        if self.kind is TokenKind.NUMBER:
            return f"number {shown}"
        return f"'{shown}'"


KEYWORDS: dict[str, TokenKind] = {
    "and": TokenKind.AND,
    "or": TokenKind.OR,
    "not": TokenKind.NOT,
    "in": TokenKind.IN,
    "true": TokenKind.TRUE,
    "false": TokenKind.FALSE,
    "null": TokenKind.NULL,
}

_TWO_CHAR: dict[str, TokenKind] = {
    "&&": TokenKind.AND,
    "||": TokenKind.OR,
    "==": TokenKind.EQ,
    "!=": TokenKind.NE,
    "<>": TokenKind.NE,
    "<=": TokenKind.LE,
    ">=": TokenKind.GE,
}

_ONE_CHAR: dict[str, TokenKind] = {
    "+": TokenKind.PLUS,
    "-": TokenKind.MINUS,
    "*": TokenKind.STAR,
    "/": TokenKind.SLASH,
    "&": TokenKind.AMP,
    "=": TokenKind.EQ,
    "<": TokenKind.LT,
    ">": TokenKind.GT,
    "!": TokenKind.NOT,
    "(": TokenKind.LPAREN,
    ")": TokenKind.RPAREN,
    "[": TokenKind.LBRACKET,
    "]": TokenKind.RBRACKET,
    ",": TokenKind.COMMA,
}

_ESCAPES: dict[str, str] = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    "n": "\n",
    "t": "\t",
    "r": "\r",
}

# Characters an input method or word processor typically substitutes for an ASCII one
# that NFKC normalization does not map back.
_HINTS: dict[str, str] = {
    "|": "||",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "【": "[",
    "】": "]",
    "、": ",",
    "。": ".",
}

_DIGITS = frozenset("0123456789")


def tokenize(text: str) -> list[Token]:
    """Split `text` into tokens, ending with one END token at position len(text)."""
    tokens: list[Token] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in _DIGITS:
            i = _scan_number(text, i, tokens)
        elif ch == "_" or ch.isalpha():
            i = _scan_name(text, i, tokens)
        elif ch in "'\"":
            i = _scan_text(text, i, tokens)
        elif text[i : i + 2] in _TWO_CHAR:
            tokens.append(Token(_TWO_CHAR[text[i : i + 2]], text[i : i + 2], i))
            i += 2
        elif ch in _ONE_CHAR:
            tokens.append(Token(_ONE_CHAR[ch], ch, i))
            i += 1
        else:
            raise _unexpected_character(text, i)
    tokens.append(Token(TokenKind.END, "", n))
    return tokens


def _is_name_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _scan_digits(text: str, i: int) -> int:
    """Consume digits from `i` (a digit); '_' is allowed only between two digits."""
    n = len(text)
    while True:
        while i < n and text[i] in _DIGITS:
            i += 1
        if i < n and text[i] == "_":
            if i + 1 < n and text[i + 1] in _DIGITS:
                i += 1
                continue
            raise ExprError("'_' in a number must stand between two digits", SYNTAX, i)
        return i


def _scan_number(text: str, start: int, tokens: list[Token]) -> int:
    n = len(text)
    i = _scan_digits(text, start)
    if i < n and text[i] == ".":
        if i + 1 < n and text[i + 1] in _DIGITS:
            i = _scan_digits(text, i + 1)
        else:
            raise ExprError("expected a digit after the decimal point", SYNTAX, i + 1)
    if i < n and text[i] == ".":
        raise ExprError("a number can have only one decimal point", SYNTAX, i)
    if i < n and _is_name_char(text[i]):
        raise ExprError(
            f"unexpected character {_show(text[i])} after the number {text[start:i]}", SYNTAX, i
        )
    raw = text[start:i]
    tokens.append(Token(TokenKind.NUMBER, raw, start, Decimal(raw.replace("_", ""))))
    return i


def _scan_name(text: str, start: int, tokens: list[Token]) -> int:
    n = len(text)
    i = start + 1
    while True:
        while i < n and _is_name_char(text[i]):
            i += 1
        # a dotted name (applicant.job_level): an attribute of a namespace the caller
        # types like any field; a '.' before a digit or a space is no part of it
        if i + 1 < n and text[i] == "." and (text[i + 1] == "_" or text[i + 1].isalpha()):
            i += 1
            continue
        break
    word = text[start:i]
    kind = KEYWORDS.get(word.lower()) if word.isascii() else None
    if kind is None:
        tokens.append(Token(TokenKind.NAME, word, start, word))
    else:
        tokens.append(Token(kind, word, start))
    return i


def _scan_text(text: str, start: int, tokens: list[Token]) -> int:
    quote = text[start]
    n = len(text)
    parts: list[str] = []
    i = start + 1
    while True:
        if i >= n:
            raise ExprError(f"text is missing its closing {quote}", SYNTAX, start)
        ch = text[i]
        if ch == quote:
            i += 1
            break
        if ch == "\\":
            if i + 1 >= n:
                raise ExprError(f"text is missing its closing {quote}", SYNTAX, start)
            escaped = _ESCAPES.get(text[i + 1])
            if escaped is None:
                raise ExprError(
                    f"unknown escape '\\{text[i + 1]}' in text; "
                    "use \\\\, \\', \\\", \\n, \\t or \\r",
                    SYNTAX,
                    i,
                )
            parts.append(escaped)
            i += 2
        else:
            parts.append(ch)
            i += 1
    tokens.append(Token(TokenKind.TEXT, text[start:i], start, "".join(parts)))
    return i


def _show(ch: str) -> str:
    return f"'{ch}'" if ch.isprintable() else f"U+{ord(ch):04X}"


def _unexpected_character(text: str, i: int) -> ExprError:
    ch = text[i]
    if ch == "." and i + 1 < len(text) and text[i + 1] in _DIGITS:
        return ExprError("a number needs a digit before the decimal point, e.g. 0.5", SYNTAX, i)
    hint = _HINTS.get(ch)
    if hint is None:
        folded = unicodedata.normalize("NFKC", ch)
        if folded != ch and folded.isascii() and folded.isprintable() and folded.strip():
            hint = folded
    message = f"unexpected character {_show(ch)}"
    if hint is not None:
        message += f"; did you mean '{hint}'?"
    return ExprError(message, SYNTAX, i)
