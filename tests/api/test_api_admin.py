"""/api/v1/admin/…: the org chart and apps through the REST API, on both databases."""

from __future__ import annotations

import io

from api_client import API, Api, assert_problem
from openpyxl import Workbook

from flowdesk.services import demo

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _workbook(rows: list[list[object]], title: str = "用户") -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _patch(api: Api, who: str, path: str, body: object) -> object:
    return api.client.patch(f"{API}{path}", headers=api.headers(who), json=body)


def test_admin_creates_reads_updates_and_deactivates_a_user(api: Api) -> None:
    created = api.post(
        "admin",
        "/admin/users",
        json={
            "username": "qin.shu",
            "name_zh": "秦舒",
            "name_en": "Shu Qin",
            "department": "finance",
            "manager": "gao.feng",
            "mobile": "+86 138 1234 5678",
            "job_level": "P6",
            "roles": ["finance_reviewer"],
            "password": "Secret@2026",
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["mobile"] == "138****5678" and body["display_name"] == "秦舒"
    assert "13812345678" not in created.text
    response = _patch(api, "admin", "/admin/users/qin.shu", {"job_level": "P7", "email": None})
    assert response.status_code == 200 and response.json()["job_level"] == "P7"  # type: ignore[attr-defined]
    off = api.post("admin", "/admin/users/qin.shu/deactivate")
    assert off.json()["is_active"] is False
    refused = api.client.post(
        f"{API}/auth/token", json={"username": "qin.shu", "password": "Secret@2026"}
    )
    assert_problem(refused, 401, "bad_credentials")
    assert api.post("admin", "/admin/users/qin.shu/reactivate").json()["is_active"] is True
    page = api.get("admin", "/admin/users", params={"q": "秦舒"}).json()
    assert [u["username"] for u in page["items"]] == ["qin.shu"]


def test_users_page_by_cursor(api: Api) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        page = api.get("admin", "/admin/users", params=params).json()
        seen += [u["username"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(p.username for p in demo.PEOPLE)


def test_non_admins_get_403_and_unknown_ids_404(api: Api) -> None:
    for path in ("/admin/users", "/admin/departments", "/admin/roles", "/admin/apps"):
        assert_problem(api.get("zhang.wei", path), 403, "forbidden")
    assert_problem(api.post("zhang.wei", "/admin/users/li.na/deactivate"), 403, "forbidden")
    assert_problem(api.get("admin", "/admin/users/nobody.here"), 404, "user_not_found")
    assert_problem(
        _patch(api, "admin", "/admin/departments/nowhere", {"name_zh": "无"}),  # type: ignore[arg-type]
        404,
        "department_not_found",
    )
    assert_problem(api.get("admin", "/admin/apps/nope/versions"), 404, "app_not_found")


def test_bad_bodies_are_precise_4xx(api: Api) -> None:
    unknown = api.post("admin", "/admin/users", json={"username": "x.y", "is_admin": True})
    assert_problem(unknown, 422, "validation_failed")
    bad = api.post(
        "admin", "/admin/users", json={"username": "x.y", "name_zh": "某", "mobile": "12345"}
    )
    problem = assert_problem(bad, 422, "validation_failed")
    assert [(e["path"], e["code"]) for e in problem["errors"]] == [("mobile", "invalid_mobile")]
    assert "12345" not in bad.text
    cycle = _patch(api, "admin", "/admin/users/zhou.hang", {"manager": "zhang.wei"})
    assert_problem(cycle, 422, "validation_failed")  # type: ignore[arg-type]
    exists = api.post(
        "admin", "/admin/roles", json={"key": "auditor", "name_zh": "审计", "name_en": "A"}
    )
    assert_problem(exists, 409, "role_exists")
    assert_problem(
        api.post("admin", "/admin/org/import", content=b"x", headers={"content-type": "text/html"}),
        415,
        "unsupported_media_type",
    )


def test_import_preview_then_apply_then_reimport_changes_nothing(api: Api) -> None:
    content = _workbook(
        [
            ["用户名 username", "中文姓名", "部门", "直属上级", "手机"],
            ["new.one", "新一", "risk", "new.two", "13800001111"],
            ["new.two", "新二", "risk", "lin.tao", ""],
        ]
    )
    headers = {"content-type": XLSX}
    preview = api.post(
        "admin", "/admin/org/import", params={"dry_run": "true"}, content=content, headers=headers
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["counts"]["user"] == {"created": 2, "updated": 0, "unchanged": 0}
    assert_problem(api.get("admin", "/admin/users/new.one"), 404, "user_not_found")
    done = api.post("admin", "/admin/org/import", content=content, headers=headers).json()
    assert done["dry_run"] is False and len(done["changes"]) == 2
    assert api.get("admin", "/admin/users/new.one").json()["manager"] == "new.two"
    again = api.post("admin", "/admin/org/import", content=content, headers=headers).json()
    assert again["changes"] == [] and again["counts"]["user"]["unchanged"] == 2


def test_a_bad_import_row_is_422_naming_the_cell_and_writes_nothing(api: Api) -> None:
    content = _workbook(
        [["username", "name_zh", "mobile"], ["ok.one", "好", ""], ["bad.one", "坏", "999"]]
    )
    response = api.post(
        "admin", "/admin/org/import", content=content, headers={"content-type": XLSX}
    )
    problem = assert_problem(response, 422, "validation_failed")
    assert [(e["path"], e["code"]) for e in problem["errors"]] == [("用户!C3", "invalid_mobile")]
    assert_problem(api.get("admin", "/admin/users/ok.one"), 404, "user_not_found")


def test_csv_import_in_gb18030(api: Api) -> None:
    content = "用户名,中文姓名,职级\nzhang.wei,张伟,P3\n".encode("gb18030")
    response = api.post(
        "admin", "/admin/org/import", content=content, headers={"content-type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    assert api.get("admin", "/admin/users/zhang.wei").json()["job_level"] == "P3"


def test_template_download(api: Api) -> None:
    response = api.get("admin", "/admin/org/template.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    assert response.content.startswith(b"PK")


def test_apps_list_versions_validate_publish_and_export(api: Api) -> None:
    assert [a["key"] for a in api.get("admin", "/admin/apps").json()] == ["complaint", "loan"]
    exported = api.get("admin", "/admin/apps/loan/export")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith(
        "application/yaml"
    )
    yaml_text = exported.text
    changed = yaml_text.replace("version: 1", "version: 1", 1)
    same = api.post(
        "admin",
        "/admin/apps",
        content=changed.encode(),
        headers={"content-type": "application/yaml"},
    )
    assert same.status_code == 200, same.text
    assert same.json()["changed"] is False
    edited = yaml_text.replace("Loan", "Loans", 1)
    checked = api.post(
        "admin",
        "/admin/apps",
        params={"dry_run": "true"},
        content=edited.encode(),
        headers={"content-type": "application/yaml"},
    )
    assert checked.json() == {"key": "loan", "version": 0, "changed": False, "dry_run": True}
    published = api.post(
        "admin",
        "/admin/apps",
        content=edited.encode(),
        headers={"content-type": "application/yaml"},
    )
    assert published.json()["changed"] is True and published.json()["version"] == 2
    versions = api.get("admin", "/admin/apps/loan/versions").json()
    assert [(v["version"], v["is_current"], v["published_by"]) for v in versions] == [
        (2, True, "admin"),
        (1, False, None),
    ]
    broken = api.post(
        "admin", "/admin/apps", content=b"key: [", headers={"content-type": "application/yaml"}
    )
    problem = assert_problem(broken, 422, "definition_invalid")
    assert problem["errors"][0]["path"]
