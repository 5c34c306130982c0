"""Why this module exists: the syntax tree is the one shape every later stage agrees on.

The parser produces these immutable nodes; the type checker, the compiler and future
tools (formula editors, rule explainers, permission-filter translators) consume them.
Every node carries `position`, the 0-based offset of its most telling token: the
literal, name or function name itself, or the operator for operator nodes. `start`
gives the offset where the node's text begins.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

ArithmeticOp = Literal["+", "-", "*", "/", "&"]
CompareOp = Literal["=", "!=", "<", "<=", ">", ">="]
LogicOp = Literal["and", "or"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    """Base of all syntax-tree nodes."""

    position: int

    def children(self) -> tuple[Node, ...]:
        return ()

    @property
    def start(self) -> int:
        """Offset of the first character of this node's text (parentheses aside)."""
        return self.position


@dataclass(frozen=True, slots=True, kw_only=True)
class NumberLit(Node):
    value: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class TextLit(Node):
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BoolLit(Node):
    value: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class NullLit(Node):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldRef(Node):
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Negate(Node):
    """Unary minus; `position` is the '-'."""

    operand: Node

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True, slots=True, kw_only=True)
class Not(Node):
    """'not' / '!'; `position` is the operator."""

    operand: Node

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True, slots=True, kw_only=True)
class Arithmetic(Node):
    """'+', '-', '*', '/' and '&' (text concatenation); `position` is the operator."""

    op: ArithmeticOp
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)

    @property
    def start(self) -> int:
        return self.left.start


@dataclass(frozen=True, slots=True, kw_only=True)
class Compare(Node):
    """A comparison; '==' is stored as '=' and '<>' as '!='. `position` is the operator."""

    op: CompareOp
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)

    @property
    def start(self) -> int:
        return self.left.start


@dataclass(frozen=True, slots=True, kw_only=True)
class Logic(Node):
    """A chain `a and b and c` (or 'or'), flattened; `position` is the first operator."""

    op: LogicOp
    operands: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.operands

    @property
    def start(self) -> int:
        return self.operands[0].start


@dataclass(frozen=True, slots=True, kw_only=True)
class InList(Node):
    """`subject in (items)` or, when `negated`, `subject not in (items)`.

    `position` is the 'in' (or the 'not' of 'not in').
    """

    subject: Node
    items: tuple[Node, ...]
    negated: bool

    def children(self) -> tuple[Node, ...]:
        return (self.subject, *self.items)

    @property
    def start(self) -> int:
        return self.subject.start


@dataclass(frozen=True, slots=True, kw_only=True)
class Call(Node):
    """A function call; `name` is upper-cased, `position` is the name."""

    name: str
    args: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.args
