"""Hostile input: length and nesting limits, and random garbage that must only raise ExprError."""

from __future__ import annotations

import random
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from flowdesk.engines.expr import (
    ERROR_CODES,
    MAX_DEPTH,
    MAX_LENGTH,
    ExprError,
    ExprType,
    compile_expression,
    parse,
)

FIELDS: dict[str, ExprType] = {
    "amount": ExprType.NUMBER,
    "region": ExprType.TEXT,
    "approved": ExprType.BOOL,
    "due": ExprType.DATE,
    "extra": ExprType.ANY,
    "金额": ExprType.NUMBER,
}


def error_of(text: str) -> ExprError:
    with pytest.raises(ExprError) as info:
        compile_expression(text, FIELDS)
    return info.value


def test_long_input_is_refused() -> None:
    at_limit = "amount + " * 10 + "1"
    assert compile_expression(at_limit + " " * (MAX_LENGTH - len(at_limit)), FIELDS)
    error = error_of("1" + " " * MAX_LENGTH)
    assert (error.code, error.position) == ("too_long", MAX_LENGTH)
    assert "4001 characters" in error.message
    with pytest.raises(ExprError) as info:
        parse("x" * 1_000_000)
    assert info.value.code == "too_long"


@pytest.mark.parametrize(
    ("opener", "closer"),
    [("(", ")"), ("-(", ")"), ("ABS(", ")"), ("not (", ")"), ("1 in (", ")")],
)
def test_nesting_up_to_the_limit_is_fine(opener: str, closer: str) -> None:
    depth = MAX_DEPTH // 2
    text = opener * depth + "1" + closer * depth
    parse(text)


def test_deep_parentheses_are_refused() -> None:
    assert parse("(" * MAX_DEPTH + "1" + ")" * MAX_DEPTH)
    text = "(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1)
    error = error_of(text)
    assert (error.code, error.position) == ("too_deep", MAX_DEPTH)
    assert error.message == "the expression is nested too deeply (more than 64 levels)"


def test_deep_prefix_operators_are_refused() -> None:
    assert parse("-" * MAX_DEPTH + "1")
    assert error_of("-" * (MAX_DEPTH + 1) + "1").code == "too_deep"
    assert error_of("not " * (MAX_DEPTH + 1) + "true").code == "too_deep"
    assert error_of("ABS(" * 65 + "1" + ")" * 65).code == "too_deep"


def test_long_operator_chains_are_refused() -> None:
    assert compile_expression(" + ".join(["1"] * (MAX_DEPTH + 1)), FIELDS)
    error = error_of(" + ".join(["1"] * (MAX_DEPTH + 2)))
    assert error.code == "too_deep"
    assert error_of("1" + "*1" * 1500).code == "too_deep"


def test_long_and_or_chains_and_lists_are_flat() -> None:
    conditions = " or ".join(f"amount={i}" for i in range(250))
    compiled = compile_expression(conditions, FIELDS)
    assert compiled.evaluate({"amount": 249}) is True
    items = ",".join(str(i) for i in range(700))
    assert compile_expression(f"amount in ({items})", FIELDS).evaluate({"amount": 5}) is True


def test_hostile_inputs_fail_fast_with_expr_error() -> None:
    for text in (
        "(" * 3999,
        "[" * 3999,
        "-" * 3999,
        "!" * 3999,
        "not " * 999,
        "ABS(" * 999,
        "1 in (" * 600,
        "'" + "\\" * 3998,
        "1+" * 1999 + "1",
        "a and " * 600 + "a",
    ):
        with pytest.raises(ExprError) as info:
            compile_expression(text, FIELDS)
        assert info.value.code in ERROR_CODES


def test_every_error_code_is_exercised() -> None:
    """Each stable code, with the position it reports."""
    cases = {
        "syntax": ("amount <", 8),
        "too_long": ("1" * (MAX_LENGTH + 1), MAX_LENGTH),
        "too_deep": ("(" * 65 + "1" + ")" * 65, 64),
        "unknown_field": ("amount > 1 and amout > 2", 15),
        "unknown_function": ("amount > FOO(1)", 9),
        "argument_count": ("1 + ABS(1, 2)", 4),
        "type_mismatch": ("region > 5", 7),
        "invalid_date": ("due = DATE('2026-02-31')", 11),
        "invalid_argument": ("TEXT(amount, 'hh:mm') = ''", 13),
        "invalid_pattern": ("REGEXMATCH(region, '[0-9')", 19),
    }
    seen = set()
    for code, (text, position) in cases.items():
        error = error_of(text)
        assert (error.code, error.position) == (code, position), text
        assert str(error) == f"{error.message} (at character {position + 1})"
        seen.add(code)
    compiled = compile_expression("region = 'x' or amount > 1", FIELDS)
    for value, code in ((1.5, "float_value"), ("1", "invalid_value")):
        with pytest.raises(ExprError) as info:
            compiled.evaluate({"amount": value})
        assert (info.value.code, info.value.position) == (code, 16)
        seen.add(code)
    assert seen == ERROR_CODES


# -- random garbage --------------------------------------------------------------------

_FRAGMENTS = [
    "amount",
    "region",
    "approved",
    "due",
    "extra",
    "金额",
    "amout",
    "1",
    "0",
    "0.5",
    "1_000",
    "-",
    "+",
    "*",
    "/",
    "&",
    "=",
    "==",
    "!=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "and",
    "or",
    "not",
    "&&",
    "||",
    "!",
    "in",
    "(",
    ")",
    "[",
    "]",
    ",",
    "'A'",
    '"b"',
    "''",
    "true",
    "false",
    "null",
    "IF(",
    "ABS(",
    "ROUND(",
    "MIN(",
    "MAX(",
    "LEN(",
    "UPPER(",
    "LOWER(",
    "CONTAINS(",
    "ISBLANK(",
    "DATE(",
    "DATE('2026-01-31')",
    "FOO(",
    "'",
    "\\",
    ".",
    "_",
    "（",
    "|",
    " ",
]

_CHARACTERS = "abcxyz_019 .,'\"\\()[]+-*/&=!<>|#$%^~`?:;{}\n\t金额（）‘’＝\x00"

_VALUE_POOL: list[object] = [
    None,
    0,
    7,
    -3,
    Decimal("0"),
    Decimal("50000.01"),
    Decimal("1E+999990"),
    "",
    "A",
    "2026-01-31",
    True,
    False,
    date(2026, 1, 31),
    1.5,
    object(),
]


_OPERATORS = ["+", "-", "*", "/", "&", "=", "!=", "<", ">=", "and", "or", "||", "&&"]


def _random_expression(rng: random.Random, depth: int = 0) -> str:
    """A well-formed but often ill-typed expression, so checking and evaluation get exercised."""
    roll = rng.random()
    if depth > 4 or roll < 0.35:
        return rng.choice(["amount", "region", "approved", "due", "extra", "金额"])
    if roll < 0.5:
        return rng.choice(
            ["1", "0", "-2.5", "'A'", "''", "true", "false", "null", "DATE('2026-01-31')"]
        )
    if roll < 0.75:
        left = _random_expression(rng, depth + 1)
        right = _random_expression(rng, depth + 1)
        return f"({left} {rng.choice(_OPERATORS)} {right})"
    if roll < 0.8:
        return f"{rng.choice(['not ', '-', '!'])}{_random_expression(rng, depth + 1)}"
    if roll < 0.85:
        items = ", ".join(_random_expression(rng, depth + 1) for _ in range(rng.randint(1, 3)))
        return f"{_random_expression(rng, depth + 1)} {rng.choice(['in', 'not in'])} ({items})"
    name = rng.choice(["IF", "ABS", "ROUND", "MIN", "MAX", "LEN", "UPPER", "CONTAINS", "ISBLANK"])
    args = ", ".join(_random_expression(rng, depth + 1) for _ in range(rng.randint(1, 3)))
    return f"{name}({args})"


def _random_text(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.3:
        return "".join(rng.choice(_CHARACTERS) for _ in range(rng.randint(0, 40)))
    if roll < 0.6:
        return " ".join(rng.choice(_FRAGMENTS) for _ in range(rng.randint(1, 15)))
    return _random_expression(rng)


def test_random_garbage_only_raises_expr_error() -> None:
    rng = random.Random(20260131)
    compiled_count = 0
    for _ in range(2000):
        text = _random_text(rng)
        try:
            compiled = compile_expression(text, FIELDS)
        except ExprError as error:
            assert error.code in ERROR_CODES
            assert 0 <= error.position <= len(text)
            continue
        compiled_count += 1
        for _ in range(5):
            values = {name: rng.choice(_VALUE_POOL) for name in FIELDS}
            try:
                compiled.evaluate(values)
            except ExprError as error:
                assert error.code in ("float_value", "invalid_value")
    assert compiled_count > 100  # the generator also produces valid expressions


def test_no_eval_exec_or_compile_in_the_package() -> None:
    package = Path(__file__).resolve().parents[3] / "src" / "flowdesk" / "engines" / "expr"
    sources = sorted(package.glob("*.py"))
    assert sources
    banned = re.compile(r"\b(eval|exec|compile|__import__)\s*\(")
    for path in sources:
        assert banned.search(path.read_text(encoding="utf-8")) is None, path
