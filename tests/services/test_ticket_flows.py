"""The loan app end to end through the services: every path a loan can take."""

from __future__ import annotations

import pytest
from loan_desk import Desk, loan_values
from sqlalchemy import select

from flowdesk.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from flowdesk.services import audit, tickets, views
from flowdesk.store import tickets as tickets_store
from flowdesk.store.tables import Task, Ticket


def _timeline(desk: Desk, ticket_id: str) -> list[tuple[str, str | None, str | None]]:
    """(kind, node, actor username) for every timeline entry, in order."""
    names = {actor.user_id: name for name, actor in desk.actors.items()}
    return [
        (e.kind, e.node_id, names[e.actor.id] if e.actor else None)
        for e in desk.view(ticket_id).timeline
    ]


SUBMITTED_LARGE = [
    ("ticket_submitted", None, "zhang.wei"),
    ("node_passed", "start", None),
    ("node_passed", "amount_check", None),
    ("node_passed", "split", None),
    ("task_opened", "legal_review", None),
    ("task_opened", "finance_review", None),
]


def test_small_loan_is_approved_by_the_branch_manager_then_disbursed(desk: Desk) -> None:
    ticket_id = desk.submit("30000.00")
    view = desk.view(ticket_id, "zhang.wei")
    assert view.status == "running"
    assert [(t.node_id, [p.id for p in t.assignees]) for t in view.open_tasks] == [
        ("branch_review", [desk.actors["li.na"].user_id])
    ]

    step = desk.approve("li.na", ticket_id, "branch_review", "同意")
    assert step.status == "running"
    disburse = desk.task(ticket_id, "disburse")
    assert {p.id for p in disburse.assignees} == {
        desk.actors["zhao.lei"].user_id,
        desk.actors["qian.yu"].user_id,
    }
    assert desk.approve("zhao.lei", ticket_id, "disburse").status == "approved"

    view = desk.view(ticket_id, "zhang.wei")
    assert view.status == "approved"
    assert view.finished_at is not None
    assert view.open_tasks == ()
    assert [(t.node_id, t.state) for t in view.tasks] == [
        ("branch_review", "approved"),
        ("disburse", "approved"),
    ]
    assert view.tasks[0].comment == "同意"
    assert view.tasks[0].completed_by is not None
    assert view.tasks[0].completed_by.id == desk.actors["li.na"].user_id
    assert _timeline(desk, ticket_id) == [
        ("ticket_submitted", None, "zhang.wei"),
        ("node_passed", "start", None),
        ("node_passed", "amount_check", None),
        ("task_opened", "branch_review", None),
        ("task_approved", "branch_review", "li.na"),
        ("task_opened", "disburse", None),
        ("task_approved", "disburse", "zhao.lei"),
        ("node_passed", "end_approved", None),
        ("ticket_approved", None, None),
    ]
    assert audit.verify(desk.ctx).ok


def test_fifty_thousand_exactly_is_still_a_small_loan(desk: Desk) -> None:
    ticket_id = desk.submit("50000.00")
    assert [t.node_id for t in desk.view(ticket_id).open_tasks] == ["branch_review"]
    ticket_id = desk.submit("50000.01")
    assert sorted(t.node_id for t in desk.view(ticket_id).open_tasks) == [
        "finance_review",
        "legal_review",
    ]


@pytest.mark.parametrize(
    "first, second",
    [
        (("wang.fang", "legal_review"), ("liu.yang", "finance_review")),
        (("ma.li", "finance_review"), ("wang.fang", "legal_review")),
    ],
    ids=["legal-first", "finance-first"],
)
def test_large_loan_goes_through_parallel_reviews_committee_and_disbursement(
    desk: Desk, first: tuple[str, str], second: tuple[str, str]
) -> None:
    ticket_id = desk.submit("120000.00")
    assert _timeline(desk, ticket_id) == SUBMITTED_LARGE

    after_first = desk.approve(*first[:1], ticket_id, first[1], "ok")
    assert after_first.status == "running"
    assert after_first.opened_task_ids == ()  # the join still waits for the other review
    assert [t.node_id for t in desk.view(ticket_id).open_tasks] == [second[1]]

    after_second = desk.approve(second[0], ticket_id, second[1])
    assert len(after_second.opened_task_ids) == 1
    committee = desk.task(ticket_id, "committee")
    assert committee.id == after_second.opened_task_ids[0]
    assert {p.id for p in committee.assignees} == {
        desk.actors[name].user_id for name in ("chen.jing", "yang.guang", "luo.xin")
    }

    desk.approve("yang.guang", ticket_id, "committee")
    assert desk.approve("qian.yu", ticket_id, "disburse").status == "approved"

    assert _timeline(desk, ticket_id) == [
        *SUBMITTED_LARGE,
        ("task_approved", first[1], first[0]),
        ("task_approved", second[1], second[0]),
        ("node_passed", "join", None),
        ("task_opened", "committee", None),
        ("task_approved", "committee", "yang.guang"),
        ("task_opened", "disburse", None),
        ("task_approved", "disburse", "qian.yu"),
        ("node_passed", "end_approved", None),
        ("ticket_approved", None, None),
    ]
    view = desk.view(ticket_id)
    assert view.status == "approved"
    assert {t.state for t in view.tasks} == {"approved"}
    assert sorted(t.node_id for t in view.tasks) == [
        "committee",
        "disburse",
        "finance_review",
        "legal_review",
    ]
    assert audit.verify(desk.ctx).ok


def test_reject_at_legal_cancels_the_open_finance_review(desk: Desk) -> None:
    ticket_id = desk.submit("200000.00")
    finance = desk.task(ticket_id, "finance_review")

    outcome = desk.reject("wang.fang", ticket_id, "legal_review", "抵押物权属不清")
    assert outcome.status == "rejected"

    view = desk.view(ticket_id, "zhang.wei")
    assert view.status == "rejected"
    assert view.finished_at is not None
    assert view.open_tasks == ()
    states = {t.node_id: t.state for t in view.tasks}  # tasks of one step: any order
    assert states == {"legal_review": "rejected", "finance_review": "cancelled"}
    assert _timeline(desk, ticket_id)[len(SUBMITTED_LARGE) :] == [
        ("task_rejected", "legal_review", "wang.fang"),
        ("task_cancelled", "finance_review", None),
        ("ticket_rejected", None, None),
    ]
    assert view.timeline[len(SUBMITTED_LARGE)].comment == "抵押物权属不清"

    # The finance reviewers' inboxes are empty and the cancelled task cannot be acted on.
    for name in ("liu.yang", "ma.li"):
        assert views.count_my_tasks(desk.ctx, desk.actors[name]) == 0
        assert views.my_tasks(desk.ctx, desk.actors[name]).items == []
    with pytest.raises(Conflict):
        tickets.approve(desk.ctx, actor=desk.actors["liu.yang"], task_id=finance.id)
    assert audit.verify(desk.ctx).ok


def test_values_are_stored_exactly_as_validated(desk: Desk) -> None:
    ticket_id = desk.submit("120000.00")
    expected = loan_values("120000.00")
    assert desk.view(ticket_id).values == expected
    with desk.ctx.db.read() as conn:
        stored = conn.execute(
            select(Ticket.__table__.c["values"]).where(Ticket.__table__.c.id == ticket_id)
        ).scalar_one()
    assert stored == expected
    assert stored["amount"] == "120000.00"  # money is a decimal string, never a float

    # A whole number of yuan is stored with its two decimals.
    other = desk.submit(amount=80000)  # type: ignore[arg-type]
    assert desk.view(other).values["amount"] == "80000.00"


def test_the_subject_is_stored_and_titles_are_composed_in_the_viewers_language(
    desk: Desk,
) -> None:
    ticket_id = desk.submit("120000.00", applicant_name="王五")
    with desk.ctx.db.read() as conn:
        stored = conn.execute(
            select(Ticket.__table__.c.title).where(Ticket.__table__.c.id == ticket_id)
        ).scalar_one()
    assert stored == "王五"  # no app name in any language
    admin, legal = desk.actors["admin"], desk.actors["wang.fang"]
    for locale, title in (
        ("zh", "贷款审批 · 王五"),
        ("zh-CN", "贷款审批 · 王五"),
        ("en", "Loan approval · 王五"),
    ):
        view = views.ticket(desk.ctx, admin, ticket_id, locale=locale)
        assert (view.title, view.subject) == (title, "王五")
        (summary,) = views.tickets(desk.ctx, admin, locale=locale).items
        assert (summary.title, summary.subject) == (title, "王五")
        (task,) = views.my_tasks(desk.ctx, legal, locale=locale).items
        assert (task.ticket_title, task.ticket_subject) == (title, "王五")


def test_a_title_without_a_subject_is_the_app_name() -> None:
    name = {"en": "Loan approval", "zh": "贷款审批"}
    assert views.ticket_title(name, "", "zh") == "贷款审批"
    assert views.ticket_title(name, "", "en") == "Loan approval"
    assert (
        views.ticket_title({"en": "Loan approval", "zh": ""}, "李雷", "zh")
        == "Loan approval · 李雷"
    )


def test_invalid_values_are_refused_and_nothing_is_stored(desk: Desk) -> None:
    with pytest.raises(ValidationFailed) as caught:
        desk.submit(amount=120000.5)  # type: ignore[arg-type]
    assert [(e.path, e.code) for e in caught.value.errors] == [("amount", "float_not_allowed")]
    with pytest.raises(ValidationFailed) as caught:
        desk.submit(amount="1.001", term_months="12")
    assert {(e.path, e.code) for e in caught.value.errors} == {
        ("amount", "too_many_decimals"),
        ("term_months", "invalid_type"),
    }
    with pytest.raises(ValidationFailed) as caught:
        desk.submit(status="approved")
    assert [(e.path, e.code) for e in caught.value.errors] == [("status", "unknown_field")]
    with desk.ctx.db.read() as conn:  # the demo's customers are records, not tickets
        tickets_only = select(Ticket.__table__.c.id).where(Ticket.__table__.c.status != "record")
        assert conn.execute(tickets_only).all() == []


def test_only_an_assignee_may_act_on_a_task(desk: Desk) -> None:
    ticket_id = desk.submit("120000.00")
    legal = desk.task(ticket_id, "legal_review")
    # Those who can see the ticket (requester, other reviewers, admin, auditor): 403.
    for intruder in ("zhang.wei", "liu.yang", "admin", "sun.li"):
        with pytest.raises(Forbidden) as caught:
            tickets.approve(desk.ctx, actor=desk.actors[intruder], task_id=legal.id)
        assert caught.value.status == 403
        with pytest.raises(Forbidden):
            tickets.reject(desk.ctx, actor=desk.actors[intruder], task_id=legal.id)
    # Those who cannot see it get the same answer as for a task that does not exist.
    for outsider in ("xu.ming", "li.na", "wu.min"):
        with pytest.raises(NotFound) as missing:
            tickets.approve(desk.ctx, actor=desk.actors[outsider], task_id=legal.id)
        assert missing.value.code == "task_not_found"
    view = desk.view(ticket_id)
    assert {t.node_id: t.state for t in view.tasks} == {
        "legal_review": "open",
        "finance_review": "open",
    }
    assert _timeline(desk, ticket_id) == SUBMITTED_LARGE


def test_acting_on_a_closed_task_is_a_conflict(desk: Desk) -> None:
    ticket_id = desk.submit("120000.00")
    legal = desk.task(ticket_id, "legal_review")
    desk.approve("wang.fang", ticket_id, "legal_review")
    for action in (tickets.approve, tickets.reject):
        with pytest.raises(Conflict) as caught:
            action(desk.ctx, actor=desk.actors["wang.fang"], task_id=legal.id)
        assert caught.value.status == 409
        assert caught.value.code == "task_not_open"

    # The last task of a finished ticket: still a conflict, still nothing changes.
    small = desk.submit("1000.00")
    desk.approve("li.na", small, "branch_review")
    disburse = desk.task(small, "disburse")
    desk.approve("zhao.lei", small, "disburse")
    events_before = len(desk.view(small).timeline)
    with pytest.raises(Conflict) as caught:
        tickets.approve(desk.ctx, actor=desk.actors["qian.yu"], task_id=disburse.id)
    assert caught.value.status == 409
    assert caught.value.code == "task_not_open"
    assert len(desk.view(small).timeline) == events_before


def test_unknown_task_is_not_found(desk: Desk) -> None:
    with pytest.raises(NotFound) as caught:
        tickets.approve(desk.ctx, actor=desk.actors["wang.fang"], task_id="0" * 32)
    assert caught.value.code == "task_not_found"


def test_overlong_comment_is_refused(desk: Desk) -> None:
    ticket_id = desk.submit("1000.00")
    with pytest.raises(ValidationFailed) as caught:
        desk.approve("li.na", ticket_id, "branch_review", "x" * 2001)
    assert [(e.path, e.code) for e in caught.value.errors] == [("comment", "too_long")]
    with pytest.raises(ValidationFailed) as caught:
        desk.approve("li.na", ticket_id, "branch_review", "nul\x00byte")
    assert [(e.path, e.code) for e in caught.value.errors] == [("comment", "invalid_characters")]
    assert desk.task(ticket_id, "branch_review").state == "open"


def test_comment_errors_are_in_the_callers_language(desk: Desk) -> None:
    ticket_id = desk.submit("1000.00")
    task = desk.task(ticket_id, "branch_review")
    for locale, summary, too_long in (
        ("zh", "审批意见填写有误", "审批意见过长（最多 2000 个字符）"),
        ("en", "The comment is not valid", "The comment is too long (at most 2000 characters)"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            tickets.approve(
                desk.ctx,
                actor=desk.actors["li.na"],
                task_id=task.id,
                comment="x" * 2001,
                locale=locale,
            )
        assert caught.value.message == summary
        assert [e.message for e in caught.value.errors] == [too_long]
    # Line ends count once: 1,000 lines of "x" sent by a browser (CR LF) fit in 2,000.
    tickets.approve(desk.ctx, actor=desk.actors["li.na"], task_id=task.id, comment="x\r\n" * 1000)
    assert desk.view(ticket_id).tasks[0].comment == ("x\n" * 1000).strip()


def test_tickets_are_visible_only_to_requester_participants_admins_and_auditors(
    desk: Desk,
) -> None:
    ticket_id = desk.submit("120000.00")
    for reader in ("zhang.wei", "wang.fang", "ma.li", "admin", "sun.li"):
        assert desk.view(ticket_id, reader).id == ticket_id
    for outsider in ("wu.min", "chen.jing", "li.na"):
        with pytest.raises(NotFound):
            desk.view(ticket_id, outsider)
    with pytest.raises(NotFound):
        desk.view("f" * 32, "admin")
    # The committee sees it once it is their turn.
    desk.approve("wang.fang", ticket_id, "legal_review")
    desk.approve("ma.li", ticket_id, "finance_review")
    assert desk.view(ticket_id, "chen.jing").id == ticket_id


def test_approvers_decide_on_the_values_as_filed(desk: Desk) -> None:
    """No field of the loan is editable at a review: values sent with a decision are
    refused and nothing changes (tests/services/test_approver_edits.py has the rest)."""
    ticket_id = desk.submit("120000.00")
    task = desk.task(ticket_id, "finance_review")
    with pytest.raises(ValidationFailed) as refused:
        tickets.approve(
            desk.ctx,
            actor=desk.actors["liu.yang"],
            task_id=task.id,
            values={"amount": "110000.00", "term_months": 36},
        )
    assert [(e.path, e.code) for e in refused.value.errors] == [
        ("amount", "field_not_editable"),
        ("term_months", "field_not_editable"),
    ]
    view = desk.view(ticket_id)
    assert view.values["amount"] == "120000.00"
    assert desk.task(ticket_id, "finance_review").id == task.id
    assert not [e for e in view.timeline if e.kind == "values_changed"]


def test_timeline_entries_name_the_task_they_are_about(desk: Desk) -> None:
    ticket_id = desk.submit("120000.00")
    desk.reject("wang.fang", ticket_id, "legal_review", "材料不全")
    view = desk.view(ticket_id)
    task_ids = {t.node_id: t.id for t in view.tasks}
    about = [(e.kind, e.node_id, e.task_id) for e in view.timeline if e.task_id is not None]
    assert about == [
        ("task_opened", "legal_review", task_ids["legal_review"]),
        ("task_opened", "finance_review", task_ids["finance_review"]),
        ("task_rejected", "legal_review", task_ids["legal_review"]),
        ("task_cancelled", "finance_review", task_ids["finance_review"]),
    ]
    # Ticket-level entries and passed nodes are about no task.
    assert {e.kind for e in view.timeline if e.task_id is None} == {
        "ticket_submitted",
        "node_passed",
        "ticket_rejected",
    }


def test_every_state_change_commits_its_rows_together(desk: Desk) -> None:
    """Tasks, events and the ticket version agree after every step of a flow."""
    ticket_id = desk.submit("120000.00")
    for who, node in (
        ("wang.fang", "legal_review"),
        ("liu.yang", "finance_review"),
        ("luo.xin", "committee"),
        ("zhao.lei", "disburse"),
    ):
        desk.approve(who, ticket_id, node)
    tasks_t, tickets_t = Task.__table__, Ticket.__table__
    with desk.ctx.db.read() as conn:
        version = conn.execute(
            select(tickets_t.c.version).where(tickets_t.c.id == ticket_id)
        ).scalar_one()
        timeline = tickets_store.timeline(conn, ticket_id)
        opened = [e.task_id for e in timeline if e.kind == "task_opened"]
        task_ids = conn.execute(
            select(tasks_t.c.id).where(tasks_t.c.ticket_id == ticket_id)
        ).scalars()
        assert sorted(opened) == sorted(task_ids)
    assert version == 5  # submitted, then four completed steps
