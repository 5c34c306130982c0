"""PUT /api/v1/admin/apps/{key}/form (the form builder's publish path from the API) and
GET /api/v1/admin/form-palette, on both databases."""

from __future__ import annotations

import json
from typing import Any

import httpx2 as httpx
from api_client import API, Api, assert_problem

from builder_forms import formula_field, loan_form_with

JSON = {"content-type": "application/json"}


def put(api: Api, username: str, path: str, content: bytes, **kwargs: Any) -> httpx.Response:
    headers = {**api.headers(username), **kwargs.pop("headers", JSON)}
    return api.client.put(f"{API}{path}", headers=headers, content=content, **kwargs)


def with_fee() -> dict[str, Any]:
    return loan_form_with(formula_field("fee", "Fee", "手续费", "ROUND(amount * 0.01, 2)"))


def test_a_form_replaces_the_apps_form_and_round_trips(api: Api) -> None:
    body = json.dumps(with_fee()).encode()
    checked = put(api, "admin", "/admin/apps/loan/form", body, params={"dry_run": "true"})
    assert checked.status_code == 200, checked.text
    assert checked.json() == {"key": "loan", "version": 0, "changed": False, "dry_run": True}
    published = put(api, "admin", "/admin/apps/loan/form", body)
    assert published.status_code == 200, published.text
    assert (published.json()["version"], published.json()["changed"]) == (2, True)
    exported = api.get("admin", "/admin/apps/loan/export")
    assert "formula: ROUND(amount * 0.01, 2)" in exported.text
    again = api.client.post(
        f"{API}/admin/apps",
        headers={**api.headers("admin"), "content-type": "application/yaml"},
        content=exported.content,
    )
    assert again.json()["changed"] is False
    filed = api.post(
        "zhang.wei",
        "/apps/loan/tickets",
        json={
            "values": {
                "applicant_name": "李雷",
                "amount": "120000.00",
                "term_months": 12,
                "credit_rating": "A",
                "region": "east",
                "purpose": "流动资金",
            }
        },
    )
    assert filed.status_code == 201, filed.text


def test_every_problem_at_once_with_its_path(api: Api) -> None:
    form = with_fee()
    form["fields"][-1]["formula"] = "ROUND(amount * 0.01, 2"
    form["fields"][0]["max_length"] = 0
    refused = put(api, "admin", "/admin/apps/loan/form", json.dumps(form).encode())
    problem = assert_problem(refused, 422, "definition_invalid")
    assert [e["path"] for e in problem["errors"]] == [
        "form.fields[0].max_length",
        "form.fields[6].formula",
    ]
    assert [v["version"] for v in api.get("admin", "/admin/apps/loan/versions").json()] == [1]


def test_who_and_what_may_be_sent(api: Api) -> None:
    body = json.dumps(with_fee()).encode()
    assert_problem(put(api, "zhang.wei", "/admin/apps/loan/form", body), 403, "forbidden")
    assert put(api, "admin", "/admin/apps/nope/form", body).status_code == 404
    yaml_body = put(api, "admin", "/admin/apps/loan/form", b"fields: []", headers={})
    assert yaml_body.status_code == 415
    broken = put(api, "admin", "/admin/apps/loan/form", b'{"fields": [')
    assert_problem(broken, 400, "malformed_json")


def test_the_palette_lists_every_field_type_with_its_settings(api: Api) -> None:
    answer = api.get("admin", "/admin/form-palette")
    assert answer.status_code == 200
    money = next(k for k in answer.json() if k["type"] == "money")
    assert money["label"] == {"en": "Money", "zh": "金额"}
    assert {"name": "currency", "kind": "choice"}.items() <= next(
        s for s in money["settings"] if s["name"] == "currency"
    ).items()
    assert api.get("zhang.wei", "/admin/form-palette").status_code == 403
