"""When the ticket page offers 催办, and when the button waits (pure, no server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flowdesk.engines.access import Actor
from flowdesk.services.views import Person, TaskView, TicketView, TimelineEntry
from flowdesk.web.urge_button import urge_button

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
HOURS_4 = timedelta(hours=4)
REQUESTER = Actor("u-req", "zhang.wei", "张伟")
HOLDER = Actor("u-hold", "wang.fang", "王芳")
ADMIN = Actor("u-admin", "admin", "管理员", is_admin=True)


def _task(holder: str, state: str = "open") -> TaskView:
    person = Person(holder, holder)
    return TaskView("t1", "k1", "legal", {"en": "Legal"}, state, (person,), NOW, None, None, None)


def _view(
    *tasks: TaskView, status: str = "running", urged_at: datetime | None = None
) -> TicketView:
    timeline = ()
    if urged_at is not None:
        timeline = (
            TimelineEntry(
                urged_at, "ticket_urged", None, None, None, Person("u-req", "张伟"), None, None
            ),
        )
    return TicketView(
        id="k1",
        serial="LN-2026-000001",
        app_key="loan",
        app_name={"en": "Loan"},
        app_version=1,
        title="Loan",
        subject="",
        status=status,
        values={},
        requester=Person("u-req", "张伟"),
        created_at=NOW,
        updated_at=NOW,
        finished_at=None,
        tasks=tasks,
        timeline=timeline,
        form=None,
    )


def test_the_requester_and_administrators_see_it_on_a_running_ticket() -> None:
    view = _view(_task("u-hold"))
    assert urge_button(view, REQUESTER, NOW, HOURS_4).enabled
    assert urge_button(view, ADMIN, NOW, HOURS_4).enabled
    assert not urge_button(view, HOLDER, NOW, HOURS_4).shown


def test_not_on_a_finished_ticket_nor_when_only_the_viewer_holds_the_task() -> None:
    assert not urge_button(_view(status="approved"), REQUESTER, NOW, HOURS_4).shown
    assert not urge_button(_view(_task("u-hold", "approved")), REQUESTER, NOW, HOURS_4).shown
    assert not urge_button(_view(_task("u-req")), REQUESTER, NOW, HOURS_4).shown


def test_it_waits_until_the_interval_after_the_last_urge() -> None:
    urged = _view(_task("u-hold"), urged_at=NOW - timedelta(hours=1))
    waiting = urge_button(urged, REQUESTER, NOW, HOURS_4)
    assert waiting.shown and not waiting.enabled
    assert waiting.available_at == NOW + timedelta(hours=3)
    later = urge_button(urged, REQUESTER, NOW + timedelta(hours=3), HOURS_4)
    assert later.enabled and later.available_at is None
