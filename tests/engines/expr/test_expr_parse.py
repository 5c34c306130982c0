"""Tokenizer and parser: tree shapes, precedence, literals and syntax errors with positions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flowdesk.engines.expr import ExprError, parse
from flowdesk.engines.expr.nodes import (
    Arithmetic,
    BoolLit,
    Call,
    Compare,
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
from flowdesk.engines.expr.tokens import TokenKind, tokenize


def show(node: Node) -> str:
    """A compact fully-parenthesized rendering, to assert tree shape and precedence."""
    if isinstance(node, NumberLit):
        return str(node.value)
    if isinstance(node, TextLit):
        return repr(node.value)
    if isinstance(node, BoolLit):
        return str(node.value).lower()
    if isinstance(node, NullLit):
        return "null"
    if isinstance(node, FieldRef):
        return node.name
    if isinstance(node, Negate):
        return f"(-{show(node.operand)})"
    if isinstance(node, Not):
        return f"(not {show(node.operand)})"
    if isinstance(node, Arithmetic | Compare):
        return f"({show(node.left)} {node.op} {show(node.right)})"
    if isinstance(node, Logic):
        return "(" + f" {node.op} ".join(show(o) for o in node.operands) + ")"
    if isinstance(node, InList):
        keyword = "not in" if node.negated else "in"
        return f"({show(node.subject)} {keyword} [{', '.join(show(i) for i in node.items)}])"
    if isinstance(node, Call):
        return f"{node.name}({', '.join(show(a) for a in node.args)})"
    raise AssertionError(node)


def syntax_error(text: str) -> ExprError:
    with pytest.raises(ExprError) as info:
        parse(text)
    assert info.value.code == "syntax"
    return info.value


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("1 + 2 * 3", "(1 + (2 * 3))"),
        ("(1 + 2) * 3", "((1 + 2) * 3)"),
        ("1 - 2 - 3", "((1 - 2) - 3)"),
        ("8 / 4 / 2", "((8 / 4) / 2)"),
        ("-a * b", "((-a) * b)"),
        ("- - a", "(-(-a))"),
        ("2 - -3", "(2 - (-3))"),
        ("a & b + c", "((a & b) + c)"),
        ("a + b * c = d", "((a + (b * c)) = d)"),
        ("a or b and c", "(a or (b and c))"),
        ("a and b or c and d", "((a and b) or (c and d))"),
        ("a or b or c", "(a or b or c)"),
        ("a and b and c", "(a and b and c)"),
        ("not a and b", "((not a) and b)"),
        ("not a = b", "(not (a = b))"),
        ("not not a", "(not (not a))"),
        ("! a || b && c", "((not a) or (b and c))"),
        ("a = 1 or b in ('x') and c < 2", "((a = 1) or ((b in ['x']) and (c < 2)))"),
        ("x in (1, 2) and y", "((x in [1, 2]) and y)"),
        ("x + 1 not in [1, 2]", "((x + 1) not in [1, 2])"),
        ("IF(a, b, c) * 2", "(IF(a, b, c) * 2)"),
        ("round(a, 2)", "ROUND(a, 2)"),
        ("(a = b) = c", "((a = b) = c)"),
        ("a == b", "(a = b)"),
        ("a <> b", "(a != b)"),
        ("a != b", "(a != b)"),
        ("a >= b", "(a >= b)"),
        ("a > b", "(a > b)"),
        ("a <= b", "(a <= b)"),
        ("a < b", "(a < b)"),
        ("a AND b Or NOT c", "((a and b) or (not c))"),
        ("((((a))))", "a"),
        ("F()", "F()"),
    ],
)
def test_precedence_and_shape(text: str, tree: str) -> None:
    assert show(parse(text)) == tree


def test_literals() -> None:
    assert parse("50000") == NumberLit(value=Decimal("50000"), position=0)
    assert parse("1_000_000.000_5") == NumberLit(value=Decimal("1000000.0005"), position=0)
    assert parse(" 0.05").position == 1
    assert isinstance(parse("0.05"), NumberLit)
    assert parse("0.05") == NumberLit(value=Decimal("0.05"), position=0)
    assert parse("'it\\'s'") == TextLit(value="it's", position=0)
    assert parse('"a\\"b\\\\c\\n\\t\\r"') == TextLit(value='a"b\\c\n\t\r', position=0)
    assert parse("'say \"hi\"'") == TextLit(value='say "hi"', position=0)
    assert parse("TRUE") == BoolLit(value=True, position=0)
    assert parse("False") == BoolLit(value=False, position=0)
    assert parse("NULL") == NullLit(position=0)


def test_identifiers_in_any_script() -> None:
    assert parse("金额 > 1") == Compare(
        op=">",
        left=FieldRef(name="金额", position=0),
        right=NumberLit(value=Decimal(1), position=5),
        position=3,
    )
    assert parse("_x1") == FieldRef(name="_x1", position=0)
    assert parse("Amount") == FieldRef(name="Amount", position=0)


def test_keywords_are_case_insensitive_but_only_whole_words() -> None:
    assert show(parse("andy or order")) == "(andy or order)"
    assert show(parse("x IN (1) AnD y")) == "((x in [1]) and y)"


def test_positions_point_at_operators_and_names() -> None:
    tree = parse("amount <= 50000")
    assert isinstance(tree, Compare)
    assert (tree.position, tree.left.position, tree.right.position) == (7, 0, 10)
    call = parse("  max(a, b)")
    assert isinstance(call, Call) and call.position == 2
    assert call.args[1].position == 9


def test_tokens_keep_source_spelling() -> None:
    tokens = tokenize("a<>b && !c")
    assert [t.kind for t in tokens] == [
        TokenKind.NAME,
        TokenKind.NE,
        TokenKind.NAME,
        TokenKind.AND,
        TokenKind.NOT,
        TokenKind.NAME,
        TokenKind.END,
    ]
    assert [t.text for t in tokens] == ["a", "<>", "b", "&&", "!", "c", ""]
    assert tokens[-1].position == len("a<>b && !c")


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("", 0, "expected a value but found end of expression"),
        ("   ", 3, "expected a value but found end of expression"),
        ("1 +", 3, "expected a value but found end of expression"),
        ("(1 + 2", 6, "expected ')' but found end of expression"),
        ("1 + 2)", 5, "unexpected ')' without a matching opening bracket"),
        ("a b", 2, "expected an operator or the end of the expression but found 'b'"),
        ("a adn b", 2, "did you mean 'and'?"),
        ("a 5", 2, "found number 5"),
        ("a < b < c", 6, "comparisons cannot be chained"),
        ("a = b in (1)", 6, "comparisons cannot be chained"),
        ("a not b", 6, "expected 'in' after 'not' but found 'b'"),
        ("a in b", 5, "expected '(' or '[' after 'in' but found 'b'"),
        ("a in ()", 6, "the list after 'in' needs at least one value"),
        ("a in (1, 2]", 10, "expected ',' or ')' but found ']'"),
        ("a in [1 2]", 8, "expected ',' or ']' but found number 2"),
        ("MAX(1 2)", 6, "expected ',' or ')' but found number 2"),
        ("MAX(1,", 6, "expected a value but found end of expression"),
        ("*", 0, "expected a value but found '*'"),
        ("'abc", 0, "text is missing its closing '"),
        ('"abc\\"', 0, 'text is missing its closing "'),
        ("'a\\qb'", 2, "unknown escape '\\q'"),
        ("1.", 2, "expected a digit after the decimal point"),
        ("1.x", 2, "expected a digit after the decimal point"),
        (".5", 0, "a number needs a digit before the decimal point"),
        ("1__0", 1, "'_' in a number must stand between two digits"),
        ("10_", 2, "'_' in a number must stand between two digits"),
        ("50000yuan", 5, "unexpected character 'y' after the number 50000"),
        ("a | b", 2, "unexpected character '|'; did you mean '||'?"),
        ("a # b", 2, "unexpected character '#'"),
        ("a = ‘x’", 4, "did you mean '''?"),
        ("MAX（1）", 3, "unexpected character '（'; did you mean '('?"),
        ("a ＞ 1", 2, "did you mean '>'?"),
        ("a\x00", 1, "unexpected character U+0000"),
        ("1.5.3", 3, "a number can have only one decimal point"),
        ("a = = b", 4, "expected a value but found '='"),
    ],
)
def test_syntax_errors_have_positions(text: str, position: int, message: str) -> None:
    error = syntax_error(text)
    assert error.position == position
    assert message in error.message


def test_error_text_format() -> None:
    error = syntax_error("(1 + 2")
    assert str(error) == "expected ')' but found end of expression (at character 7)"
    assert repr(error) == "ExprError(\"expected ')' but found end of expression\", 'syntax', 6)"
