"""Maintaining the org chart: admin edits, deactivation, and the bulk import (both databases)."""

from __future__ import annotations

import io

import pytest
from loan_desk import Desk
from openpyxl import Workbook
from sqlalchemy import text

from flowdesk.engines.access import Actor
from flowdesk.engines.process.runtime import StepFailed
from flowdesk.kernel.errors import Conflict, Forbidden, NotFound, Unauthenticated, ValidationFailed
from flowdesk.services import auth, demo, org, org_import
from flowdesk.services.context import ServiceContext


def _audit_count(ctx: ServiceContext) -> int:
    with ctx.db.read() as conn:
        return int(conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one())


def _audit_actions(ctx: ServiceContext, after: int) -> list[str]:
    with ctx.db.read() as conn:
        rows = conn.execute(
            text("SELECT action FROM audit_log WHERE seq > :s ORDER BY seq"), {"s": after}
        )
        return [row[0] for row in rows]


def _row_count(ctx: ServiceContext, table: str) -> int:
    with ctx.db.read() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def _workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    book = Workbook()
    assert book.active is not None
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


USERS_HEADER = [
    "用户名 username",
    "中文姓名",
    "name_en",
    "部门",
    "直属上级",
    "职级",
    "邮箱",
    "手机",
    "在职",
    "角色",
]


def _bank_file(*, extra_users: list[list[object]] | None = None) -> bytes:
    return _workbook(
        {
            "部门": [
                ["部门编码", "中文名称", "英文名称", "上级部门", "负责人"],
                ["ops", "运营管理部", "Operations", "hq", "sun.mei"],
                ["ops-cash", "现金中心", "Cash centre", "ops", "qiao.an"],
            ],
            "用户": [
                USERS_HEADER,
                # qiao.an's manager sun.mei comes further down the file.
                [
                    "qiao.an",
                    "乔安",
                    "An Qiao",
                    "ops-cash",
                    "sun.mei",
                    "P5",
                    "qiao.an@bank.example",
                    "138 1234 5678",
                    "是",
                    "disbursement、ops_clerk",
                ],
                [
                    "sun.mei",
                    "孙梅",
                    "Mei Sun",
                    "ops",
                    "zhou.hang",
                    "P8",
                    "",
                    "+86 139-0000-1111",
                    "是",
                    "",
                ],
                *(extra_users or []),
            ],
            "角色": [
                ["角色标识 key", "中文名称", "英文名称"],
                ["ops_clerk", "运营岗", "Operations clerk"],
            ],
        }
    )


def test_admin_creates_edits_and_lists_users_with_one_audit_entry_each(
    demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    admin = actors["admin"]
    before = _audit_count(demo_ctx)
    created = org.save_user(
        demo_ctx,
        admin,
        "Qin.Shu",
        {
            "name_zh": "秦舒",
            "name_en": "Shu Qin",
            "department": "finance",
            "manager": "gao.feng",
            "job_level": "P6",
            "mobile": "13812345678",
            "email": "qin.shu@Bank.Example",
            "roles": ["finance_reviewer"],
            "password": "Secret@2026",
        },
        create=True,
    )
    assert created.username == "qin.shu"
    assert created.display_name == "秦舒"
    assert created.mobile == "138****5678"  # masked on display
    assert created.email == "qin.shu@bank.example"
    assert created.roles == ("finance_reviewer",)
    assert (
        auth.authenticate(demo_ctx, username="qin.shu", password="Secret@2026").username
        == "qin.shu"
    )
    org.save_user(demo_ctx, admin, "qin.shu", {"job_level": "P7", "mobile": "138****5678"})
    with demo_ctx.db.read() as conn:
        stored = conn.execute(
            text("SELECT mobile, job_level FROM users WHERE username='qin.shu'")
        ).one()
    assert stored == ("+8613812345678", "P7")  # the masked number posted back kept the real one
    assert _audit_actions(demo_ctx, before) == ["user.create", "user.update"]
    page = org.list_users(demo_ctx, admin, q="秦", limit=10)
    assert [u.username for u in page.items] == ["qin.shu"]
    first = org.list_users(demo_ctx, admin, limit=5)
    second = org.list_users(demo_ctx, admin, limit=5, cursor=first.next_cursor)
    assert first.next_cursor and {u.username for u in first.items}.isdisjoint(
        u.username for u in second.items
    )


def test_bad_fields_are_refused_naming_each_and_nothing_is_written(
    demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    before = _audit_count(demo_ctx)
    with pytest.raises(ValidationFailed) as refused:
        org.save_user(
            demo_ctx,
            actors["admin"],
            "bad.user",
            {"name_zh": "坏", "mobile": "010-12345678", "email": "nope", "department": "nowhere"},
            create=True,
        )
    paths = {(e.path, e.code) for e in refused.value.errors}
    assert ("mobile", "invalid_mobile") in paths
    assert ("email", "invalid_email") in paths
    with pytest.raises(ValidationFailed) as unknown:
        org.save_user(
            demo_ctx,
            actors["admin"],
            "bad.user",
            {"name_zh": "坏", "department": "nowhere"},
            create=True,
        )
    assert [(e.path, e.code) for e in unknown.value.errors] == [
        ("department", "unknown_department")
    ]
    with pytest.raises(ValidationFailed) as cycle:
        org.save_user(demo_ctx, actors["admin"], "zhou.hang", {"manager": "zhang.wei"})
    assert [e.code for e in cycle.value.errors] == ["manager_cycle"]
    with pytest.raises(ValidationFailed) as dept_cycle:
        org.save_department(demo_ctx, actors["admin"], "hq", {"parent": "branch-bj"})
    assert [e.code for e in dept_cycle.value.errors] == ["department_cycle"]
    with pytest.raises(Conflict):
        org.save_user(demo_ctx, actors["admin"], "zhang.wei", {"name_zh": "重名"}, create=True)
    with pytest.raises(NotFound):
        org.save_user(demo_ctx, actors["admin"], "nobody.here", {"name_zh": "无"})
    assert _audit_count(demo_ctx) == before
    assert _row_count(demo_ctx, "users") == len(demo.PEOPLE)


def test_only_administrators_and_org_admins_manage_the_org(
    demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    with pytest.raises(Forbidden):
        org.list_users(demo_ctx, actors["zhang.wei"])
    with pytest.raises(Forbidden):
        org.save_user(demo_ctx, actors["zhang.wei"], "zhang.wei", {"job_level": "P9"})
    org.save_role(
        demo_ctx,
        actors["admin"],
        "org_admin",
        {"name_zh": "组织管理员", "name_en": "Org admin"},
        create=True,
    )
    org.save_user(demo_ctx, actors["admin"], "sun.li", {"roles": ["auditor", "org_admin"]})
    with demo_ctx.db.read() as conn:
        hr = auth.actor_from_row(conn, org.org_store.user_by_username(conn, "sun.li"))
    assert org.save_user(demo_ctx, hr, "zhang.wei", {"job_level": "P5"}).job_level == "P5"
    with pytest.raises(Forbidden):  # an org admin cannot touch an administrator's account
        org.set_active(demo_ctx, hr, "admin", False)
    with pytest.raises(Conflict):
        org.set_active(demo_ctx, actors["admin"], "admin", False)


def test_a_deactivated_user_cannot_log_in_keeps_their_name_and_is_skipped_as_assignee(
    desk: Desk, demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    earlier = desk.submit("20000.00")  # zhang.wei's manager li.na gets it
    before = _audit_count(demo_ctx)
    view = org.set_active(demo_ctx, actors["admin"], "li.na", False)
    assert not view.is_active and view.display_name == "李娜"
    # the deactivation, then the hand-over of her open task to her manager (seed 003)
    assert _audit_actions(demo_ctx, before) == ["user.deactivate", "task.hand_over"]
    with pytest.raises(Unauthenticated):
        auth.authenticate(demo_ctx, username="li.na", password="Demo@2026")
    # li.na's manager zhou.hang answers for her part of the chain now.
    later = desk.submit("20000.00")
    assert [p.name for t in desk.view(later).open_tasks for p in t.assignees] == ["周航（行长）"]
    # Her open task went to him too; her history stays.
    assert [p.name for t in desk.view(earlier).open_tasks for p in t.assignees] == ["周航（行长）"]
    assert [t.state for t in desk.view(earlier).tasks] == ["transferred", "open"]
    # An inactive department head is not assigned either: with nobody left the step
    # says so instead of giving the task to someone who left.
    org.set_active(demo_ctx, actors["admin"], "wang.fang", False)
    with pytest.raises(StepFailed, match="legal_review"):
        desk.submit("120000.00")
    org.set_active(demo_ctx, actors["admin"], "li.na", True)
    assert auth.authenticate(demo_ctx, username="li.na", password="Demo@2026").username == "li.na"
    again = desk.submit("20000.00")
    assert [p.name for t in desk.view(again).open_tasks for p in t.assignees] == ["李娜"]


def test_role_holders_who_left_get_no_new_tasks(
    demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    with demo_ctx.db.read() as conn:
        from flowdesk.store import org as org_store

        before = set(org_store.users_with_role(conn, "finance_reviewer"))
    org.set_active(demo_ctx, actors["admin"], "liu.yang", False)
    with demo_ctx.db.read() as conn:
        after = set(org_store.users_with_role(conn, "finance_reviewer"))
    assert after == before - {actors["liu.yang"].user_id}


def test_import_preview_writes_nothing_then_import_writes_all_and_reimport_nothing(
    demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    content = _bank_file()
    audit_before = _audit_count(demo_ctx)
    preview = org.import_org(
        demo_ctx, [("bank.xlsx", content)], actor=actors["admin"], dry_run=True
    )
    assert preview.counts["user"] == {"created": 2, "updated": 0, "unchanged": 0}
    assert preview.counts["department"]["created"] == 2
    assert preview.counts["role"]["created"] == 1
    assert _audit_count(demo_ctx) == audit_before
    assert _row_count(demo_ctx, "users") == len(demo.PEOPLE)
    done = org.import_org(demo_ctx, [("bank.xlsx", content)], actor=actors["admin"])
    assert done.changed == 5
    qiao = org.get_user(demo_ctx, actors["admin"], "qiao.an")
    assert (qiao.manager, qiao.department, qiao.mobile) == ("sun.mei", "ops-cash", "138****5678")
    assert qiao.roles == ("disbursement", "ops_clerk")
    heads = {d.code: d.head for d in org.list_departments(demo_ctx, actors["admin"])}
    assert heads["ops"] == "sun.mei" and heads["ops-cash"] == "qiao.an"
    assert len(_audit_actions(demo_ctx, audit_before)) == 5  # one per changed entity
    audit_after = _audit_count(demo_ctx)
    with demo_ctx.db.read() as conn:
        generation = conn.execute(text("SELECT generation FROM org_generation")).scalar_one()
    again = org.import_org(demo_ctx, [("bank.xlsx", content)], actor=actors["admin"])
    assert again.changed == 0
    assert again.counts["user"]["unchanged"] == 2
    assert _audit_count(demo_ctx) == audit_after  # the nightly sync writes no noise
    with demo_ctx.db.read() as conn:
        assert (
            conn.execute(text("SELECT generation FROM org_generation")).scalar_one() == generation
        )


def test_reimport_updates_by_username_and_deactivates_when_told(
    demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    org.import_org(demo_ctx, [("bank.xlsx", _bank_file())], actor=actors["admin"])
    changed = _workbook(
        {
            "users": [
                ["username", "job_level", "active", "roles"],
                ["qiao.an", "P6", "否", "ops_clerk"],
                ["zhang.wei", "P4", "", ""],
            ]
        }
    )
    before = _audit_count(demo_ctx)
    report = org.import_org(demo_ctx, [("hr.xlsx", changed)], actor=actors["admin"])
    assert report.counts["user"] == {"created": 0, "updated": 2, "unchanged": 0}
    qiao = org.get_user(demo_ctx, actors["admin"], "qiao.an")
    assert (qiao.job_level, qiao.is_active, qiao.roles, qiao.name_zh) == (
        "P6",
        False,
        ("ops_clerk",),
        "乔安",
    )
    assert _audit_actions(demo_ctx, before) == ["user.update", "user.update"]


def test_a_bad_row_anywhere_writes_nothing_and_names_sheet_row_and_column(
    demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    content = _bank_file(
        extra_users=[
            ["ok.person", "好人", "", "ops", "", "", "", "", "", ""],
            ["bad.mobile", "坏号", "", "ops", "", "", "", "12345", "", ""],
            ["lost.manager", "无主", "", "ops", "no.such", "", "", "", "", ""],
        ]
    )
    before = (
        _audit_count(demo_ctx),
        _row_count(demo_ctx, "users"),
        _row_count(demo_ctx, "departments"),
    )
    with pytest.raises(ValidationFailed) as refused:
        org.import_org(demo_ctx, [("bank.xlsx", content)], actor=actors["admin"])
    errors = {e.path: e.code for e in refused.value.errors}
    assert errors == {"用户!H5": "invalid_mobile", "用户!E6": "unknown_user"}
    assert any("用户 row 5, mobile" in e.message for e in refused.value.errors)
    after = (
        _audit_count(demo_ctx),
        _row_count(demo_ctx, "users"),
        _row_count(demo_ctx, "departments"),
    )
    assert after == before


def test_cycles_in_the_file_are_refused(demo_ctx: ServiceContext, actors: dict[str, Actor]) -> None:
    content = _workbook(
        {
            "departments": [
                ["code", "name_zh", "name_en", "parent"],
                ["a1", "甲", "A", "b1"],
                ["b1", "乙", "B", "a1"],
            ],
            "users": [
                ["username", "name_zh", "manager"],
                ["p.one", "一", "p.two"],
                ["p.two", "二", "p.one"],
            ],
        }
    )
    with pytest.raises(ValidationFailed) as refused:
        org.import_org(demo_ctx, [("c.xlsx", content)], actor=actors["admin"])
    assert (
        sorted(e.code for e in refused.value.errors)
        == ["department_cycle"] * 2 + ["manager_cycle"] * 2
    )


def test_csv_in_gb18030_and_utf8_with_bom(
    demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    text_csv = "用户名,中文姓名,部门,手机\r\nzhang.wei,张伟,branch-bj,13900001111\r\n"
    for encoded in (text_csv.encode("gb18030"), b"\xef\xbb\xbf" + text_csv.encode()):
        report = org.import_org(
            demo_ctx, [("users.csv", encoded)], actor=actors["admin"], dry_run=True
        )
        assert report.counts["user"] == {"created": 0, "updated": 1, "unchanged": 0}
    with pytest.raises(ValidationFailed) as wrong:
        org.import_org(
            demo_ctx,
            [("u.csv", text_csv.encode("gb18030"))],
            actor=actors["admin"],
            encoding="utf-8",
        )
    assert wrong.value.code == "invalid_encoding"


def test_formulas_macros_and_old_excel_are_refused_cleanly(
    demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    with_formula = _workbook({"users": [["username", "name_zh"], ["f.one", "=1+1"]]})
    with pytest.raises(ValidationFailed) as formula:
        org.import_org(demo_ctx, [("f.xlsx", with_formula)], actor=actors["admin"])
    assert formula.value.code == "formulas_refused"
    with pytest.raises(ValidationFailed) as old:
        org.import_org(
            demo_ctx, [("old.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100)], actor=actors["admin"]
        )
    assert old.value.code == "xls_refused"
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/vbaProject.bin", b"macro")
    with pytest.raises(ValidationFailed) as macro:
        org.import_org(demo_ctx, [("m.xlsm", buffer.getvalue())], actor=actors["admin"])
    assert macro.value.code == "macros_refused"
    with pytest.raises(Forbidden):
        org.import_org(demo_ctx, [("f.xlsx", with_formula)], actor=actors["zhang.wei"])


def test_the_template_reads_back_as_an_empty_import() -> None:
    records = org_import.read_files([("template.xlsx", org_import.template_xlsx())])
    assert (records.departments, records.users, records.roles, records.issues) == ((), (), (), ())


def test_a_change_that_fails_midway_leaves_no_row_and_no_audit_entry(
    demo_ctx: ServiceContext, actors: dict[str, Actor], monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowdesk.store import org as org_store

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(org_store, "grant_role", broken)  # after the user rows are written
    before = (_audit_count(demo_ctx), _row_count(demo_ctx, "users"))
    with pytest.raises(RuntimeError):
        org.import_org(demo_ctx, [("bank.xlsx", _bank_file())], actor=actors["admin"])
    assert (_audit_count(demo_ctx), _row_count(demo_ctx, "users")) == before


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13812345678", "+8613812345678"),
        ("+86 138-1234-5678", "+8613812345678"),
        ("008613812345678", "+8613812345678"),
        ("(138) 1234 5678", "+8613812345678"),
        ("+86 199 1234 5678", "+8619912345678"),
    ],
)
def test_mainland_mobiles_are_normalised_to_e164(typed: str, stored: str) -> None:
    from flowdesk.services import org_fields

    assert org_fields.mobile(typed) == stored
    assert org_fields.masked_mobile(stored) == stored[3:6] + "****" + stored[-4:]


@pytest.mark.parametrize(
    "typed", ["12345678901", "010-12345678", "+1 415 555 0100", "1381234567", "14012345678", "x"]
)
def test_other_numbers_are_refused(typed: str) -> None:
    from flowdesk.services import org_fields

    with pytest.raises(org_fields.FieldError) as refused:
        org_fields.mobile(typed)
    assert refused.value.code == "invalid_mobile"
