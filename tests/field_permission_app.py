"""The loan app with per-node field permissions (ADR 0037), for the tests of every layer.

Two optional fields join the bundled loan form: `approved_amount`, which the applicant
does not see at the start and the branch manager fills in, and `private_note`, which the
applicant writes and the branch manager does not see (the disbursement desk does). The
note is a list summary field, so the lists show whether it is hidden.
"""

from __future__ import annotations

from typing import Any

import yaml

from flowdesk.engines.apps import dump_app_yaml, load_bundled_template

NOTE = "Collateral held by my brother-in-law"


def field_permission_loan() -> dict[str, Any]:
    definition: dict[str, Any] = yaml.safe_load(dump_app_yaml(load_bundled_template("loan")))
    definition["form"]["fields"] += [
        {
            "key": "approved_amount",
            "type": "money",
            "label": {"en": "Approved amount", "zh": "批准金额"},
            "currency": "CNY",
            "min": 1,
            "max": 100000000,
        },
        {
            "key": "private_note",
            "type": "text",
            "label": {"en": "Note for disbursement", "zh": "放款备注"},
            "max_length": 200,
        },
    ]
    definition["summary"] = ["amount", "private_note"]
    for node in definition["process"]["nodes"]:
        if node["id"] == "start":
            node["fields"] = {"approved_amount": "hidden"}
        if node["id"] == "branch_review":
            node["fields"] = {"approved_amount": "editable", "private_note": "hidden"}
    return definition


def field_permission_yaml() -> str:
    return yaml.safe_dump(field_permission_loan(), allow_unicode=True, sort_keys=False)


def attachment_loan() -> dict[str, Any]:
    """The loan with a required attachment field: the business licence, PDF or PNG, at
    most two files of at most 1 MB each (ADR 0037)."""
    definition: dict[str, Any] = yaml.safe_load(dump_app_yaml(load_bundled_template("loan")))
    definition["form"]["fields"].append(
        {
            "key": "licence",
            "type": "attachment",
            "label": {"en": "Business licence", "zh": "营业执照"},
            "required": True,
            "accept": ["pdf", "png"],
            "max_files": 2,
            "max_size_mb": 1,
        }
    )
    return definition


def attachment_yaml() -> str:
    return yaml.safe_dump(attachment_loan(), allow_unicode=True, sort_keys=False)
