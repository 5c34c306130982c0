"""Messages through the services, on SQLite and PostgreSQL (ADR 0023): a message resumes
the ticket waiting for its name and key; the same message sent twice at once is applied
once (the second answer says duplicate); another message for a wait already served is
409, one for no wait 404."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from loan_desk import Desk, loan_values

from approval_apps import line_app, yaml_of
from flowdesk.kernel.errors import FlowdeskError
from flowdesk.services import apps, messages, org, tickets
from flowdesk.services.auth import actor_from_row
from flowdesk.services.context import ServiceContext
from flowdesk.services.demo import DEMO_PASSWORD
from flowdesk.store import org as org_store


def _app() -> str:
    definition = line_app("paywait", (), name={"en": "Pay", "zh": "付款"}, serial_prefix="PAYW")
    definition["process"] = {
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "paid",
                "type": "message_catch",
                "message": {"name": "payment_received", "key": "applicant_name"},
            },
            {"id": "check", "type": "user_task", "assignee": {"kind": "user", "user": "xu.ming"}},
            {"id": "end", "type": "end"},
        ],
        "flows": [
            {"from": "start", "to": "paid"},
            {"from": "paid", "to": "check"},
            {"from": "check", "to": "end"},
        ],
    }
    return yaml_of(definition)


@pytest.fixture
def sender(demo_ctx: ServiceContext) -> Any:
    apps.publish_yaml(demo_ctx, _app())
    org.ensure_role(demo_ctx, key="message_sender", name_en="Message sender", name_zh="消息发送方")
    org.create_user(
        demo_ctx,
        username="erp.bot",
        display_name="ERP",
        password=DEMO_PASSWORD,
        department_code="finance",
        roles=("message_sender",),
    )
    with demo_ctx.db.read() as conn:
        return actor_from_row(conn, org_store.user_by_username(conn, "erp.bot"))


def _submit(demo_ctx: ServiceContext, actors: dict[str, Any], key: str) -> str:
    return tickets.submit(
        demo_ctx,
        actor=actors["zhang.wei"],
        app_key="paywait",
        values=loan_values(applicant_name=key),
    ).ticket_id


def test_the_same_message_sent_twice_at_once_is_applied_once(
    demo_ctx: ServiceContext, actors: dict[str, Any], sender: Any
) -> None:
    ticket_id = _submit(demo_ctx, actors, "PO-1")
    barrier = threading.Barrier(2)
    answers: list[Any] = []

    def send() -> None:
        barrier.wait()
        try:
            answers.append(
                messages.receive(
                    demo_ctx, actor=sender, name="payment_received", key="PO-1", message_id="m-1"
                )
            )
        except FlowdeskError as exc:  # pragma: no cover - the assertion below says why
            answers.append(exc)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(a.duplicate for a in answers) == [False, True]
    assert {a.ticket_id for a in answers} == {ticket_id}
    view = Desk(demo_ctx, actors).view(ticket_id)
    assert [t.node_id for t in view.open_tasks] == ["check"]
    assert [e.kind for e in view.timeline].count("message_received") == 1


def test_a_message_finds_its_ticket_among_several_waiting(
    demo_ctx: ServiceContext, actors: dict[str, Any], sender: Any
) -> None:
    first = _submit(demo_ctx, actors, "PO-1")
    second = _submit(demo_ctx, actors, "PO-2")
    got = messages.receive(
        demo_ctx, actor=sender, name="payment_received", key="PO-2", message_id="m-2"
    )
    assert got.ticket_id == second and not got.duplicate
    desk = Desk(demo_ctx, actors)
    assert desk.view(first).open_tasks == ()
    with pytest.raises(FlowdeskError) as again:
        messages.receive(
            demo_ctx, actor=sender, name="payment_received", key="PO-2", message_id="m-3"
        )
    assert (again.value.status, again.value.code) == (409, "message_already_received")
    with pytest.raises(FlowdeskError) as nobody:
        messages.receive(
            demo_ctx, actor=sender, name="payment_received", key="PO-9", message_id="m-4"
        )
    assert (nobody.value.status, nobody.value.code) == (404, "no_waiting_ticket")


def test_a_withdrawn_tickets_wait_no_longer_takes_messages(
    demo_ctx: ServiceContext, actors: dict[str, Any], sender: Any
) -> None:
    from flowdesk.services import withdrawals

    ticket_id = _submit(demo_ctx, actors, "PO-5")
    withdrawals.cancel_ticket(demo_ctx, actor=actors["zhang.wei"], ticket_id=ticket_id)
    with pytest.raises(FlowdeskError) as caught:
        messages.receive(
            demo_ctx, actor=sender, name="payment_received", key="PO-5", message_id="m-5"
        )
    assert caught.value.status == 404
