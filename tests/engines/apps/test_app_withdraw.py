"""The app's 撤回/撤销 setting (ADR 0019): `withdraw: {applicant, cancel}`, both on by
default, written back only when changed, and refused precisely when malformed."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from flowdesk.engines.apps import load_bundled_template, parse_app
from flowdesk.engines.apps.spec import WithdrawSettings
from flowdesk.kernel.errors import DefinitionInvalid


def _loan(**top: Any) -> dict[str, Any]:
    data: dict[str, Any] = load_bundled_template("loan").to_dict()
    data.update(top)
    return data


def test_both_are_on_by_default_and_not_written() -> None:
    app = parse_app(_loan())
    assert app.withdraw == WithdrawSettings(applicant=True, cancel=True)
    assert "withdraw" not in app.to_dict()


def test_a_changed_setting_round_trips() -> None:
    app = parse_app(_loan(withdraw={"applicant": False}))
    assert app.withdraw == WithdrawSettings(applicant=False, cancel=True)
    data = app.to_dict()
    assert data["withdraw"] == {"applicant": False, "cancel": True}
    assert parse_app(yaml.safe_load(yaml.safe_dump(data, allow_unicode=True))) == app


@pytest.mark.parametrize(
    ("value", "path", "code"),
    [
        ("yes", "withdraw", "invalid_type"),
        ({"applicant": "no"}, "withdraw.applicant", "invalid_type"),
        ({"revoke": True}, "withdraw.revoke", "unknown_key"),
    ],
)
def test_a_malformed_setting_is_refused_at_its_path(value: object, path: str, code: str) -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        parse_app(_loan(withdraw=value))
    assert (path, code) in {(e.path, e.code) for e in caught.value.errors}
