"""Record apps (ADR 0038): the customers table, its editors and readers, each change a
step with timeline and audit, the grid's search and paging, import into records, on
both databases."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from flowdesk.engines.access import Actor
from flowdesk.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from flowdesk.services import audit, records, ticket_import, tickets, views
from flowdesk.services.context import ServiceContext
from flowdesk.services.list_query import parse_list_query
from flowdesk.store import audit as audit_store

Actors = dict[str, Actor]


def _create(ctx: ServiceContext, actors: Actors, name: str = "深圳前海贸易有限公司") -> str:
    outcome = records.create(
        ctx,
        actor=actors["zhang.wei"],
        app_key="customers",
        values={"customer_name": name, "manager": "zhang.wei", "segment": "sme"},
    )
    return outcome.ticket_id


def _audit(ctx: ServiceContext, target: str) -> list[tuple[str, dict[str, object]]]:
    with ctx.db.read() as conn:
        return [(e.action, e.details) for e in audit_store.entries(conn) if e.target_id == target]


def _grid(ctx: ServiceContext, actor: Actor, **params: str) -> list[str]:
    """The customer names of the grid's first page."""
    page = records.record_list(ctx, actor, "customers", parse_list_query(params))
    return [str(item.stored_values["customer_name"]) for item in page.items]


def test_the_demo_bank_has_its_customers(demo_ctx: ServiceContext, actors: Actors) -> None:
    names = _grid(demo_ctx, actors["sun.li"], limit="100")
    assert len(names) == 6 and "上海浦江物流有限公司" in names


def test_an_editor_creates_a_record_with_serial_timeline_and_audit(
    demo_ctx: ServiceContext, actors: Actors
) -> None:
    record_id = _create(demo_ctx, actors)
    view = views.ticket(demo_ctx, actors["sun.li"], record_id)  # an auditor reads it
    assert view.status == "record" and view.serial.startswith("CUS-")
    number = view.values.pop("customer_no")
    assert view.values == {
        "customer_name": "深圳前海贸易有限公司",
        "manager": "zhang.wei",
        "segment": "sme",
    }
    # the auto-number is the serial's sequence in the app's format (ADR 0038)
    year, sequence = view.serial.split("-")[1:]
    assert number == f"KH{year}{int(sequence):05d}"
    assert _grid(demo_ctx, actors["sun.li"], q=number) == ["深圳前海贸易有限公司"]
    assert view.tasks == () and [e.kind for e in view.timeline] == ["record_created"]
    assert [a for a, _ in _audit(demo_ctx, record_id)] == ["record.create"]
    # the credit committee reads the table too; the record is in their grid
    assert "深圳前海贸易有限公司" in _grid(demo_ctx, actors["chen.jing"], q="前海")


def test_only_editors_write_and_others_do_not_even_see_the_table(
    demo_ctx: ServiceContext, actors: Actors
) -> None:
    values = {"customer_name": "某公司", "manager": "li.na", "segment": "sme"}
    for who in ("sun.li", "li.na"):  # a reader, and someone with no role in the app
        with pytest.raises((Forbidden, NotFound)):
            records.create(demo_ctx, actor=actors[who], app_key="customers", values=values)
    with pytest.raises(NotFound):
        _grid(demo_ctx, actors["wu.min"])
    record_id = _create(demo_ctx, actors)
    with pytest.raises(NotFound):  # a record is hidden from people outside its app
        views.ticket(demo_ctx, actors["wu.min"], record_id)
    with pytest.raises(Forbidden):
        records.update(
            demo_ctx, actor=actors["sun.li"], record_id=record_id, values={"segment": "large"}
        )
    assert _grid(demo_ctx, actors["sun.li"], q="某公司") == []


def test_a_record_app_files_no_tickets(demo_ctx: ServiceContext, actors: Actors) -> None:
    with pytest.raises(Conflict) as refused:
        tickets.submit(demo_ctx, actor=actors["zhang.wei"], app_key="customers", values={})
    assert refused.value.code == "record_app"


def test_an_edit_keeps_old_and_new_values_and_a_bad_one_writes_nothing(
    demo_ctx: ServiceContext, actors: Actors
) -> None:
    record_id = _create(demo_ctx, actors)
    records.update(
        demo_ctx,
        actor=actors["xie.ting"],  # another customer manager
        record_id=record_id,
        values={"segment": "large", "customer_name": "深圳前海国际贸易有限公司"},
    )
    view = views.ticket(demo_ctx, actors["zhang.wei"], record_id)
    assert view.values["segment"] == "large"
    changed = view.timeline[-1]
    assert changed.kind == "values_changed" and changed.actor is not None
    assert {"field": "segment", "old": "sme", "new": "large"} in changed.data["changes"]
    action, details = _audit(demo_ctx, record_id)[-1]
    assert action == "record.update"
    assert set(details["changed_fields"]) == {"segment", "customer_name"}  # type: ignore[arg-type]
    # the search follows the new name
    assert _grid(demo_ctx, actors["sun.li"], q="国际贸易") == ["深圳前海国际贸易有限公司"]
    with pytest.raises(ValidationFailed) as refused:
        records.update(
            demo_ctx,
            actor=actors["zhang.wei"],
            record_id=record_id,
            values={"segment": "huge", "customer_name": ""},
        )
    assert {e.path for e in refused.value.errors} == {"segment", "customer_name"}
    after = views.ticket(demo_ctx, actors["zhang.wei"], record_id)
    assert after.values == view.values and len(after.timeline) == len(view.timeline)
    assert len(_audit(demo_ctx, record_id)) == 2


def test_a_deleted_record_leaves_the_grid_and_keeps_its_history(
    demo_ctx: ServiceContext, actors: Actors
) -> None:
    record_id = _create(demo_ctx, actors, "待删除客户有限公司")
    records.delete(demo_ctx, actor=actors["zhang.wei"], record_id=record_id)
    assert _grid(demo_ctx, actors["sun.li"], q="待删除") == []
    view = views.ticket(demo_ctx, actors["sun.li"], record_id)
    assert view.status == "deleted" and view.timeline[-1].kind == "record_deleted"
    assert [a for a, _ in _audit(demo_ctx, record_id)] == ["record.create", "record.delete"]
    with pytest.raises(Conflict):
        records.delete(demo_ctx, actor=actors["zhang.wei"], record_id=record_id)


def test_the_grid_pages_by_cursor_and_sorts(demo_ctx: ServiceContext, actors: Actors) -> None:
    for n in range(5):
        _create(demo_ctx, actors, f"分页客户{n}号")
    seen: list[str] = []
    cursor = ""
    while True:
        page = records.record_list(
            demo_ctx,
            actors["sun.li"],
            "customers",
            parse_list_query({"q": "分页客户", "limit": "2", "order": "asc", "cursor": cursor}),
        )
        seen += [str(item.stored_values["customer_name"]) for item in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [f"分页客户{n}号" for n in range(5)]


def _workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["客户名称", "客户经理", "客户分层"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_import_rows_into_the_record_app(demo_ctx: ServiceContext, actors: Actors) -> None:
    good = [["导入甲有限公司", "zhang.wei", "中小企业"], ["导入乙有限公司", "pan.yue", "large"]]
    bad = _workbook([*good, ["导入丙有限公司", "zhang.wei", "巨型企业"]])
    with pytest.raises(ValidationFailed) as refused:  # all or nothing
        ticket_import.import_rows(
            demo_ctx, actors["zhang.wei"], "customers", filename="c.xlsx", content=bad
        )
    assert [e.path for e in refused.value.errors] == ["rows[4].segment"]
    assert _grid(demo_ctx, actors["sun.li"], q="导入") == []
    report = ticket_import.import_rows(
        demo_ctx, actors["zhang.wei"], "customers", filename="c.xlsx", content=_workbook(good)
    )
    assert report.created == 2
    assert sorted(_grid(demo_ctx, actors["sun.li"], q="导入")) == [
        "导入乙有限公司",
        "导入甲有限公司",
    ]
    made = views.ticket(demo_ctx, actors["sun.li"], report.ticket_ids[0])
    assert made.status == "record" and made.values["segment"] == "sme"
    assert [e.kind for e in made.timeline] == ["record_created"]
    # the batched writes extend the audit chain entry by entry, as single creates do
    assert audit.verify(demo_ctx).ok
    assert [a for a, _ in _audit(demo_ctx, made.id)] == ["record.create"]
    with pytest.raises(Forbidden):  # importing is writing: editors only
        ticket_import.import_rows(
            demo_ctx, actors["sun.li"], "customers", filename="c.xlsx", content=_workbook(good)
        )
