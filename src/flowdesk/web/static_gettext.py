"""Translate literal messages when a template is compiled, not on every render.

Every language has its own Jinja environment (render.py), so a call such as
`_("Ticket")` or `pgettext("event", "Approved")` with nothing but string literals has one
answer per environment. This extension replaces such a call by its translation as a
string literal, which Jinja then folds into the template's static text: a page's
hundreds of labels cost nothing at render time (a newstyle gettext call costs about
10 µs; they were a fifth of the inbox's rendering).

Only translations that render identically either way are folded: newstyle gettext
returns `Markup(translation) % {}` under autoescape, and a literal is escaped on output,
so a translation with `&`, `<`, `>`, quotes or `%` keeps the runtime call. Calls with
variables, `ngettext` and `{% trans %}` blocks are left alone, and `pybabel extract`
still finds every message in the template source.
"""

from __future__ import annotations

from collections.abc import Iterator

from babel.support import Translations
from jinja2 import Environment
from jinja2.ext import Extension
from jinja2.lexer import (
    TOKEN_COMMA,
    TOKEN_DOT,
    TOKEN_LPAREN,
    TOKEN_NAME,
    TOKEN_RPAREN,
    TOKEN_STRING,
    Token,
    TokenStream,
)

# how many string arguments each foldable function takes
_ARITY = {"_": 1, "gettext": 1, "pgettext": 2}
_UNSAFE = frozenset("&<>\"'%")


class StaticGettext(Extension):
    """Folds literal gettext calls using the catalog `environment.static_catalog`."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.extend(static_catalog=None)

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        catalog: Translations | None = self.environment.static_catalog  # type: ignore[attr-defined]
        pending: list[Token] = []  # a call being matched: name ( string [, string] )
        previous: Token | None = None  # `x._(…)` is a method call, not gettext
        for token in stream:
            if not pending and (previous is not None and previous.type == TOKEN_DOT):
                previous = token
                yield token
                continue
            previous = token
            pending.append(token)
            folded = _match(pending, catalog)
            if folded is True:
                continue  # still a possible call: keep collecting
            if isinstance(folded, Token):
                yield folded
                pending = []
            elif len(pending) > 1 and _match([token], catalog) is True:
                yield from pending[:-1]  # the last token may start a call of its own
                pending = [token]
            else:
                yield from pending
                pending = []
        yield from pending


def _match(tokens: list[Token], catalog: Translations | None) -> Token | bool | None:
    """True: a prefix of a foldable call; a Token: the whole call, folded; None: no call."""
    head = tokens[0]
    arity = _ARITY.get(head.value) if head.type == TOKEN_NAME else None
    if arity is None or catalog is None:
        return None
    strings = [TOKEN_STRING, *[TOKEN_COMMA, TOKEN_STRING] * (arity - 1)]
    expected = [TOKEN_NAME, TOKEN_LPAREN, *strings, TOKEN_RPAREN]
    if [t.type for t in tokens] != expected[: len(tokens)]:
        return None
    if len(tokens) < len(expected):
        return True
    args = [t.value for t in tokens[2:-1:2]]
    text = str(catalog.gettext(args[0]) if arity == 1 else catalog.pgettext(args[0], args[1]))
    if _UNSAFE.intersection(text):
        return None
    return Token(head.lineno, TOKEN_STRING, text)
