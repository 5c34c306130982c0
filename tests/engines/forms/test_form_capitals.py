"""Amounts in Chinese capitals follow the PBOC voucher-writing rules."""

from decimal import Decimal

import pytest

from flowdesk.engines.forms import amount_in_capitals


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0", "零元整"),
        ("0.05", "伍分"),
        ("0.50", "伍角"),
        ("0.55", "伍角伍分"),
        ("1", "壹元整"),
        ("1.05", "壹元零伍分"),
        ("1.50", "壹元伍角"),
        ("10.00", "壹拾元整"),
        ("16", "壹拾陆元整"),
        ("100", "壹佰元整"),
        ("1001", "壹仟零壹元整"),
        ("1010", "壹仟零壹拾元整"),
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("10010", "壹万零壹拾元整"),
        ("100000", "壹拾万元整"),
        ("100100", "壹拾万零壹佰元整"),
        ("107000.53", "壹拾万柒仟元伍角叁分"),
        ("120000.5", "壹拾贰万元伍角"),
        ("120000.50", "壹拾贰万元伍角"),
        ("1000100", "壹佰万零壹佰元整"),
        ("110000000", "壹亿壹仟万元整"),
        ("100000000", "壹亿元整"),
        ("100000001", "壹亿零壹元整"),
        ("200300000", "贰亿零叁拾万元整"),
        ("1000010000", "壹拾亿零壹万元整"),
        ("123456789.12", "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元壹角贰分"),
        ("1234500000000", "壹万贰仟叁佰肆拾伍亿元整"),
        ("-35.20", "负叁拾伍元贰角"),
    ],
)
def test_amount_in_capitals(amount: str, expected: str) -> None:
    assert amount_in_capitals(Decimal(amount)) == expected


@pytest.mark.parametrize("amount", ["0.001", "NaN", "Infinity", "10000000000000000"])
def test_amount_in_capitals_refuses(amount: str) -> None:
    with pytest.raises(ValueError):
        amount_in_capitals(Decimal(amount))
