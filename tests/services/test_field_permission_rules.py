"""Per-node field permissions (ADR 0037) through the services, on both databases: the start
form's own set, a step's hidden field neither shown to its approver nor accepted from
them, a read-only one refused, and every change kept with old and new value."""

from __future__ import annotations

from typing import Any

import pytest
from loan_desk import Desk
from sqlalchemy import func, select

from field_permission_app import NOTE, field_permission_yaml
from flowdesk.kernel.errors import ValidationFailed
from flowdesk.services import apps, tickets, views
from flowdesk.services.list_query import parse_list_query
from flowdesk.store import audit as audit_store
from flowdesk.store.tables import Ticket


@pytest.fixture
def permission_desk(desk: Desk) -> Desk:
    apps.publish_yaml(desk.ctx, field_permission_yaml())
    return desk


def _tickets(desk: Desk) -> int:
    with desk.ctx.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(Ticket)).scalar_one())


def _refused(desk: Desk, who: str, task_id: str, values: dict[str, object]) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as refused:
        tickets.approve(desk.ctx, actor=desk.actors[who], task_id=task_id, values=values)
    return refused.value


def test_the_start_form_refuses_a_field_it_hides(permission_desk: Desk) -> None:
    desk = permission_desk
    before = _tickets(desk)
    with pytest.raises(ValidationFailed) as refused:
        desk.submit("1000.00", approved_amount="1000000.00")
    assert refused.value.code == "values_not_editable"
    assert [(e.path, e.code) for e in refused.value.errors] == [("approved_amount", "field_hidden")]
    assert _tickets(desk) == before


def test_a_step_hides_a_field_from_its_approver_only(permission_desk: Desk) -> None:
    desk = permission_desk
    ticket_id = desk.submit("1000.00", private_note=NOTE)
    # the branch manager holds branch_review, which hides the note
    seen_by_manager = desk.view(ticket_id, who="li.na")
    assert "private_note" not in seen_by_manager.values
    assert all(f.key != "private_note" for f in seen_by_manager.form.fields)
    # the applicant and the administrator see their own data
    assert desk.view(ticket_id, who="zhang.wei").values["private_note"] == NOTE
    assert desk.view(ticket_id, who="admin").values["private_note"] == NOTE
    # 待办: the manager's row shows the amount, not the note; the applicant's row shows both
    query = parse_list_query({})
    (row,) = [
        t
        for t in views.task_list(desk.ctx, desk.actors["li.na"], query, done=False).items
        if t.ticket_id == ticket_id
    ]
    assert [item.key for item in row.summary] == ["amount"]
    mine = views.ticket_list(desk.ctx, desk.actors["zhang.wei"], query, scope="mine")
    (own,) = [t for t in mine.items if t.id == ticket_id]
    assert [item.key for item in own.summary] == ["amount", "private_note"]


def test_a_hidden_field_is_refused_and_a_read_only_one_cannot_change(
    permission_desk: Desk,
) -> None:
    desk = permission_desk
    ticket_id = desk.submit("1000.00", private_note=NOTE)
    task = desk.task(ticket_id, "branch_review")
    error = _refused(desk, "li.na", task.id, {"private_note": "x", "amount": "99999.00"})
    assert error.code == "values_not_editable"
    assert [(e.path, e.code) for e in error.errors] == [
        ("amount", "field_not_editable"),
        ("private_note", "field_hidden"),
    ]
    assert desk.view(ticket_id).values["private_note"] == NOTE


def test_an_editable_field_changes_with_old_and_new_value_on_record(
    permission_desk: Desk,
) -> None:
    desk = permission_desk
    ticket_id = desk.submit("1000.00", private_note=NOTE)
    task = desk.task(ticket_id, "branch_review")
    tickets.approve(
        desk.ctx, actor=desk.actors["li.na"], task_id=task.id, values={"approved_amount": "900"}
    )
    view = desk.view(ticket_id)
    assert view.values["approved_amount"] == "900.00"
    (changed,) = [e for e in view.timeline if e.kind == "values_changed"]
    assert changed.data is not None
    assert changed.data["changes"] == [{"field": "approved_amount", "old": None, "new": "900.00"}]
    with desk.ctx.db.read() as conn:
        (entry,) = [e for e in audit_store.entries(conn) if e.action == "task.approve"]
    details: dict[str, Any] = entry.details
    assert details["changes"] == [{"field": "approved_amount", "old": None, "new": "900.00"}]
    # the disbursement desk's step hides nothing: it sees the note
    assert desk.view(ticket_id, who="zhao.lei").values["private_note"] == NOTE
