"""Why this module exists: it turns tokens into a syntax tree by the language's grammar.

A Pratt parser (precedence climbing) keeps the grammar in one table of binding powers:

    or  <  and  <  not  <  comparisons, in, not in  <  + - &  <  * /  <  unary -  <  calls

It also refuses hostile input before any recursion can hurt: text longer than
`MAX_LENGTH` characters ("too_long") and nesting deeper than `MAX_DEPTH` levels
("too_deep"), counting both the parser's own nesting (parentheses, lists, calls,
prefix operators) and the depth of the finished tree (long operator chains).
"""

from __future__ import annotations

import difflib

from flowdesk.engines.expr.errors import SYNTAX, TOO_DEEP, TOO_LONG, ExprError
from flowdesk.engines.expr.nodes import (
    Arithmetic,
    ArithmeticOp,
    BoolLit,
    Call,
    Compare,
    CompareOp,
    FieldRef,
    InList,
    Logic,
    Negate,
    Node,
    Not,
    NullLit,
    NumberLit,
    TextLit,
)
from flowdesk.engines.expr.tokens import KEYWORDS, Token, TokenKind, tokenize

MAX_LENGTH = 4000
MAX_DEPTH = 64

_OR_BP = 10
_AND_BP = 20
_NOT_BP = 30
_COMPARE_BP = 40
_ADD_BP = 50
_MUL_BP = 60
_UNARY_BP = 70

_COMPARE_OPS: dict[TokenKind, CompareOp] = {
    TokenKind.EQ: "=",
    TokenKind.NE: "!=",
    TokenKind.LT: "<",
    TokenKind.LE: "<=",
    TokenKind.GT: ">",
    TokenKind.GE: ">=",
}

_ARITHMETIC_OPS: dict[TokenKind, tuple[ArithmeticOp, int]] = {
    TokenKind.PLUS: ("+", _ADD_BP),
    TokenKind.MINUS: ("-", _ADD_BP),
    TokenKind.AMP: ("&", _ADD_BP),
    TokenKind.STAR: ("*", _MUL_BP),
    TokenKind.SLASH: ("/", _MUL_BP),
}

_CLOSERS = {TokenKind.LPAREN: TokenKind.RPAREN, TokenKind.LBRACKET: TokenKind.RBRACKET}


def parse(text: str) -> Node:
    """Parse expression text into its syntax tree; raises ExprError."""
    if len(text) > MAX_LENGTH:
        raise ExprError(
            f"the expression is too long: {len(text)} characters, at most {MAX_LENGTH} allowed",
            TOO_LONG,
            MAX_LENGTH,
        )
    parser = _Parser(tokenize(text))
    root = parser.expression(0)
    parser.expect_end()
    _check_tree_depth(root)
    return root


def _check_tree_depth(root: Node) -> None:
    """Refuse trees deeper than MAX_DEPTH without recursing (chains like 1+1+…+1)."""
    stack: list[tuple[Node, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExprError(
                f"the expression is nested too deeply (more than {MAX_DEPTH} levels)",
                TOO_DEEP,
                node.position,
            )
        stack.extend((child, depth + 1) for child in node.children())


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens
        self._index = 0
        self._nesting = 0

    # -- token helpers -------------------------------------------------------------

    def _peek(self, ahead: int = 0) -> Token:
        return self._tokens[min(self._index + ahead, len(self._tokens) - 1)]

    def _advance(self) -> Token:
        token = self._peek()
        if token.kind is not TokenKind.END:
            self._index += 1
        return token

    def _expect(self, kind: TokenKind, what: str) -> Token:
        token = self._peek()
        if token.kind is not kind:
            raise ExprError(f"expected {what} but found {token.describe()}", SYNTAX, token.position)
        return self._advance()

    def _enter(self, token: Token) -> None:
        self._nesting += 1
        if self._nesting > MAX_DEPTH:
            raise ExprError(
                f"the expression is nested too deeply (more than {MAX_DEPTH} levels)",
                TOO_DEEP,
                token.position,
            )

    def _leave(self) -> None:
        self._nesting -= 1

    def expect_end(self) -> None:
        token = self._peek()
        if token.kind is TokenKind.END:
            return
        if token.kind in (TokenKind.RPAREN, TokenKind.RBRACKET):
            raise ExprError(
                f"unexpected {token.describe()} without a matching opening bracket",
                SYNTAX,
                token.position,
            )
        message = f"expected an operator or the end of the expression but found {token.describe()}"
        if token.kind is TokenKind.NAME:
            close = difflib.get_close_matches(token.text.lower(), list(KEYWORDS), n=1)
            if close:
                message += f"; did you mean '{close[0]}'?"
        raise ExprError(message, SYNTAX, token.position)

    # -- grammar -------------------------------------------------------------------

    def expression(self, min_bp: int) -> Node:
        """Parse an expression whose infix operators all bind tighter than `min_bp`."""
        left = self._prefix()
        after_comparison = False
        while True:
            token = self._peek()
            kind = token.kind
            if kind in _COMPARE_OPS or kind is TokenKind.IN or kind is TokenKind.NOT:
                if min_bp >= _COMPARE_BP:
                    break
                if after_comparison:
                    raise ExprError(
                        "comparisons cannot be chained; join them with 'and'",
                        SYNTAX,
                        token.position,
                    )
                if kind in _COMPARE_OPS:
                    self._advance()
                    right = self.expression(_COMPARE_BP)
                    left = Compare(
                        op=_COMPARE_OPS[kind], left=left, right=right, position=token.position
                    )
                else:
                    left = self._in_list(left)
                after_comparison = True
            elif kind in _ARITHMETIC_OPS:
                op, bp = _ARITHMETIC_OPS[kind]
                if bp <= min_bp:
                    break
                self._advance()
                right = self.expression(bp)
                left = Arithmetic(op=op, left=left, right=right, position=token.position)
            elif kind is TokenKind.AND or kind is TokenKind.OR:
                bp = _AND_BP if kind is TokenKind.AND else _OR_BP
                if bp <= min_bp:
                    break
                operands = [left]
                while self._peek().kind is kind:
                    self._advance()
                    operands.append(self.expression(bp))
                left = Logic(
                    op="and" if kind is TokenKind.AND else "or",
                    operands=tuple(operands),
                    position=token.position,
                )
                after_comparison = False
            else:
                break
        return left

    def _prefix(self) -> Node:
        token = self._advance()
        kind = token.kind
        if kind is TokenKind.NUMBER or kind is TokenKind.TEXT:
            value = token.value
            if isinstance(value, str):
                return TextLit(value=value, position=token.position)
            assert value is not None
            return NumberLit(value=value, position=token.position)
        if kind is TokenKind.TRUE or kind is TokenKind.FALSE:
            return BoolLit(value=kind is TokenKind.TRUE, position=token.position)
        if kind is TokenKind.NULL:
            return NullLit(position=token.position)
        if kind is TokenKind.NAME:
            if self._peek().kind is TokenKind.LPAREN:
                if "." in token.text:  # a dotted name is an attribute, never a method
                    dot = token.position + token.text.rindex(".")
                    raise ExprError(
                        f"'{token.text}' is not a function: there are no method calls",
                        SYNTAX,
                        dot,
                    )
                return self._call(token)
            return FieldRef(name=token.text, position=token.position)
        if kind is TokenKind.LPAREN:
            self._enter(token)
            inner = self.expression(0)
            self._expect(TokenKind.RPAREN, "')'")
            self._leave()
            return inner
        if kind is TokenKind.MINUS:
            self._enter(token)
            operand = self.expression(_UNARY_BP)
            self._leave()
            return Negate(operand=operand, position=token.position)
        if kind in (TokenKind.AND, TokenKind.OR) and self._peek().kind is TokenKind.LPAREN:
            # AND(a, b) / OR(a, b) as Excel writes them: a call where a value is expected
            return self._call(token)
        if kind is TokenKind.NOT:
            self._enter(token)
            operand = self.expression(_NOT_BP)
            self._leave()
            return Not(operand=operand, position=token.position)
        raise ExprError(f"expected a value but found {token.describe()}", SYNTAX, token.position)

    def _call(self, name: Token) -> Node:
        self._enter(name)
        self._advance()  # '('
        args: list[Node] = []
        if self._peek().kind is TokenKind.RPAREN:
            self._advance()
        else:
            while True:
                args.append(self.expression(0))
                token = self._advance()
                if token.kind is TokenKind.RPAREN:
                    break
                if token.kind is not TokenKind.COMMA:
                    raise ExprError(
                        f"expected ',' or ')' but found {token.describe()}",
                        SYNTAX,
                        token.position,
                    )
        self._leave()
        return Call(name=name.text.upper(), args=tuple(args), position=name.position)

    def _in_list(self, subject: Node) -> Node:
        first = self._advance()  # 'in' or 'not'
        negated = first.kind is TokenKind.NOT
        if negated:
            self._expect(TokenKind.IN, "'in' after 'not'")
        opener = self._advance()
        closer = _CLOSERS.get(opener.kind)
        if closer is None:
            raise ExprError(
                f"expected '(' or '[' after 'in' but found {opener.describe()}",
                SYNTAX,
                opener.position,
            )
        self._enter(opener)
        if self._peek().kind is closer:
            raise ExprError(
                "the list after 'in' needs at least one value", SYNTAX, self._peek().position
            )
        items: list[Node] = []
        while True:
            items.append(self.expression(0))
            token = self._advance()
            if token.kind is closer:
                break
            if token.kind is not TokenKind.COMMA:
                raise ExprError(
                    f"expected ',' or '{closer.value}' but found {token.describe()}",
                    SYNTAX,
                    token.position,
                )
        self._leave()
        return InList(subject=subject, items=tuple(items), negated=negated, position=first.position)
