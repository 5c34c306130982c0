"""An account-opening app (对公客户开户申请, seed 002) with China's identity numbers, for the
service and API tests of the identity fields."""

from __future__ import annotations

from typing import Any

import yaml

RESIDENT_ID = "11010519491231002X"  # the standard's own example: 1949-12-31, female
MOBILE = "13812345678"
CARD = "6222021234567890128"
CREDIT_CODE = "91110000600037341L"


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def account_opening_app(
    extra_fields: list[dict[str, Any]] | None = None, editable: tuple[str, ...] = ()
) -> str:
    label = {"en": "x", "zh": "x"}
    definition: dict[str, Any] = {
        "key": "account_opening",
        "name": {"en": "Corporate account opening", "zh": "对公客户开户申请"},
        "serial_prefix": "KH",
        "form": {
            "fields": [
                {"key": "company", "type": "text", "label": label, "required": True},
                {"key": "credit_code", "type": "credit_code", "label": label, "required": True},
                {
                    "key": "legal_rep_id",
                    "type": "resident_id",
                    "label": label,
                    "required": True,
                    "birth_date_field": "legal_rep_born",
                },
                {"key": "legal_rep_born", "type": "date", "label": label},
                {"key": "legal_rep_mobile", "type": "mobile", "label": label, "required": True},
                {"key": "office_phone", "type": "landline", "label": label},
                {"key": "settlement_card", "type": "bank_card", "label": label},
                *(extra_fields or []),
            ]
        },
        "process": {
            "nodes": [
                {"id": "start", "type": "start", "name": label},
                {
                    "id": "review",
                    "type": "user_task",
                    "name": label,
                    "assignee": {"kind": "applicant_manager"},
                    **({"editable": list(editable)} if editable else {}),
                },
                {"id": "end", "type": "end", "name": label},
            ],
            "flows": [{"from": "start", "to": "review"}, {"from": "review", "to": "end"}],
        },
    }
    return yaml.dump(definition, Dumper=_NoAliases, allow_unicode=True)


def good_values(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "company": "北京示例科技有限公司",
        "credit_code": CREDIT_CODE,
        "legal_rep_id": RESIDENT_ID,
        "legal_rep_mobile": MOBILE,
        "office_phone": "010-12345678",
        "settlement_card": CARD,
    }
    values.update(overrides)
    return values
