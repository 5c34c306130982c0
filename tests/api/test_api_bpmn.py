"""PUT /api/v1/admin/apps/{key}/process (a BPMN file replaces the process) and
GET /admin/apps/{key}/export?format=bpmn, on both databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2 as httpx
from api_client import API, Api, assert_problem

LOAN_BPMN = Path("/work/shared/peers/loan.bpmn")
FILES = Path(__file__).parents[1] / "engines" / "process" / "bpmn_files"
XML = {"content-type": "application/bpmn+xml"}


def put(api: Api, username: str, path: str, content: bytes, **kwargs: Any) -> httpx.Response:
    headers = {**api.headers(username), **kwargs.pop("headers", XML)}
    return api.client.put(f"{API}{path}", headers=headers, content=content, **kwargs)


def test_a_bpmn_file_replaces_the_process_then_exports(api: Api) -> None:
    data = LOAN_BPMN.read_bytes()
    checked = put(api, "admin", "/admin/apps/loan/process", data, params={"dry_run": "true"})
    assert checked.status_code == 200, checked.text
    assert checked.json()["dry_run"] is True and checked.json()["version"] == 0
    warnings = checked.json()["warnings"]
    assert {"path": "bpmn[Task_Apply]", "code": "default_assignee"} in [
        {"path": w["path"], "code": w["code"]} for w in warnings
    ]
    assert [v["version"] for v in api.get("admin", "/admin/apps/loan/versions").json()] == [1]

    published = put(api, "admin", "/admin/apps/loan/process", data)
    assert published.status_code == 200, published.text
    body = published.json()
    assert (body["key"], body["version"], body["changed"]) == ("loan", 2, True)

    exported = api.get("admin", "/admin/apps/loan/export", params={"format": "bpmn"})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/bpmn+xml")
    assert 'bpmnElement="Task_CreditCommittee"' in exported.text
    again = put(api, "admin", "/admin/apps/loan/process", exported.content)
    assert again.json()["changed"] is False and again.json()["warnings"] == []
    assert api.get("admin", "/admin/apps/loan/export").text.startswith("key: loan")


def test_problems_come_back_at_once_at_their_element_ids(api: Api) -> None:
    refused = put(
        api, "admin", "/admin/apps/loan/process", (FILES / "unsupported.bpmn").read_bytes()
    )
    problem = assert_problem(refused, 422, "definition_invalid")
    assert len(problem["errors"]) == 10
    assert problem["errors"][1]["path"] == "bpmn[Service_Score]"
    xxe = put(
        api, "admin", "/admin/apps/loan/process", (FILES / "hostile" / "xxe.bpmn").read_bytes()
    )
    assert assert_problem(xxe, 422, "definition_invalid")["errors"][0]["code"] == "dtd_forbidden"


def test_who_and_what_may_be_sent(api: Api) -> None:
    data = LOAN_BPMN.read_bytes()
    assert_problem(put(api, "zhang.wei", "/admin/apps/loan/process", data), 403, "forbidden")
    assert_problem(put(api, "admin", "/admin/apps/nope/process", data), 404, "app_not_found")
    yaml_typed = put(
        api, "admin", "/admin/apps/loan/process", data, headers={"content-type": "application/yaml"}
    )
    assert_problem(yaml_typed, 415, "unsupported_media_type")
    bad_format = api.get("admin", "/admin/apps/loan/export", params={"format": "pdf"})
    assert bad_format.status_code == 422
