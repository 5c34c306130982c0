"""The demo bank loads into an empty database once, and only once."""

from __future__ import annotations

from sqlalchemy import func, select

from flowdesk.services import apps, audit, auth, demo
from flowdesk.services.context import ServiceContext
from flowdesk.store import audit as audit_store
from flowdesk.store import org as org_store
from flowdesk.store.tables import Department, User


def _counts(ctx: ServiceContext) -> tuple[int, int, int]:
    with ctx.db.read() as conn:
        users = conn.execute(select(func.count()).select_from(User.__table__)).scalar_one()
        departments = conn.execute(
            select(func.count()).select_from(Department.__table__)
        ).scalar_one()
        return users, departments, audit_store.head(conn)[0]


def test_the_demo_bank_loads_once(ctx: ServiceContext) -> None:
    assert _counts(ctx) == (0, 0, 0)
    assert demo.load(ctx) is True
    users, departments, head = _counts(ctx)
    assert 35 <= users <= 45
    assert users == len(demo.PEOPLE)
    assert departments == 8
    assert [(a.key, a.version) for a in apps.list_apps(ctx)] == [
        ("account_opening", 1),
        ("complaint", 1),
        ("contract_review", 1),
        ("customers", 1),
        ("loan", 1),
        ("reimbursement", 1),
    ]
    assert audit.verify(ctx).ok

    assert demo.load(ctx) is False
    assert _counts(ctx) == (users, departments, head)


def test_the_demo_org_chart_is_what_the_loan_app_needs(ctx: ServiceContext) -> None:
    demo.load(ctx)
    with ctx.db.read() as conn:
        zhang = org_store.user_by_username(conn, "zhang.wei")
        li_na = org_store.user_by_username(conn, "li.na")
        assert zhang is not None and li_na is not None
        assert org_store.manager_chain(conn, zhang.id, 1) == [li_na.id]
        legal = org_store.department_by_code(conn, "legal")
        wang = org_store.user_by_username(conn, "wang.fang")
        assert legal is not None and wang is not None and legal.head_user_id == wang.id
        for role, people in {
            "finance_reviewer": {"liu.yang", "ma.li"},
            "credit_committee": {"chen.jing", "yang.guang", "luo.xin"},
            "disbursement": {"zhao.lei", "qian.yu"},
            "auditor": {"sun.li"},
            # the contract review's 会签: one reviewer each in Legal, Finance and Risk
            "contract_reviewer": {"xu.ming", "liu.yang", "hu.bin"},
            "deputy_head": {"xiao.yun", "tian.ye"},  # its 或签
            # the account opening's 会签 of compliance and operations, and its 或签
            "aml_reviewer": {"he.jia"},
            "operations_reviewer": {"wu.min", "han.bing", "du.kang"},
            "branch_head": {"li.na", "huang.lei", "yu.hong"},
        }.items():
            ids = set(org_store.users_with_role(conn, role))
            assert ids == {org_store.user_by_username(conn, p).id for p in people}  # type: ignore[union-attr]
    admin = auth.authenticate(ctx, username="admin", password=demo.DEMO_PASSWORD)
    assert admin.is_admin


def test_every_demo_person_but_the_administrator_has_a_job_level(ctx: ServiceContext) -> None:
    demo.load(ctx)
    with ctx.db.read() as conn:
        levels = {
            person.username: org_store.user_by_username(conn, person.username).job_level  # type: ignore[union-attr]
            for person in demo.PEOPLE
        }
    assert levels.pop("admin") is None
    assert set(levels.values()) <= {"P3", "P4", "P5", "P6", "M3", "M4", "M5"}
    assert (levels["zhou.hang"], levels["xiao.yun"], levels["li.na"]) == ("M5", "M4", "M3")
    assert levels["tian.ye"] == "M4"  # the second deputy head
    assert levels["zhang.wei"] == "P6" and levels["fu.qiang"] == "P6"
