"""/apps/{key}/records and /records/{id}: a record app's grid, create, edit and delete
(ADR 0038), with precise problems and nothing written for a refused change."""

from __future__ import annotations

from api_client import Api, assert_problem

from flowdesk.services.context import ServiceContext
from link_apps import publish_link_apps

CUSTOMER = {"customer_name": "杭州西湖茶业有限公司", "manager": "zhang.wei", "segment": "micro"}


def _create(api: Api, who: str = "zhang.wei", **values: object) -> dict[str, object]:
    response = api.post(who, "/apps/customers/records", json={"values": {**CUSTOMER, **values}})
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_create_read_edit_delete_a_record(api: Api) -> None:
    app = api.get("zhang.wei", "/apps/customers").json()
    assert app["nodes"] == [] and app["records"]["editors"] == ["customer_manager"]
    assert api.get("zhang.wei", "/apps/loan").json()["records"] is None
    made = _create(api)
    assert made["status"] == "record" and str(made["serial"]).startswith("CUS-")
    number = made["values"].pop("customer_no")  # type: ignore[attr-defined]
    assert made["open_tasks"] == [] and made["values"] == CUSTOMER
    assert number == "KH" + str(made["serial"]).replace("CUS-", "").replace("-0", "")
    record = f"/records/{made['id']}"
    edited = api.client.patch(
        f"/api/v1{record}", headers=api.headers("xie.ting"), json={"values": {"segment": "sme"}}
    )
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert body["values"]["segment"] == "sme"
    change = body["timeline"][-1]
    assert change["kind"] == "values_changed"
    assert change["data"]["changes"] == [{"field": "segment", "old": "micro", "new": "sme"}]
    # an auditor reads it through the tickets' own route
    assert api.get("sun.li", f"/tickets/{made['id']}").json()["values"]["segment"] == "sme"
    gone = api.client.delete(f"/api/v1{record}", headers=api.headers("zhang.wei"))
    assert gone.status_code == 204
    assert_problem(
        api.client.delete(f"/api/v1{record}", headers=api.headers("zhang.wei")),
        409,
        "record_deleted",
    )
    assert api.get("sun.li", f"/tickets/{made['id']}").json()["status"] == "deleted"


def test_the_grid_searches_pages_and_masks(api: Api) -> None:
    for n in range(3):
        _create(api, customer_name=f"网格测试{n}号有限公司")
    first = api.get("sun.li", "/apps/customers/records", params={"q": "网格测试", "limit": "2"})
    assert first.status_code == 200, first.text
    page = first.json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    row = page["items"][0]
    assert row["values"]["customer_name"] == "网格测试2号有限公司"  # newest first
    assert row["created_by"]["id"] and row["serial"].startswith("CUS-")
    rest = api.get(
        "sun.li",
        "/apps/customers/records",
        params={"q": "网格测试", "limit": "2", "cursor": page["next_cursor"]},
    ).json()
    assert [r["values"]["customer_name"] for r in rest["items"]] == ["网格测试0号有限公司"]
    # records stay out of the ticket lists (我发起 is tickets)
    mine = api.get("zhang.wei", "/tickets", params={"mine": "true", "q": "网格测试"}).json()
    assert mine["items"] == []


def test_refusals_are_precise_and_write_nothing(api: Api) -> None:
    assert_problem(
        api.post("sun.li", "/apps/customers/records", json={"values": CUSTOMER}),
        403,
        "record_write_forbidden",
    )
    assert_problem(api.get("wu.min", "/apps/customers/records"), 404, "record_app_not_found")
    assert_problem(api.get("sun.li", "/apps/loan/records"), 404, "record_app_not_found")
    assert_problem(
        api.post("zhang.wei", "/apps/customers/tickets", json={"values": CUSTOMER}),
        409,
        "record_app",
    )
    bad = api.post(
        "zhang.wei",
        "/apps/customers/records",
        json={"values": {**CUSTOMER, "segment": "huge", "credit_code": "91350100M000100Y4X"}},
        headers={"Accept-Language": "zh-CN"},
    )
    problem = assert_problem(bad, 422, "validation_failed")
    assert {e["path"] for e in problem["errors"]} == {"segment", "credit_code"}
    unknown = api.get("sun.li", "/apps/customers/records", params={"status": "running"})
    assert_problem(unknown, 422, "invalid_query")
    made = _create(api, customer_name="拒绝修改测试有限公司")
    refused = api.client.patch(
        f"/api/v1/records/{made['id']}",
        headers=api.headers("zhang.wei"),
        json={"values": {"customer_name": ""}},
    )
    assert_problem(refused, 422, "validation_failed")
    after = api.get("zhang.wei", f"/tickets/{made['id']}").json()
    assert after["values"] == made["values"] and len(after["timeline"]) == 1
    assert_problem(  # nobody sends an auto-number
        api.post(
            "zhang.wei",
            "/apps/customers/records",
            json={"values": {**CUSTOMER, "customer_no": "KH202699999"}},
        ),
        422,
        "validation_failed",
    )


def test_link_search_and_look_ups_in_the_answer(api: Api, demo_ctx: ServiceContext) -> None:
    publish_link_apps(demo_ctx)
    found = api.get("zhang.wei", "/apps/credit_lines/links/customer", params={"q": "珠江"})
    assert found.status_code == 200, found.text
    (customer,) = found.json()
    assert customer["title"] == "广州珠江纺织有限公司"
    assert [v["key"] for v in customer["lookup"]] == ["manager", "segment"]
    made = api.post(
        "zhang.wei",
        "/apps/credit_lines/records",
        json={
            "values": {
                "line_name": "贸易融资",
                "customer": customer["id"],
                "credit_limit": "800000",
            }
        },
    )
    assert made.status_code == 201, made.text
    (linked,) = made.json()["links"]["customer"]
    assert linked["id"] == customer["id"] and linked["lookup"][0]["text"] == "pan.yue"
    bad = api.post(
        "zhang.wei",
        "/apps/credit_lines/records",
        json={"values": {"line_name": "x", "customer": "0" * 32}},
    )
    problem = assert_problem(bad, 422, "validation_failed")
    assert [(e["path"], e["code"]) for e in problem["errors"]] == [("customer", "link_not_found")]
    assert api.get("wu.min", "/apps/credit_lines/links/customer").json() == []
    assert_problem(
        api.get("zhang.wei", "/apps/credit_lines/links/nope"), 404, "link_field_not_found"
    )


def test_the_grid_exports_as_csv_and_xlsx(api: Api) -> None:
    _create(api, customer_name="导出测试有限公司")
    csv = api.get("sun.li", "/apps/customers/records/export", params={"format": "csv", "q": "导出"})
    assert csv.status_code == 200, csv.text
    text = csv.content.decode("utf-8-sig")
    assert "客户名称" in text.splitlines()[0] or "Customer name" in text.splitlines()[0]
    assert "导出测试有限公司" in text and "北京华信科技有限公司" not in text
    xlsx = api.get("sun.li", "/apps/customers/records/export")
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    assert_problem(api.get("wu.min", "/apps/customers/records/export"), 404, "record_app_not_found")
    assert_problem(
        api.get("sun.li", "/apps/customers/records/export", params={"status": "running"}),
        422,
        "invalid_query",
    )
