"""An app may send a returned ticket back only as it was filed (`edit_on_resubmit: false`,
ADR 0034): the applicant's changes on resubmit are a 422 naming each field, in the
reader's language, nothing changes; resubmitting as filed goes on."""

from __future__ import annotations

import pytest
import yaml
from api_client import Api, assert_problem

from flowdesk.engines.apps import parse_app
from flowdesk.kernel.errors import DefinitionInvalid
from flowdesk.services import apps
from flowdesk.services.context import ServiceContext
from identity_app import account_opening_app, good_values


@pytest.fixture
def as_filed(api: Api, demo_ctx: ServiceContext) -> Api:
    definition = yaml.safe_load(account_opening_app())
    definition["edit_on_resubmit"] = False
    apps.publish_yaml(demo_ctx, yaml.safe_dump(definition, allow_unicode=True))
    return api


def _returned(api: Api) -> str:
    filed = api.post("zhang.wei", "/apps/account_opening/tickets", json={"values": good_values()})
    assert filed.status_code == 201, filed.text
    ticket = filed.json()
    [task] = ticket["open_tasks"]
    sent = api.post(
        "li.na", f"/tasks/{task['id']}/return", json={"target": "applicant", "comment": "请核实"}
    )
    assert sent.status_code == 200, sent.text
    return str(ticket["id"])


def test_changes_on_resubmit_are_refused_and_as_filed_goes_on(as_filed: Api) -> None:
    ticket_id = _returned(as_filed)
    refused = as_filed.post(
        "zhang.wei",
        f"/tickets/{ticket_id}/resubmit",
        json={"values": {"company": "另一家公司"}},
        headers={"Accept-Language": "zh-CN"},
    )
    body = assert_problem(refused, 422, "resubmit_edits_not_allowed")
    assert [(e["path"], e["code"]) for e in body["errors"]] == [("company", "field_not_editable")]
    assert body["errors"][0]["message"] == "重新提交时不能修改该字段"
    ticket = as_filed.get("zhang.wei", f"/tickets/{ticket_id}").json()
    assert ticket["values"]["company"] == good_values()["company"]
    again = as_filed.post("zhang.wei", f"/tickets/{ticket_id}/resubmit", json={"comment": "已核实"})
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "running"


def test_the_setting_is_checked_at_publish() -> None:
    definition = yaml.safe_load(account_opening_app())
    definition["edit_on_resubmit"] = "no"
    with pytest.raises(DefinitionInvalid) as refused:
        parse_app(definition)
    assert [e.path for e in refused.value.errors] == ["edit_on_resubmit"]
    definition["edit_on_resubmit"] = False
    assert parse_app(definition).to_dict()["edit_on_resubmit"] is False
