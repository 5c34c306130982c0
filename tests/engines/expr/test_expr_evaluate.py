"""Evaluation: Decimal exactness, null rules, membership, runtime values, loan conditions."""

from __future__ import annotations

import pickle
from datetime import date, datetime
from decimal import Decimal

import pytest

from flowdesk.engines.expr import CompiledExpression, ExprError, ExprType, compile_expression
from flowdesk.kernel.money import Money

N, T, B, D, ANY = ExprType.NUMBER, ExprType.TEXT, ExprType.BOOL, ExprType.DATE, ExprType.ANY

FIELDS: dict[str, ExprType] = {
    "amount": N,
    "rate": N,
    "credit_rating": T,
    "region": T,
    "approved": B,
    "due": D,
    "extra": ANY,
    "other": ANY,
    "金额": N,
}


def run(text: str, **values: object) -> object:
    return compile_expression(text, FIELDS).evaluate(values)


# -- the loan process's branch conditions ----------------------------------------------


@pytest.mark.parametrize(
    ("amount", "small", "large"),
    [
        (Decimal("0"), True, False),
        (Decimal("49999.99"), True, False),
        (50000, True, False),
        (Decimal("50000.00"), True, False),
        (Decimal("50000.01"), False, True),
        (1_000_000, False, True),
    ],
)
def test_loan_amount_branches(amount: object, small: bool, large: bool) -> None:
    below = compile_expression("amount <= 50000", FIELDS, expect=B)
    above = compile_expression("amount > 50000", FIELDS, expect=B)
    assert below.evaluate({"amount": amount}) is small
    assert above.evaluate({"amount": amount}) is large


@pytest.mark.parametrize(
    ("rating", "amount", "expected"),
    [
        ("A", 999_999, True),
        ("B", Decimal("999999.99"), True),
        ("A", 1_000_000, False),
        ("C", 10, False),
        ("a", 10, False),
        (None, 10, False),
        ("A", None, False),
    ],
)
def test_loan_rating_condition(rating: object, amount: object, expected: bool) -> None:
    compiled = compile_expression(
        "credit_rating in ('A','B') and amount < 1000000", FIELDS, expect=B
    )
    assert compiled.result_type is B
    assert compiled.fields_used == frozenset({"credit_rating", "amount"})
    assert compiled.evaluate({"credit_rating": rating, "amount": amount}) is expected


def test_mixed_condition_with_region() -> None:
    compiled = compile_expression("credit_rating in ('A','B') and region = 'EAST'", FIELDS)
    assert compiled.evaluate({"credit_rating": "B", "region": "EAST"}) is True
    assert compiled.evaluate({"credit_rating": "B", "region": "WEST"}) is False


# -- numbers ---------------------------------------------------------------------------


def test_decimal_exactness() -> None:
    assert run("0.1 + 0.2 = 0.3") is True
    assert run("0.1 + 0.2") == Decimal("0.3")
    assert run("1_000.10 * 3") == Decimal("3000.30")
    assert run("amount * rate", amount=Decimal("1234567.89"), rate=Decimal("0.0435")) == Decimal(
        "53703.703215"
    )
    assert run("1 / 3") == Decimal("0.3333333333333333333333333333")  # 28 digits
    assert run("2 / 3 * 3") == Decimal("2.000000000000000000000000000")
    assert run("10 / 4") == Decimal("2.5")
    assert run("7 - 10") == Decimal("-3")
    assert isinstance(run("amount", amount=5), Decimal)


def test_precedence_in_evaluation() -> None:
    assert run("2 + 3 * 4") == Decimal(14)
    assert run("(2 + 3) * 4") == Decimal(20)
    assert run("-2 * 3 + 10 / 5") == Decimal(-4)
    assert run("10 - 4 - 3") == Decimal(3)
    assert run("64 / 4 / 2") == Decimal(8)
    assert run("true or false and false") is True
    assert run("not false and false") is False
    assert run("not 1 = 2") is True
    assert run("1 + 1 = 2 and 'a' & 'b' = 'ab'") is True


def test_division_by_zero_and_overflow_are_null() -> None:
    assert run("1 / 0") is None
    assert run("0 / 0") is None
    assert run("amount / 0 > 1", amount=5) is False
    assert run("amount * amount", amount=Decimal("1E+999990")) is None


def test_huge_literals_stay_exact_in_comparison() -> None:
    big = "1" + "0" * 40
    assert run(f"{big} < {big[:-1]}9") is True
    assert run(f"{big} = {big}.000") is True
    assert run(f"{big}1 > {big}0") is True


# -- text, bool, dates -----------------------------------------------------------------


def test_text_operations() -> None:
    assert run("region + '-' + credit_rating", region="EAST", credit_rating="A") == "EAST-A"
    assert run(
        "'Loan ' & amount & ' due ' & due", amount=Decimal("1000.50"), due=date(2026, 1, 31)
    ) == ("Loan 1000.50 due 2026-01-31")
    assert run("'x' & true & false & null") == "xTRUEFALSE"
    assert run("'' & amount", amount=Decimal("1E+3")) == "1000"
    assert run("region < 'M'", region="EAST") is True
    assert run("region = 'east'", region="EAST") is False
    assert run("'a\\'b' = \"a'b\"") is True


def test_bool_equality() -> None:
    assert run("approved = true", approved=True) is True
    assert run("approved != true", approved=False) is True
    assert run("approved == false", approved=True) is False
    assert run("approved", approved=True) is True


def test_dates() -> None:
    assert run("due >= DATE('2026-01-01')", due=date(2026, 1, 1)) is True
    assert run("due < DATE('2026-01-01')", due=date(2026, 1, 1)) is False
    assert run("DATE('2026-01-31')") == date(2026, 1, 31)
    assert run("DATE(region)", region="2026-02-29") is None  # not a leap year: null
    assert run("DATE(region) = DATE('2024-02-29')", region="2024-02-29") is True


def test_all_comparison_operators() -> None:
    table = {
        "=": (False, True, False),
        "==": (False, True, False),
        "!=": (True, False, True),
        "<>": (True, False, True),
        "<": (True, False, False),
        "<=": (True, True, False),
        ">": (False, False, True),
        ">=": (False, True, True),
    }
    for op, expected in table.items():
        for (left, right), want in zip(((1, 2), (2, 2), (3, 2)), expected, strict=True):
            assert run(f"{left} {op} {right}") is want, (op, left, right)
            assert run(f"'{left}' {op} '{right}'") is want, (op, left, right)
            assert run(f"DATE('2026-01-0{left}') {op} DATE('2026-01-0{right}')") is want, (
                op,
                left,
                right,
            )


# -- nulls -----------------------------------------------------------------------------


def test_missing_and_none_are_null() -> None:
    assert run("amount") is None
    assert run("amount", amount=None) is None
    assert run("amount = null") is True
    assert run("amount == null", amount=1) is False
    assert run("amount != null", amount=1) is True
    assert run("amount <> null") is False
    assert run("null = amount") is True
    assert run("null = null") is True
    assert run("null != null") is False


def test_comparisons_with_null_are_false() -> None:
    for op in ("=", "!=", "<", "<=", ">", ">="):
        assert run(f"amount {op} 5") is False, op
        assert run(f"5 {op} amount") is False, op
    assert run("amount > 50000 or amount <= 50000") is False


def test_null_arithmetic_and_logic() -> None:
    assert run("amount + 1") is None
    assert run("-amount") is None
    assert run("region + 'x'") is None
    assert run("region & 'x'") == "x"
    assert run("approved and true") is False
    assert run("approved or true") is True
    assert run("not approved") is True
    assert run("approved") is None


def test_short_circuit() -> None:
    # The right side would be null/false anyway; short-circuit must not change results.
    assert run("amount != null and amount / 0 > 1", amount=1) is False
    assert run("true or 1 / 0 > 1") is True
    assert run("false and 1 / 0 > 1") is False
    assert run("IF(amount = 0, 0, 100 / amount)", amount=0) == Decimal(0)
    assert run("IF(amount = 0, 0, 100 / amount)", amount=4) == Decimal(25)


# -- membership ------------------------------------------------------------------------


def test_in_and_not_in() -> None:
    assert run("credit_rating in ('A', 'B')", credit_rating="B") is True
    assert run("credit_rating in ['A', 'B']", credit_rating="C") is False
    assert run("credit_rating not in ('A', 'B')", credit_rating="C") is True
    assert run("credit_rating not in ['A', 'B']", credit_rating="A") is False
    assert run("amount in (1, 2.0, 3)", amount=2) is True
    assert run("amount in (amount + 0)", amount=7) is True
    assert run("amount * 2 in (10, 20)", amount=10) is True
    assert run("due in (DATE('2026-01-31'))", due=date(2026, 1, 31)) is True
    assert run("approved in (true)", approved=True) is True


def test_in_with_nulls() -> None:
    assert run("credit_rating in ('A', 'B')") is False
    assert run("credit_rating not in ('A', 'B')") is False
    assert run("credit_rating in ('A', null)") is True
    assert run("credit_rating in ('A', null)", credit_rating="B") is False
    assert run("credit_rating not in ('A', null)", credit_rating="B") is True
    assert run("credit_rating not in ('A', null)") is False
    assert run("credit_rating in ('A', region)", credit_rating="A") is True
    assert run("credit_rating in ('B', region)", credit_rating="A") is False


# -- ANY fields ------------------------------------------------------------------------


def test_any_fields_decide_at_run_time() -> None:
    assert run("extra + 1", extra=2) == Decimal(3)
    assert run("extra + 1", extra="2") is None
    assert run("extra + other", extra="a", other="b") == "ab"
    assert run("extra + other", extra=1, other="b") is None
    assert run("extra = 1", extra=1) is True
    assert run("extra = 1", extra="1") is False
    assert run("extra != 1", extra="1") is False
    assert run("extra < 'b'", extra=date(2026, 1, 1)) is False
    assert run("extra < other", extra=True, other=False) is False
    assert run("extra = other", extra=True, other=True) is True
    assert run("extra and true", extra="yes") is False
    assert run("not extra", extra=1) is True
    assert run("-extra", extra="x") is None
    assert run("extra in (1, 'a')", extra="a") is True
    assert run("LEN(extra)", extra=5) is None
    assert run("UPPER(extra)", extra="x") == "X"
    assert run("IF(extra, 1, 2)", extra="true") == Decimal(2)
    assert run("MAX(extra, 1)", extra="9") is None
    assert run("ISBLANK(extra)", extra=Decimal(0)) is False


# -- values handed in by callers -------------------------------------------------------


def test_int_and_money_become_decimal() -> None:
    assert run("amount", amount=5) == Decimal(5)
    assert run("amount", amount=Money(Decimal("120000.50"))) == Decimal("120000.50")
    assert run("extra", extra=7) == Decimal(7)


def test_floats_are_refused() -> None:
    compiled = compile_expression("region = 'E' and amount > 1", FIELDS)
    with pytest.raises(ExprError) as info:
        compiled.evaluate({"amount": 0.1, "region": "E"})
    assert (info.value.code, info.value.position) == ("float_value", 17)
    assert "amount" in info.value.message and "float" in info.value.message
    with pytest.raises(ExprError) as info:
        run("extra", extra=1.0)
    assert info.value.code == "float_value"


@pytest.mark.parametrize(
    ("text", "values", "position"),
    [
        ("amount > 1", {"amount": "100"}, 0),
        ("amount > 1", {"amount": True}, 0),
        ("amount > 1", {"amount": Decimal("NaN")}, 0),
        ("amount > 1", {"amount": Decimal("Infinity")}, 0),
        ("1 < amount", {"amount": [1]}, 4),
        ("region = 'A'", {"region": 5}, 0),
        ("approved", {"approved": 1}, 0),
        ("due > DATE('2026-01-01')", {"due": "2026-01-02"}, 0),
        ("due > DATE('2026-01-01')", {"due": datetime(2026, 1, 2, 3, 4)}, 0),
        ("extra", {"extra": object()}, 0),
        ("extra", {"extra": {"a": 1}}, 0),
    ],
)
def test_values_of_the_wrong_type_are_refused(
    text: str, values: dict[str, object], position: int
) -> None:
    with pytest.raises(ExprError) as info:
        compile_expression(text, FIELDS).evaluate(values)
    assert (info.value.code, info.value.position) == ("invalid_value", position)


def test_error_messages_never_show_values() -> None:
    with pytest.raises(ExprError) as info:
        run("region = 'A'", region=123456789)
    assert "123456789" not in str(info.value)
    assert info.value.message == "field 'region' must hold a text value but holds a number value"


def test_unused_fields_are_ignored() -> None:
    compiled = compile_expression("amount > 1", FIELDS)
    assert compiled.evaluate({"amount": 2, "region": 0.5, "unknown": object()}) is True


def test_first_bad_field_in_text_order_is_reported() -> None:
    compiled = compile_expression("region = 'a' or amount > 1", FIELDS)
    with pytest.raises(ExprError) as info:
        compiled.evaluate({"amount": 0.5, "region": 1.5})
    assert info.value.position == 0


# -- the compiled object ---------------------------------------------------------------


def test_compiled_expression_is_an_immutable_reusable_value() -> None:
    compiled = compile_expression("amount <= 50000", FIELDS)
    assert isinstance(compiled, CompiledExpression)
    assert compiled.text == "amount <= 50000"
    assert compiled == compile_expression("amount <= 50000", FIELDS)
    with pytest.raises(AttributeError):
        compiled.text = "x"  # type: ignore[misc]
    results = [compiled.evaluate({"amount": a}) for a in (1, 60000, 2, None)]
    assert results == [True, False, True, False]
    assert "amount <= 50000" in repr(compiled)


def test_chinese_field_names() -> None:
    assert run("金额 >= 100 and 金额 < 200", 金额=150) is True


def test_expr_error_is_a_flowdesk_error_and_pickles() -> None:
    from flowdesk.kernel.errors import FlowdeskError

    with pytest.raises(ExprError) as info:
        compile_expression("amout > 1", FIELDS)
    error = info.value
    assert isinstance(error, FlowdeskError) and error.status == 422
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.message, copy.code, copy.position) == (error.message, error.code, 0)
    detail = error.as_detail("process.gateway_1.condition")
    assert detail.code == "unknown_field"
    assert detail.message == str(error)
