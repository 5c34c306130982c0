"""The ticket diagram with CC nodes (抄送): a CC node the ticket went through is passed,
whether it copied anyone or had no one and was skipped; a copied person sees it too."""

from __future__ import annotations

from loan_desk import Desk

from cc_apps import EMPTY_ROLE, memo_values, publish_cc_app
from flowdesk.services import tickets
from flowdesk.services.ticket_diagram import ticket_diagram


def test_cc_nodes_show_as_passed(desk: Desk) -> None:
    publish_cc_app(desk.ctx, mid_rule={"kind": "role", "role": EMPTY_ROLE})
    ticket_id = tickets.submit(
        desk.ctx, actor=desk.actors["zhang.wei"], app_key="memo", values=memo_values()
    ).ticket_id
    found = ticket_diagram(desk.ctx, desk.actors["luo.xin"], ticket_id)  # a copied reader
    assert found.current == ("review",)
    assert found.passed == ("start", "copy_start")
    assert 'id="copy_start"' in found.bpmn and "sendTask" in found.bpmn
    desk.approve("wang.fang", ticket_id, "review")
    found = ticket_diagram(desk.ctx, desk.actors["zhang.wei"], ticket_id)
    assert found.current == ("final",)
    assert found.passed == ("start", "copy_start", "review", "copy_mid")  # skipped: passed
