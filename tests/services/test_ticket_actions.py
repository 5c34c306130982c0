"""催办 (urge) and comments without deciding (ADR 0017), on SQLite and PostgreSQL.

A note never touches the ticket's version, so an approval racing it always succeeds;
the urge window is claimed atomically; a note that fails leaves nothing behind.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from loan_desk import Desk
from sqlalchemy import func, select

from flowdesk.kernel.clock import FrozenClock
from flowdesk.kernel.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from flowdesk.services import audit, jobs, ticket_actions, tickets
from flowdesk.services.ticket_actions import UrgedTooSoon
from flowdesk.store import audit as audit_store
from flowdesk.store import jobs as jobs_store
from flowdesk.store.tables import AuditLog, Job, Notification, TicketNote, TicketUrgeMark

HOLDERS = ("wang.fang", "liu.yang", "ma.li")  # legal and finance review of a large loan


@pytest.fixture
def clock(desk: Desk) -> FrozenClock:
    frozen = FrozenClock()
    desk.ctx.clock = frozen
    return frozen


def _urge(desk: Desk, who: str, ticket_id: str, locale: str = "en") -> ticket_actions.Urged:
    return ticket_actions.urge(desk.ctx, actor=desk.actors[who], ticket_id=ticket_id, locale=locale)


def _comment(desk: Desk, who: str, ticket_id: str, text: str) -> ticket_actions.Commented:
    return ticket_actions.add_comment(
        desk.ctx, actor=desk.actors[who], ticket_id=ticket_id, comment=text
    )


def _notices(desk: Desk, kind: str) -> list[tuple[str, str | None]]:
    """(username, task id) of every delivered notification of `kind`, sorted."""
    names = {actor.user_id: name for name, actor in desk.actors.items()}
    table = Notification.__table__
    with desk.ctx.db.read() as conn:
        rows = conn.execute(select(table.c.user_id, table.c.data).where(table.c.kind == kind))
        return sorted((names[user], data.get("task_id")) for user, data in rows)


def _deliver(desk: Desk) -> None:
    jobs.run_due(desk.ctx, owner="worker")


def _counts(desk: Desk) -> dict[str, int]:
    with desk.ctx.db.read() as conn:
        return {
            t.__tablename__: conn.execute(
                select(func.count()).select_from(t.__table__)
            ).scalar_one()
            for t in (TicketNote, TicketUrgeMark, Job, AuditLog, Notification)
        }


def _names(desk: Desk, user_ids: tuple[str, ...]) -> list[str]:
    names = {actor.user_id: name for name, actor in desk.actors.items()}
    return [names[u] for u in user_ids]


def test_the_requester_urges_every_pending_holder_and_the_timeline_says_whom(
    desk: Desk, clock: FrozenClock
) -> None:
    ticket_id = desk.submit("120000.00")
    _deliver(desk)
    urged = _urge(desk, "zhang.wei", ticket_id)
    assert sorted(_names(desk, urged.user_ids)) == sorted(HOLDERS)
    assert urged.next_urge_at == clock.now() + timedelta(hours=4)
    _deliver(desk)
    names = {actor.user_id: name for name, actor in desk.actors.items()}
    expected = [(names[p.id], t.id) for t in desk.view(ticket_id).open_tasks for p in t.assignees]
    assert _notices(desk, "ticket_urged") == sorted(expected)
    entry = desk.view(ticket_id, "zhang.wei").timeline[-1]
    assert entry.kind == "ticket_urged"
    assert entry.actor is not None and entry.actor.id == desk.actors["zhang.wei"].user_id
    assert entry.by_person
    assert entry.data is not None
    assert sorted(_names(desk, tuple(entry.data["users"]))) == sorted(HOLDERS)
    with desk.ctx.db.read() as conn:
        last = list(audit_store.entries(conn))[-1]
    assert (last.action, last.actor, last.target_id) == ("ticket.urge", "zhang.wei", ticket_id)
    assert audit.verify(desk.ctx).ok


def test_only_pending_holders_are_urged(desk: Desk, clock: FrozenClock) -> None:
    ticket_id = desk.submit("120000.00")
    desk.approve("wang.fang", ticket_id, "legal_review")
    urged = _urge(desk, "zhang.wei", ticket_id)
    assert sorted(_names(desk, urged.user_ids)) == ["liu.yang", "ma.li"]  # finance review
    _deliver(desk)
    assert [who for who, _ in _notices(desk, "ticket_urged")] == ["liu.yang", "ma.li"]


def test_urging_again_is_refused_until_the_interval_has_passed(
    desk: Desk, clock: FrozenClock
) -> None:
    ticket_id = desk.submit("120000.00")
    _urge(desk, "zhang.wei", ticket_id)
    clock.advance(timedelta(hours=3, minutes=40))
    with pytest.raises(UrgedTooSoon) as refused:
        _urge(desk, "admin", ticket_id)  # the window is the ticket's, whoever urges
    assert refused.value.status == 429
    assert refused.value.code == "urged_too_soon"
    assert refused.value.retry_after_seconds == 20 * 60
    assert "2026-01-05 05:30 UTC" in refused.value.message
    assert "in 20 min" in refused.value.message
    with pytest.raises(UrgedTooSoon) as in_chinese:
        _urge(desk, "zhang.wei", ticket_id, locale="zh-CN")
    assert "可再次催办" in in_chinese.value.message
    clock.advance(timedelta(minutes=20))
    _urge(desk, "zhang.wei", ticket_id)
    _deliver(desk)
    # Two urges, two notifications each: the second is not mistaken for a re-run job.
    assert len(_notices(desk, "ticket_urged")) == 2 * len(HOLDERS)


def test_the_interval_is_a_setting(desk: Desk, clock: FrozenClock) -> None:
    desk.ctx.urge_interval = timedelta(minutes=30)
    ticket_id = desk.submit("120000.00")
    _urge(desk, "zhang.wei", ticket_id)
    clock.advance(timedelta(minutes=30))
    _urge(desk, "zhang.wei", ticket_id)


def test_urge_refusals(desk: Desk, clock: FrozenClock) -> None:
    ticket_id = desk.submit("30000.00")
    with pytest.raises(Forbidden) as holder:
        _urge(desk, "li.na", ticket_id)  # may read it (holds its task), may not urge
    assert holder.value.code == "urge_not_allowed"
    with pytest.raises(Forbidden):
        _urge(desk, "sun.li", ticket_id)  # an auditor reads every ticket, urges none
    with pytest.raises(NotFound):
        _urge(desk, "wu.min", ticket_id)  # cannot see it: it looks missing
    with pytest.raises(NotFound):
        _urge(desk, "admin", "f" * 32)
    desk.reject("li.na", ticket_id, "branch_review", "no")
    with pytest.raises(Conflict) as finished:
        _urge(desk, "zhang.wei", ticket_id)
    assert finished.value.code == "ticket_not_running"
    assert _counts(desk)["ticket_notes"] == 0
    assert _counts(desk)["ticket_urge_marks"] == 0


def test_an_administrator_may_urge(desk: Desk, clock: FrozenClock) -> None:
    ticket_id = desk.submit("30000.00")
    assert _names(desk, _urge(desk, "admin", ticket_id).user_ids) == ["li.na"]


class _Racers:
    def __init__(self, n: int) -> None:
        self._barrier = threading.Barrier(n)

    def race(self, calls: list[Callable[[], Any]]) -> list[Any]:
        results: list[Any] = [None] * len(calls)

        def run(index: int) -> None:
            self._barrier.wait()
            try:
                results[index] = calls[index]()
            except Exception as exc:
                results[index] = exc

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        return results


def test_simultaneous_urges_notify_once_and_refuse_the_rest(desk: Desk, clock: FrozenClock) -> None:
    ticket_ids = [desk.submit("120000.00") for _ in range(5)]
    _deliver(desk)
    for ticket_id in ticket_ids:
        results = _Racers(4).race(
            [lambda t=ticket_id, w=who: _urge(desk, w, t) for who in ("zhang.wei", "admin") * 2]
        )
        won = [r for r in results if isinstance(r, ticket_actions.Urged)]
        refused = [r for r in results if isinstance(r, UrgedTooSoon)]
        assert (len(won), len(refused)) == (1, 3), results
        assert all(r.retry_after_seconds == 4 * 3600 for r in refused)
    _deliver(desk)
    assert len(_notices(desk, "ticket_urged")) == 5 * len(HOLDERS)
    assert _counts(desk)["ticket_notes"] == 5
    assert audit.verify(desk.ctx).ok


def test_a_comment_racing_an_approval_never_fails_it(
    desk: Desk, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not even a retry: the approval's one attempt wins its version check, because a note
    never changes the ticket's version (ADR 0017)."""
    attempts = [0]
    complete_once = tickets._complete_once

    def counted(*args: Any, **kwargs: Any) -> tickets.StepOutcome:
        attempts[0] += 1
        return complete_once(*args, **kwargs)

    monkeypatch.setattr(tickets, "_complete_once", counted)
    rounds = 20
    for _ in range(rounds):
        ticket_id = desk.submit("120000.00")
        legal = desk.task(ticket_id, "legal_review")
        results = _Racers(4).race(
            [
                lambda t=legal.id: tickets.approve(
                    desk.ctx, actor=desk.actors["wang.fang"], task_id=t
                ),
                lambda t=ticket_id: _comment(desk, "ma.li", t, "请补充材料"),
                lambda t=ticket_id: _comment(desk, "zhang.wei", t, "已补充"),
                lambda t=ticket_id: _urge(desk, "zhang.wei", t),
            ]
        )
        assert isinstance(results[0], tickets.StepOutcome), results
        assert all(isinstance(r, ticket_actions.Commented) for r in results[1:3]), results
        assert isinstance(results[3], ticket_actions.Urged), results
        kinds = [e.kind for e in desk.view(ticket_id).timeline]
        assert kinds.count("comment_added") == 2 and kinds.count("task_approved") == 1
    assert attempts[0] == rounds  # one attempt per approval: no retry, no 409
    assert audit.verify(desk.ctx).ok


def test_a_comment_is_a_timeline_entry_and_notifies_requester_and_holders(
    desk: Desk, clock: FrozenClock
) -> None:
    ticket_id = desk.submit("120000.00")
    _deliver(desk)
    clock.advance(timedelta(minutes=1))
    done = _comment(desk, "ma.li", ticket_id, "  请补充\r\n流水  ")
    assert done.comment == "请补充\n流水"
    _deliver(desk)
    notified = [who for who, _ in _notices(desk, "ticket_commented")]
    assert notified == ["liu.yang", "wang.fang", "zhang.wei"]  # never the author
    entry = desk.view(ticket_id).timeline[-1]
    assert (entry.kind, entry.comment, entry.at) == ("comment_added", "请补充\n流水", clock.now())
    assert entry.actor is not None and entry.actor.name
    with desk.ctx.db.read() as conn:
        last = list(audit_store.entries(conn))[-1]
    assert (last.action, last.actor, last.details["comment"]) == (
        "ticket.comment",
        "ma.li",
        "请补充\n流水",
    )


def test_readers_comment_even_on_a_finished_ticket_outsiders_cannot(
    desk: Desk, clock: FrozenClock
) -> None:
    ticket_id = desk.submit("30000.00")
    desk.reject("li.na", ticket_id, "branch_review", "no")
    for reader in ("zhang.wei", "li.na", "sun.li", "admin"):
        _comment(desk, reader, ticket_id, f"note by {reader}")
    with pytest.raises(NotFound):
        _comment(desk, "wu.min", ticket_id, "hello")
    kinds = [e.kind for e in desk.view(ticket_id).timeline]
    assert kinds[-4:] == ["comment_added"] * 4
    assert kinds.index("ticket_rejected") < kinds.index("comment_added")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "required"),
        ("  \n ", "required"),
        ("\u200b\u2060\ufeff", "required"),  # invisible only
        ("a\x00b", "invalid_characters"),
        ("evil \u202e txt", "invalid_characters"),
        ("x" * 2001, "too_long"),
    ],
)
def test_bad_comments_are_refused_and_nothing_is_stored(
    desk: Desk, clock: FrozenClock, text: str, code: str
) -> None:
    ticket_id = desk.submit("30000.00")
    before = _counts(desk)
    with pytest.raises(ValidationFailed) as refused:
        _comment(desk, "zhang.wei", ticket_id, text)
    assert [(e.path, e.code) for e in refused.value.errors] == [("comment", code)]
    assert _counts(desk) == before


def test_the_longest_comment_is_kept_whole(desk: Desk, clock: FrozenClock) -> None:
    ticket_id = desk.submit("30000.00")
    assert _comment(desk, "zhang.wei", ticket_id, "评" * 2000).comment == "评" * 2000


class _Fault(RuntimeError):
    pass


@pytest.mark.parametrize("failing", ["enqueue", "append"])
def test_a_failing_job_or_audit_write_leaves_no_half_note(
    desk: Desk, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    ticket_id = desk.submit("120000.00")
    _deliver(desk)
    before = _counts(desk)
    module: Any = jobs_store if failing == "enqueue" else audit_store

    original = getattr(module, failing)

    def broken(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        raise _Fault(failing)

    monkeypatch.setattr(module, failing, broken)
    with pytest.raises(_Fault):
        _urge(desk, "zhang.wei", ticket_id)
    with pytest.raises(_Fault):
        _comment(desk, "zhang.wei", ticket_id, "hello")
    monkeypatch.undo()
    _deliver(desk)
    assert _counts(desk) == before  # no note, no urge window, no job, no audit, no notice
    # The rolled-back urge took its window claim back: urging works at once.
    _urge(desk, "zhang.wei", ticket_id)
    assert audit.verify(desk.ctx).ok


def test_notes_are_merged_into_the_steps_timeline_by_time(desk: Desk, clock: FrozenClock) -> None:
    ticket_id = desk.submit("120000.00")
    clock.advance(timedelta(minutes=1))
    _comment(desk, "zhang.wei", ticket_id, "first")
    clock.advance(timedelta(minutes=1))
    desk.approve("wang.fang", ticket_id, "legal_review")
    clock.advance(timedelta(minutes=1))
    _comment(desk, "ma.li", ticket_id, "second")
    kinds = [e.kind for e in desk.view(ticket_id).timeline if e.by_person]
    assert kinds == ["ticket_submitted", "comment_added", "task_approved", "comment_added"]
    comments = [e.comment for e in desk.view(ticket_id).timeline if e.kind == "comment_added"]
    assert comments == ["first", "second"]


@pytest.mark.parametrize("how", ["add_sign_before", "delegate"])
def test_edge_36_a_waiting_task_is_not_urged_its_pending_children_are(
    desk: Desk, clock: FrozenClock, how: str
) -> None:
    """APPROVALS.md edge case 36: li.na's branch review waits behind huang.lei (前加签, or
    委派): the urge reaches huang.lei only, the event says so, and the window holds."""
    from flowdesk.services import add_signs, delegate_task

    ticket_id = desk.submit("30000.00")
    task = desk.task(ticket_id, "branch_review")
    if how == "delegate":
        opened = delegate_task.delegate(
            desk.ctx, actor=desk.actors["li.na"], task_id=task.id, to="huang.lei"
        )
    else:
        opened = add_signs.add_signers(
            desk.ctx,
            actor=desk.actors["li.na"],
            task_id=task.id,
            users=["huang.lei"],
            position="before",
        )
    [child] = opened.opened_task_ids
    urged = _urge(desk, "zhang.wei", ticket_id)
    assert _names(desk, urged.user_ids) == ["huang.lei"] and urged.task_ids == (child,)
    _deliver(desk)
    assert _notices(desk, "ticket_urged") == [("huang.lei", child)]
    entry = desk.view(ticket_id, "zhang.wei").timeline[-1]
    assert entry.kind == "ticket_urged" and entry.data is not None
    assert _names(desk, tuple(entry.data["users"])) == ["huang.lei"]
    with pytest.raises(UrgedTooSoon):
        _urge(desk, "zhang.wei", ticket_id)
