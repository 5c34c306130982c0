"""Values of the bundled account opening template (对公客户开户申请) for the service, API
and web tests: a company, its legal representative and two authorised signatories, each
with a valid resident ID, mobile and card."""

from __future__ import annotations

LEGAL_REP_ID = "11010519491231002X"  # GB 11643's own example: born 1949-12-31, female
CREDIT_CODE = "91110000600037341L"
CARD = "6222021234567890128"
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(first_17: str) -> str:
    """A resident ID with its check digit (GB 11643-1999, ISO 7064 MOD 11-2)."""
    total = sum(int(digit) * weight for digit, weight in zip(first_17, _WEIGHTS, strict=True))
    return first_17 + "10X98765432"[total % 11]


SIGNATORY_IDS = (resident_id("11010819850612001"), resident_id("11010219900305002"))
# the same number with its check digit changed: one wrong digit
BAD_ID = SIGNATORY_IDS[1][:-1] + ("0" if SIGNATORY_IDS[1][-1] != "0" else "1")


def signatory(n: int) -> dict[str, str]:
    return {
        "name": ("王磊", "赵敏")[n],
        "resident_id": SIGNATORY_IDS[n],
        "mobile": ("13912345678", "13712345678")[n],
    }


def opening_values(customer: str, licence: list[str], **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "customer": customer,
        "company_name": "北京华信科技有限公司",
        "credit_code": CREDIT_CODE,
        "account_type": "basic",
        "registered_capital": "5000000.00",
        "legal_rep_name": "陈华",
        "legal_rep_id": LEGAL_REP_ID,
        "legal_rep_mobile": "13812345678",
        "settlement_card": CARD,
        "signatories": [signatory(0), signatory(1)],
        "licence": licence,
        "account_manager": "zhang.wei",
    }
    values.update(overrides)
    return values
