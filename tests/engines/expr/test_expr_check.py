"""Type checking: unknown names, wrong types, argument counts, expected result types."""

from __future__ import annotations

import pytest

from flowdesk.engines.expr import ExprError, ExprType, compile_expression

N, T, B, D, ANY = ExprType.NUMBER, ExprType.TEXT, ExprType.BOOL, ExprType.DATE, ExprType.ANY

FIELDS: dict[str, ExprType] = {
    "amount": N,
    "term_months": N,
    "credit_rating": T,
    "region": T,
    "approved": B,
    "due": D,
    "extra": ANY,
    "金额": N,
}


def error_of(text: str, expect: ExprType | None = None) -> ExprError:
    with pytest.raises(ExprError) as info:
        compile_expression(text, FIELDS, expect=expect)
    return info.value


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("amount", N),
        ("amount + 1", N),
        ("region + 'x'", T),
        ("region & amount", T),
        ("amount & due & approved & null", T),
        ("-amount", N),
        ("amount <= 50000", B),
        ("not approved", B),
        ("approved = true", B),
        ("approved != false", B),
        ("due < DATE('2026-01-01')", B),
        ("region < 'M'", B),
        ("region in ('A', null)", B),
        ("amount = null", B),
        ("null = amount", B),
        ("null", ExprType.NULL),
        ("null + null", ExprType.NULL),
        ("extra", ANY),
        ("extra + 1", N),
        ("extra + 'a'", T),
        ("extra + extra", ANY),
        ("extra + null", ANY),
        ("null + 1", N),
        ("extra = 1 and extra", B),
        ("extra < 'b'", B),
        ("IF(approved, 1, null)", N),
        ("IF(approved, null, 'x')", T),
        ("IF(approved, extra, 1)", ANY),
        ("IF(null, null, null)", ExprType.NULL),
        ("IF(extra, due, due)", D),
        ("ISBLANK(due)", B),
        ("MIN(amount, 1, extra, null)", N),
        ("金额 > 0", B),
    ],
)
def test_result_types(text: str, result: ExprType) -> None:
    compiled = compile_expression(text, FIELDS)
    assert compiled.result_type is result


def test_fields_used() -> None:
    compiled = compile_expression("amount > 5 and (region = 'E' or amount < 9)", FIELDS)
    assert compiled.fields_used == frozenset({"amount", "region"})
    assert compile_expression("1 = 1", FIELDS).fields_used == frozenset()


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("amout > 5", 0, "unknown field 'amout'; did you mean 'amount'?"),
        ("1 + Amount", 4, "unknown field 'Amount'; did you mean 'amount'?"),
        ("credit_ratng in ('A')", 0, "unknown field 'credit_ratng'; did you mean 'credit_rating'?"),
        ("amount > 0 and zzz", 15, "unknown field 'zzz'"),
        ("金 > 0", 0, "unknown field '金'; did you mean '金额'?"),
        ("REGION2 = 'x'", 0, "unknown field 'REGION2'; did you mean 'region'?"),
    ],
)
def test_unknown_field(text: str, position: int, message: str) -> None:
    error = error_of(text)
    assert (error.code, error.position) == ("unknown_field", position)
    assert error.message == message


def test_unknown_function() -> None:
    error = error_of("amount > 0 and IFF(approved, true, false)")
    assert (error.code, error.position) == ("unknown_function", 15)
    assert error.message == "unknown function 'IFF'; did you mean 'IF'?"
    error = error_of("XLOOKUP(amount) > due")
    assert (error.code, error.position, error.message) == (
        "unknown_function",
        0,
        "unknown function 'XLOOKUP'",
    )


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("IF(approved, 1)", 0, "IF takes 3 arguments but got 2"),
        ("ABS()", 0, "ABS takes 1 argument but got 0"),
        ("1 + ROUND(1, 2, 3)", 4, "ROUND takes 1 to 2 arguments but got 3"),
        ("MAX()", 0, "MAX takes at least 1 argument but got 0"),
        ("CONTAINS('a')", 0, "CONTAINS takes 2 arguments but got 1"),
    ],
)
def test_argument_count(text: str, position: int, message: str) -> None:
    error = error_of(text)
    assert (error.code, error.position, error.message) == ("argument_count", position, message)


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("amount > 'x'", 7, "cannot compare number with text"),
        ("region = 5", 7, "cannot compare text with number"),
        ("due = '2026-01-01'", 4, "cannot compare date with text; write dates as DATE("),
        ("approved < true", 9, "cannot use '<' on bool values"),
        ("amount >= null", 7, "cannot use '>=' with null; use '= null' or '!= null'"),
        ("amount + region", 7, "'+' needs two numbers or two texts, but got number and text"),
        ("amount + region", 7, "use '&' to join text"),
        ("approved + 1", 9, "'+' needs two numbers or two texts, but got bool and number"),
        ("region - 1", 0, "'-' needs numbers, but this is text"),
        ("2 * (region & 'x')", 5, "'*' needs numbers, but this is text"),
        ("amount / due", 9, "'/' needs numbers, but this is date"),
        ("-region", 1, "'-' needs a number, but this is text"),
        ("not amount", 4, "'not' needs true/false values, but this is number"),
        ("approved and amount + 1", 13, "'and' needs true/false values, but this is number"),
        ("region or approved", 0, "'or' needs true/false values, but this is text"),
        ("amount in (1, 'two')", 14, "cannot compare number with text in the list"),
        ("region not in ['A', 1 + 1]", 20, "cannot compare text with number in the list"),
        ("LEN(amount)", 4, "argument 1 of LEN must be text, but this is number"),
        ("ROUND(amount, '2')", 14, "argument 2 of ROUND must be number, but this is text"),
        ("IF(amount, 1, 2)", 3, "argument 1 of IF must be bool, but this is number"),
        ("IF(approved, 1, 'a')", 16, "IF needs both results of the same type"),
        ("MAX(1, 2, 'x')", 10, "argument 3 of MAX must be number, but this is text"),
        ("DATE(1)", 5, "argument 1 of DATE must be text, but this is number"),
    ],
)
def test_type_mismatch(text: str, position: int, message: str) -> None:
    error = error_of(text)
    assert (error.code, error.position) == ("type_mismatch", position)
    assert message in error.message


def test_invalid_date_literal() -> None:
    for literal in ("'2026-02-30'", "'31/01/2026'", "'2026-1-31'", "'20260131'", "''"):
        error = error_of(f"due > DATE({literal})")
        assert (error.code, error.position) == ("invalid_date", 11)
        assert "YYYY-MM-DD" in error.message


def test_expected_result_type() -> None:
    assert compile_expression("amount > 1", FIELDS, expect=B).result_type is B
    error = error_of("amount + 1", expect=B)
    assert (error.code, error.position) == ("type_mismatch", 0)
    assert error.message == "the expression must give a bool value, but it gives number"
    error = error_of("  (region)", expect=N)
    assert (error.code, error.position) == ("type_mismatch", 3)
    # ANY and null results satisfy any expectation; ANY as expectation accepts anything.
    assert compile_expression("extra", FIELDS, expect=B).result_type is B
    assert compile_expression("null", FIELDS, expect=N).result_type is N
    assert compile_expression("amount", FIELDS, expect=ANY).result_type is N


def test_expected_type_narrows_any_at_run_time() -> None:
    compiled = compile_expression("extra", FIELDS, expect=B)
    assert compiled.evaluate({"extra": True}) is True
    assert compiled.evaluate({"extra": "yes"}) is None
    assert compiled.evaluate({}) is None
