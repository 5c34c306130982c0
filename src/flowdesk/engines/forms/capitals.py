"""Amounts in Chinese capitals (大写金额), as loan forms and vouchers must print them.

Capitals exist so an amount cannot be altered by adding a stroke; the rules follow
the PBOC's "正确填写票据和结算凭证的基本规定":

- 壹拾 keeps its 壹 (¥16.00 → 壹拾陆元整);
- one 零 stands for any run of zeros inside the number (¥1,001 → 壹仟零壹元整,
  ¥100,100 → 壹拾万零壹佰元整); zeros at the end of the yuan part need none
  (¥120,000.50 → 壹拾贰万元伍角);
- 零 is written between 元 and 分 when 角 is zero (¥1.05 → 壹元零伍分);
- 整 closes an amount without 角 and 分; below one yuan the 元 is left out (¥0.05 → 伍分).
"""

from __future__ import annotations

from decimal import Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("仟", "佰", "拾", "")
# 10^16 would need 亿亿; no form allows amounts that large.
LIMIT = 10**16


def amount_in_capitals(amount: Decimal) -> str:
    """Render an amount with at most 2 decimal places, e.g. 100000 → "壹拾万元整".

    Raises ValueError for more than 2 decimal places, non-finite values, or 10^16 and above.
    """
    if not amount.is_finite():
        raise ValueError("amount must be finite")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError("amount has more than 2 decimal places")
    total = abs(int(cents))
    if total >= LIMIT * 100:
        raise ValueError("amount is too large for Chinese capitals")
    yuan, rest = divmod(total, 100)
    jiao, fen = divmod(rest, 10)
    if total == 0:
        return "零元整"
    text = _yuan(yuan) + "元" if yuan else ""
    if jiao == 0 and fen == 0:
        text += "整"
    else:
        if jiao:
            text += DIGITS[jiao] + "角"
        elif yuan:
            text += "零"
        if fen:
            text += DIGITS[fen] + "分"
    return ("负" if amount < 0 else "") + text


def _yuan(n: int) -> str:
    """A positive whole number below 10^16 in capitals, without the unit 元."""
    if n >= 10**8:
        high, low = divmod(n, 10**8)
        return _yuan(high) + "亿" + _joined(low, 10**7)
    if n >= 10**4:
        high, low = divmod(n, 10**4)
        return _four_digits(high) + "万" + _joined(low, 10**3)
    return _four_digits(n)


def _joined(low: int, leading: int) -> str:
    """The lower part after 亿/万: a 零 marks zeros between the two parts."""
    if low == 0:
        return ""
    return ("零" if low < leading else "") + _yuan(low)


def _four_digits(n: int) -> str:
    """1..9999: one 零 for each run of inner zeros, none at either end."""
    text = ""
    pending_zero = False
    for digit, place in zip(f"{n:04d}", _PLACES, strict=True):
        if digit == "0":
            pending_zero = bool(text)
            continue
        if pending_zero:
            text += "零"
            pending_zero = False
        text += DIGITS[int(digit)] + place
    return text
