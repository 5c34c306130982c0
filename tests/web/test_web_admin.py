"""The admin area in the browser: people, departments, roles, the import and apps."""

from __future__ import annotations

import io
from collections.abc import Callable

from openpyxl import Workbook
from web_helpers import Browser

from flowdesk.engines.access import Actor
from flowdesk.services import demo, org
from flowdesk.services.context import ServiceContext


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "用户"
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_every_admin_page_renders_in_both_languages(browser: Callable[..., Browser]) -> None:
    for locale in ("zh", "en"):
        admin = browser("admin", locale=locale)
        for path in (
            "/admin",
            "/admin/users",
            "/admin/users/new",
            "/admin/users/li.na",
            "/admin/departments",
            "/admin/departments/legal",
            "/admin/roles",
            "/admin/import",
            "/admin/apps",
        ):
            page = admin.get(path)
            assert page.status_code == 200, (path, page.text[:500])
        assert 'data-testid="nav-admin"' in admin.get("/").text
    assert "管理" in browser("admin").get("/").text


def test_non_admins_see_403_and_no_admin_link(browser: Callable[..., Browser]) -> None:
    clerk = browser("zhang.wei")
    assert 'data-testid="nav-admin"' not in clerk.get("/").text
    for path in ("/admin", "/admin/users", "/admin/import", "/admin/apps"):
        assert clerk.get(path).status_code == 403, path
    token = clerk.csrf()
    refused = clerk.post("/admin/users/li.na/active", data={"active": "0", "csrf_token": token})
    assert refused.status_code == 403
    assert browser("admin").get("/admin/users/li.na").text.count('data-testid="deactivate"') == 1


def test_mobile_is_masked_and_a_masked_value_posted_back_keeps_the_number(
    browser: Callable[..., Browser],
) -> None:
    admin = browser("admin", locale="en")
    token = admin.csrf()
    created = admin.post(
        "/admin/users/new",
        data={
            "csrf_token": token,
            "username": "web.user",
            "name_zh": "网页",
            "name_en": "Web User",
            "department": "finance",
            "mobile": "13812345678",
            "roles": ["finance_reviewer"],
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    page = admin.get("/admin/users/web.user")
    assert "138****5678" in page.text and "13812345678" not in page.text
    saved = admin.post(
        "/admin/users/web.user",
        data={
            "csrf_token": token,
            "name_zh": "网页",
            "name_en": "Web User",
            "department": "finance",
            "mobile": "138****5678",
            "job_level": "P3",
            "roles": ["finance_reviewer"],
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    listing = admin.get("/admin/users", params={"q": "web"}).text
    assert "138****5678" in listing and "P3" in listing


def test_a_bad_field_re_renders_the_form_with_422_and_saves_nothing(
    browser: Callable[..., Browser],
) -> None:
    admin = browser("admin")
    token = admin.csrf()
    response = admin.post(
        "/admin/users/new",
        data={"csrf_token": token, "username": "bad.web", "name_zh": "坏", "mobile": "12"},
    )
    assert response.status_code == 422
    assert 'data-testid="error-mobile"' in response.text
    assert "不是中国大陆手机号" in response.text
    assert admin.get("/admin/users/bad.web").status_code == 404


def test_deactivating_in_the_ui_stops_the_login(
    browser: Callable[..., Browser], anon: Browser
) -> None:
    admin = browser("admin")
    response = admin.post(
        "/admin/users/li.na/active",
        data={"csrf_token": admin.csrf(), "active": "0"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert anon.login("li.na").status_code != 303
    assert 'data-testid="reactivate"' in admin.get("/admin/users/li.na").text


def test_import_preview_writes_nothing_then_apply_imports(
    browser: Callable[..., Browser],
) -> None:
    admin = browser("admin", locale="en")
    token = admin.csrf()
    content = _xlsx([["username", "name_zh", "department"], ["web.hire", "新人", "risk"]])
    files = {"file": ("org.xlsx", content, "application/octet-stream")}
    preview = admin.post("/admin/import", data={"csrf_token": token}, files=files)
    assert preview.status_code == 200, preview.text
    assert "Preview: nothing has been written yet" in preview.text
    assert admin.get("/admin/users/web.hire").status_code == 404
    payload = preview.text.split('name="payload" value="', 1)[1].split('"', 1)[0]
    applied = admin.post(
        "/admin/import",
        data={"csrf_token": token, "apply": "1", "name": "org.xlsx", "payload": payload},
    )
    assert applied.status_code == 200 and "Imported" in applied.text
    assert admin.get("/admin/users/web.hire").status_code == 200


def test_a_bad_import_names_the_cell(browser: Callable[..., Browser]) -> None:
    admin = browser("admin")
    content = _xlsx([["username", "name_zh", "mobile"], ["x.one", "一", "1"]])
    response = admin.post(
        "/admin/import",
        data={"csrf_token": admin.csrf()},
        files={"file": ("org.xlsx", content, "application/octet-stream")},
    )
    assert response.status_code == 422
    assert "<code>用户!C2</code>" in response.text


def test_template_download(browser: Callable[..., Browser]) -> None:
    response = browser("admin").get("/admin/import/template.xlsx")
    assert response.status_code == 200 and response.content.startswith(b"PK")


def test_app_upload_check_then_publish_and_export(browser: Callable[..., Browser]) -> None:
    admin = browser("admin", locale="en")
    token = admin.csrf()
    exported = admin.get("/admin/apps/loan/export.yaml")
    assert exported.status_code == 200
    edited = exported.text.replace("Loan approval", "Loan approval (2026)", 1)
    checked = admin.post(
        "/admin/apps",
        data={"csrf_token": token},
        files={"file": ("loan.yaml", edited.encode(), "application/yaml")},
    )
    assert checked.status_code == 200 and 'data-testid="publish"' in checked.text
    published = admin.post(
        "/admin/apps",
        data={"csrf_token": token, "publish": "1", "yaml": edited},
        follow_redirects=True,
    )
    assert "Published loan version 2" in published.text
    broken = admin.post(
        "/admin/apps",
        data={"csrf_token": token},
        files={"file": ("bad.yaml", b"key: [", "application/yaml")},
    )
    assert broken.status_code == 422 and 'data-testid="error-summary"' in broken.text


def test_post_without_csrf_is_refused(browser: Callable[..., Browser]) -> None:
    admin = browser("admin")
    response = admin.post("/admin/roles", data={"key": "x_role", "name_zh": "x", "name_en": "x"})
    assert response.status_code == 403
    assert "x_role" not in admin.get("/admin/roles").text
    assert len(demo.ROLES) == admin.get("/admin/roles").text.count('data-testid="role-row"')


def test_an_org_admin_manages_people_but_not_apps(
    browser: Callable[..., Browser], demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    org.save_role(
        demo_ctx,
        actors["admin"],
        "org_admin",
        {"name_zh": "组织管理员", "name_en": "Org admin"},
        create=True,
    )
    org.save_user(demo_ctx, actors["admin"], "sun.li", {"roles": ["auditor", "org_admin"]})
    hr = browser("sun.li", locale="en")
    home = hr.get("/").text
    assert 'data-testid="nav-admin"' in home
    assert hr.get("/admin/users").status_code == 200
    assert 'href="/admin/apps"' not in hr.get("/admin/users").text
    assert hr.get("/admin/apps").status_code == 403
    saved = hr.post("/admin/users/admin/active", data={"csrf_token": hr.csrf(), "active": "0"})
    assert saved.status_code == 403  # an administrator's account is not theirs to change


def test_a_definitions_problems_read_in_chinese(browser: Callable[..., Browser]) -> None:
    """An app builder reading zh sees each problem in Chinese at its path, not a code."""
    admin = browser("admin")
    exported = admin.get("/admin/apps/loan/export.yaml").text
    broken = exported.replace("type: exclusive_gateway", "type: exclusive_gate", 1)
    assert broken != exported
    checked = admin.post(
        "/admin/apps",
        data={"csrf_token": admin.csrf()},
        files={"file": ("loan.yaml", broken.encode(), "application/yaml")},
    )
    assert checked.status_code == 422
    assert "<code>process.nodes[1].type</code>：未知的节点类型" in checked.text
    assert "unknown_node_type" not in checked.text
