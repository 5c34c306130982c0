"""抄送 (CC) through the services, on SQLite and PostgreSQL: CC nodes' copies written
with the step, ad-hoc copies by a holder or the applicant, who may copy and whom, the
copied person reading but never acting, copies surviving a reject or a return
(APPROVALS.md edge case 37), the notifications, the audit and the 抄送我 list."""

from __future__ import annotations

from typing import Any

import pytest
from loan_desk import Desk, loan_values
from sqlalchemy import func, select

from approval_apps import yaml_of
from cc_apps import EMPTY_ROLE, START_COPIES, cc_definition, publish_cc_app
from flowdesk.engines.apps.yaml_io import dump_app_yaml, load_app_yaml
from flowdesk.engines.process import StepFailed
from flowdesk.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from flowdesk.services import (
    apps,
    jobs,
    org,
    task_returns,
    ticket_copies,
    tickets,
    views,
    withdrawals,
)
from flowdesk.store import audit as audit_store
from flowdesk.store.tables import Notification, Ticket, TicketCopy, TicketNote


@pytest.fixture
def memo(desk: Desk) -> Desk:
    publish_cc_app(desk.ctx)
    return desk


def _submit(desk: Desk, who: str = "zhang.wei", key: str = "memo") -> str:
    return tickets.submit(
        desk.ctx, actor=desk.actors[who], app_key=key, values=loan_values()
    ).ticket_id


def _copies(desk: Desk, ticket_id: str) -> list[tuple[str, str | None, str | None, bool]]:
    """(username, node id, copied by, read) of each copy of the ticket, by username."""
    names = {actor.user_id: name for name, actor in desk.actors.items()}
    table = TicketCopy.__table__
    with desk.ctx.db.read() as conn:
        rows = conn.execute(
            select(table.c.user_id, table.c.node_id, table.c.by_id, table.c.read_at).where(
                table.c.ticket_id == ticket_id
            )
        )
        found = [
            (names[u], node, names.get(by) if by else None, read is not None)
            for u, node, by, read in rows
        ]
    return sorted(found)


def _notices(desk: Desk, kind: str) -> list[str]:
    jobs.run_due(desk.ctx, owner="worker")
    names = {actor.user_id: name for name, actor in desk.actors.items()}
    table = Notification.__table__
    with desk.ctx.db.read() as conn:
        rows = conn.execute(select(table.c.user_id).where(table.c.kind == kind))
        return sorted(names[user] for (user,) in rows)


def _copy(desk: Desk, who: str, ticket_id: str, *users: str, note: str = "") -> Any:
    return ticket_copies.copy_ticket(
        desk.ctx, actor=desk.actors[who], ticket_id=ticket_id, usernames=list(users), note=note
    )


def _version(desk: Desk, ticket_id: str) -> int:
    table = Ticket.__table__
    with desk.ctx.db.read() as conn:
        return int(
            conn.execute(select(table.c.version).where(table.c.id == ticket_id)).scalar_one()
        )


def _copied_list(desk: Desk, who: str, **params: str) -> views.Page[ticket_copies.CopyView]:
    return ticket_copies.copied_list(desk.ctx, desk.actors[who], params)


def test_a_cc_node_copies_with_the_step_and_opens_no_task(memo: Desk) -> None:
    desk = memo
    ticket_id = _submit(desk)
    assert _copies(desk, ticket_id) == [
        ("luo.xin", "copy_start", None, False),
        ("song.jie", "copy_start", None, False),
    ]
    view = desk.view(ticket_id)
    assert [t.node_id for t in view.tasks] == ["review"]  # no task for a copy
    (sent,) = [e for e in view.timeline if e.kind == "copies_sent"]
    assert sent.node_id == "copy_start"
    assert sent.data == {
        "users": [desk.actors[u].user_id for u in START_COPIES],
        "names": ["罗欣", "宋杰"],
    }
    assert _notices(desk, "ticket_copied") == ["luo.xin", "song.jie"]
    with desk.ctx.db.read() as conn:
        submitted = [e for e in audit_store.entries(conn) if e.action == "ticket.submit"][-1]
    assert submitted.details["copied"] == {
        "copy_start": [desk.actors[u].user_id for u in START_COPIES]
    }
    desk.approve("wang.fang", ticket_id, "review")
    # the second CC node: the risk department's head
    assert ("lin.tao", "copy_mid", None, False) in _copies(desk, ticket_id)
    assert desk.view(ticket_id).status == "running"


def test_an_empty_cc_rule_skips_the_node_with_a_timeline_entry(desk: Desk) -> None:
    publish_cc_app(desk.ctx, mid_rule={"kind": "role", "role": EMPTY_ROLE})
    ticket_id = _submit(desk)
    desk.approve("wang.fang", ticket_id, "review")
    view = desk.view(ticket_id)
    skipped = [e for e in view.timeline if e.kind == "copies_sent" and e.node_id == "copy_mid"]
    assert skipped and skipped[0].data == {"users": [], "names": []}
    assert [t.node_id for t in view.open_tasks] == ["final"]  # went on, no stall


def test_a_copied_user_reads_the_ticket_but_cannot_act(memo: Desk) -> None:
    desk = memo
    ticket_id = _submit(desk)
    view = desk.view(ticket_id, who="luo.xin")
    assert view.id == ticket_id
    assert view.actionable_by(desk.actors["luo.xin"]) == ()
    with pytest.raises(NotFound):  # someone neither copied nor working on it
        desk.view(ticket_id, who="xu.ming")
    task = desk.task(ticket_id, "review")
    with pytest.raises(Forbidden):
        tickets.approve(desk.ctx, actor=desk.actors["luo.xin"], task_id=task.id)
    with pytest.raises(Forbidden) as refused:  # nor may they copy others
        _copy(desk, "luo.xin", ticket_id, "xu.ming")
    assert refused.value.code == "copy_not_allowed"


def test_edge_case_37_copies_survive_a_rejection(memo: Desk) -> None:
    desk = memo
    ticket_id = _submit(desk)
    _copy(desk, "wang.fang", ticket_id, "he.jia", note="请知悉")
    before = _copies(desk, ticket_id)
    desk.reject("wang.fang", ticket_id, "review", "资料不全")
    assert _copies(desk, ticket_id) == before
    assert desk.view(ticket_id, who="he.jia").status == "rejected"  # still sees the end
    assert desk.view(ticket_id, who="song.jie").status == "rejected"
    assert [c.ticket_id for c in _copied_list(desk, "he.jia").items] == [ticket_id]


def test_edge_case_37_copies_survive_a_return_and_a_rerun_copies_no_one_twice(
    memo: Desk,
) -> None:
    desk = memo
    ticket_id = _submit(desk)
    _copy(desk, "zhang.wei", ticket_id, "he.jia")
    before = _copies(desk, ticket_id)
    task = desk.task(ticket_id, "review")
    task_returns.return_task(
        desk.ctx,
        actor=desk.actors["wang.fang"],
        task_id=task.id,
        target="applicant",
        comment="请补充材料",
    )
    assert _copies(desk, ticket_id) == before
    assert desk.view(ticket_id, who="he.jia").id == ticket_id
    task_returns.resubmit(desk.ctx, actor=desk.actors["zhang.wei"], ticket_id=ticket_id)
    assert [t.node_id for t in desk.view(ticket_id).open_tasks] == ["review"]
    # the rerun passed copy_start again: the same people, one row each
    assert _copies(desk, ticket_id) == before


def test_an_ad_hoc_copy_is_a_note_audited_notified_and_leaves_the_version(memo: Desk) -> None:
    desk = memo
    ticket_id = _submit(desk)
    version = _version(desk, ticket_id)
    copied = _copy(desk, "wang.fang", ticket_id, "he.jia", "xu.ming", note="  请知悉  ")
    assert copied.names == ("何佳", "徐明") and copied.note == "请知悉"
    assert _version(desk, ticket_id) == version  # no process state changed
    assert ("he.jia", None, "wang.fang", False) in _copies(desk, ticket_id)
    entry = next(e for e in desk.view(ticket_id).timeline if e.kind == "ticket_copied")
    assert entry.actor is not None and entry.actor.id == desk.actors["wang.fang"].user_id
    assert entry.comment == "请知悉"
    assert entry.data == {
        "users": [desk.actors["he.jia"].user_id, desk.actors["xu.ming"].user_id],
        "names": ["何佳", "徐明"],
    }
    assert _notices(desk, "ticket_copied") == ["he.jia", "luo.xin", "song.jie", "xu.ming"]
    with desk.ctx.db.read() as conn:
        (audit,) = [e for e in audit_store.entries(conn) if e.action == "ticket.copy"]
    assert audit.actor == "wang.fang"
    assert audit.details["users"] == ["he.jia", "xu.ming"]
    assert audit.details["comment"] == "请知悉"
    # the applicant may copy too
    _copy(desk, "zhang.wei", ticket_id, "gao.feng")
    assert ("gao.feng", None, "zhang.wei", False) in _copies(desk, ticket_id)


@pytest.mark.parametrize(
    ("users", "code"),
    [
        ((), "copy_users_required"),
        (("he.jia", "he.jia"), "duplicate"),
        (("no.such.person",), "unknown_user"),
        (("wang.fang",), "copy_self"),
        (tuple(f"user{i}" for i in range(ticket_copies.MAX_COPIES + 1)), "too_many_copies"),
    ],
)
def test_bad_copies_are_refused_and_leave_nothing(
    memo: Desk, users: tuple[str, ...], code: str
) -> None:
    desk = memo
    ticket_id = _submit(desk)
    before = _copies(desk, ticket_id)
    with pytest.raises(ValidationFailed) as refused:
        _copy(desk, "wang.fang", ticket_id, *users)
    assert refused.value.code == code
    assert _copies(desk, ticket_id) == before
    with desk.ctx.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(TicketNote.__table__)).scalar() == 0
        assert not [e for e in audit_store.entries(conn) if e.action == "ticket.copy"]


def test_an_inactive_user_cannot_be_copied(memo: Desk) -> None:
    desk = memo
    ticket_id = _submit(desk)
    org.set_active(desk.ctx, desk.actors["admin"], "he.jia", False)
    with pytest.raises(ValidationFailed) as refused:
        _copy(desk, "wang.fang", ticket_id, "he.jia")
    assert refused.value.code == "unknown_user"


def test_someone_already_copied_is_not_copied_twice(memo: Desk) -> None:
    desk = memo
    ticket_id = _submit(desk)
    with pytest.raises(Conflict) as refused:
        _copy(desk, "wang.fang", ticket_id, "he.jia", "luo.xin")  # luo.xin: by copy_start
    assert refused.value.code == "already_copied"
    assert "he.jia" not in [c[0] for c in _copies(desk, ticket_id)]


def test_who_may_copy(memo: Desk) -> None:
    desk = memo
    ticket_id = _submit(desk)
    with pytest.raises(NotFound):  # cannot see the ticket: it looks missing
        _copy(desk, "xu.ming", ticket_id, "he.jia")
    desk.approve("wang.fang", ticket_id, "review")
    with pytest.raises(Forbidden) as refused:  # no longer holds an open task
        _copy(desk, "wang.fang", ticket_id, "he.jia")
    assert refused.value.code == "copy_not_allowed"
    _copy(desk, "chen.jing", ticket_id, "he.jia")  # the holder now


def test_the_copied_list_pages_unread_first_and_marks_read(memo: Desk) -> None:
    desk = memo
    first, second, third = (_submit(desk) for _ in range(3))
    page = _copied_list(desk, "luo.xin", limit="2")
    assert [c.ticket_id for c in page.items] == [third, second]
    assert page.next_cursor is not None
    rest = _copied_list(desk, "luo.xin", limit="2", cursor=page.next_cursor)
    assert [c.ticket_id for c in rest.items] == [first] and rest.next_cursor is None
    item = page.items[0]
    assert item.serial.startswith("BW-") and item.status == "running" and not item.read
    assert item.copied_by is None and item.node_name == {"en": "Copy the team", "zh": "抄送团队"}
    assert ticket_copies.count_unread(desk.ctx, desk.actors["luo.xin"]) == 3
    assert ticket_copies.mark_read(desk.ctx, desk.actors["luo.xin"], second)
    assert not ticket_copies.mark_read(desk.ctx, desk.actors["luo.xin"], second)  # once
    unread = _copied_list(desk, "luo.xin", unread="true")
    assert [c.ticket_id for c in unread.items] == [third, first]
    assert ticket_copies.count_unread(desk.ctx, desk.actors["luo.xin"]) == 2
    assert _copied_list(desk, "xu.ming").items == []


@pytest.mark.parametrize(
    "params", [{"sort": "created"}, {"unread": "maybe"}, {"cursor": "nonsense!"}, {"limit": "0"}]
)
def test_the_copied_list_refuses_bad_queries(memo: Desk, params: dict[str, str]) -> None:
    with pytest.raises(ValidationFailed):
        _copied_list(memo, "luo.xin", **params)


def test_edge_case_37_copies_survive_a_withdraw_and_a_cancel(memo: Desk) -> None:
    desk = memo
    ticket_id = _submit(desk)
    _copy(desk, "zhang.wei", ticket_id, "he.jia")
    before = _copies(desk, ticket_id)
    withdrawals.withdraw_ticket(desk.ctx, actor=desk.actors["zhang.wei"], ticket_id=ticket_id)
    assert _copies(desk, ticket_id) == before
    assert desk.view(ticket_id, who="he.jia").id == ticket_id
    withdrawals.cancel_ticket(desk.ctx, actor=desk.actors["zhang.wei"], ticket_id=ticket_id)
    assert _copies(desk, ticket_id) == before
    assert desk.view(ticket_id, who="he.jia").status == "cancelled"  # sees the end
    (listed,) = _copied_list(desk, "song.jie").items
    assert listed.ticket_id == ticket_id and listed.status == "cancelled"


def test_a_step_that_fails_after_a_cc_node_copies_no_one(desk: Desk) -> None:
    """The copies go with the step: when the step fails (here the task after the CC node
    has nobody to assign), no ticket, no copy, no notification and no audit entry stay."""
    definition = cc_definition("stuck")
    for node in definition["process"]["nodes"]:
        if node["id"] == "review":
            node["assignee"] = {"kind": "role", "role": EMPTY_ROLE}
    org.ensure_role(desk.ctx, key=EMPTY_ROLE, name_en="Nobody", name_zh="无人")
    apps.publish_yaml(desk.ctx, yaml_of(definition))
    with pytest.raises(StepFailed):
        _submit(desk, key="stuck")
    with desk.ctx.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(TicketCopy.__table__)).scalar() == 0
        assert not [e for e in audit_store.entries(conn) if e.action.startswith("ticket.")]
    assert _notices(desk, "ticket_copied") == []


def test_a_cc_app_round_trips_through_yaml(memo: Desk) -> None:
    spec = apps.current(memo.ctx, "memo").spec
    text = dump_app_yaml(spec)
    assert "type: cc" in text
    assert load_app_yaml(text) == spec
