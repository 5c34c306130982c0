"""Money as Decimal plus currency, so amounts never pass through binary floats."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

CURRENCY_EXPONENTS: dict[str, int] = {"CNY": 2, "USD": 2, "EUR": 2, "HKD": 2, "JPY": 0}
DEFAULT_CURRENCY = "CNY"


class MoneyError(ValueError):
    """Raised when text or a number cannot be an exact amount of money."""


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise MoneyError("amount must be a Decimal")
        if self.currency not in CURRENCY_EXPONENTS:
            raise MoneyError(f"unknown currency {self.currency}")
        if not self.amount.is_finite():
            raise MoneyError("amount must be finite")

    @classmethod
    def parse(cls, text: str, currency: str = DEFAULT_CURRENCY) -> Money:
        """Parse user text like '120,000.50'; refuses more decimals than the currency has."""
        cleaned = text.strip().replace(",", "").replace("_", "")
        try:
            amount = Decimal(cleaned)
        except InvalidOperation as exc:
            raise MoneyError("not a number") from exc
        if not amount.is_finite():
            raise MoneyError("not a number")
        exponent = amount.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > CURRENCY_EXPONENTS.get(currency, 2):
            raise MoneyError("too many decimal places")
        return cls(amount.quantize(Decimal(1).scaleb(-CURRENCY_EXPONENTS[currency])), currency)

    def quantized(self) -> Money:
        step = Decimal(1).scaleb(-CURRENCY_EXPONENTS[self.currency])
        return Money(self.amount.quantize(step, rounding=ROUND_HALF_EVEN), self.currency)

    def __str__(self) -> str:
        return f"{self.amount:,.{CURRENCY_EXPONENTS[self.currency]}f} {self.currency}"
