"""Call activities through the services, on SQLite and PostgreSQL (ADR 0033): the parent
files a child ticket of another app for its applicant, waits, and goes on with the
child's values when it is approved; a rejected child ends the parent rejected; a
cancelled parent cancels its running child; the inputs are checked by the child's form
at the parent's step."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import yaml
from loan_desk import Desk, loan_values

from approval_apps import yaml_of
from call_apps import INPUTS, child_app, parent_app
from flowdesk.kernel.errors import FlowdeskError
from flowdesk.services import apps, calls, revocations, tickets, withdrawals
from flowdesk.services.context import ServiceContext
from flowdesk.store import calls as calls_store


@pytest.fixture
def desk(demo_ctx: ServiceContext, actors: dict[str, Any]) -> Desk:
    apps.publish_yaml(demo_ctx, child_app())
    apps.publish_yaml(demo_ctx, parent_app())
    return Desk(demo_ctx, actors)


def _file(demo_ctx: ServiceContext, actors: dict[str, Any]) -> tuple[str, str]:
    parent = tickets.submit(
        demo_ctx, actor=actors["zhang.wei"], app_key="credit_order", values=loan_values()
    ).ticket_id
    stats = calls.run_due(demo_ctx)
    assert stats.started == 1
    with demo_ctx.db.read() as conn:
        (link,) = calls_store.children(conn, parent)
    return parent, link.child_ticket_id


def test_an_approved_child_resumes_its_parent_with_the_outputs(
    demo_ctx: ServiceContext, actors: dict[str, Any], desk: Desk
) -> None:
    parent, child = _file(demo_ctx, actors)
    child_view = desk.view(child)
    assert child_view.app_key == "credit_check"
    assert child_view.requester.id == actors["zhang.wei"].user_id  # the parent's applicant
    assert child_view.values["purpose"] == "Checked by the credit desk"
    assert child_view.parent is not None and child_view.parent.ticket_id == parent
    assert [c.ticket_id for c in desk.view(parent).children] == [child]
    assert desk.view(parent).children[0].serial.startswith("CHK-")
    assert desk.view(parent).status == "running" and desk.view(parent).open_tasks == ()
    desk.approve("xu.ming", child, "check")
    assert calls.run_due(demo_ctx).resumed == 1
    view = desk.view(parent)
    assert [t.node_id for t in view.open_tasks] == ["sign"]
    assert view.values["purpose"] == "Checked by the credit desk"  # mapped back
    assert "child_ended" in [e.kind for e in view.timeline]
    assert calls.run_due(demo_ctx).worked == 0  # nothing twice


def test_a_rejected_child_ends_its_parent_rejected(
    demo_ctx: ServiceContext, actors: dict[str, Any], desk: Desk
) -> None:
    parent, child = _file(demo_ctx, actors)
    desk.reject("xu.ming", child, "check")
    calls.run_due(demo_ctx)
    assert desk.view(parent).status == "rejected"


def test_cancelling_the_parent_cancels_its_running_child(
    demo_ctx: ServiceContext, actors: dict[str, Any], desk: Desk
) -> None:
    parent, child = _file(demo_ctx, actors)
    withdrawals.cancel_ticket(demo_ctx, actor=actors["zhang.wei"], ticket_id=parent)
    assert desk.view(child).status == "running"
    assert calls.run_due(demo_ctx).cancelled == 1
    assert desk.view(child).status == "cancelled"
    assert desk.view(child).open_tasks == ()
    assert calls.run_due(demo_ctx).worked == 0


def test_a_child_ending_after_its_parent_was_cancelled_changes_nothing(
    demo_ctx: ServiceContext, actors: dict[str, Any], desk: Desk
) -> None:
    parent, child = _file(demo_ctx, actors)
    withdrawals.cancel_ticket(demo_ctx, actor=actors["zhang.wei"], ticket_id=parent)
    desk.approve("xu.ming", child, "check")  # the child won before the worker cancelled it
    stats = calls.run_until_idle(demo_ctx)
    assert (stats.resumed, stats.cancelled) == (0, 0)
    assert (desk.view(parent).status, desk.view(child).status) == ("cancelled", "approved")


def test_inputs_the_child_form_refuses_fail_the_parent_step(
    demo_ctx: ServiceContext, actors: dict[str, Any]
) -> None:
    apps.publish_yaml(demo_ctx, child_app())
    apps.publish_yaml(demo_ctx, parent_app({"applicant_name": "applicant_name"}))
    with pytest.raises(FlowdeskError) as refused:
        tickets.submit(
            demo_ctx, actor=actors["zhang.wei"], app_key="credit_order", values=loan_values()
        )
    assert (refused.value.status, refused.value.code) == (422, "call_inputs_invalid")
    assert calls.run_due(demo_ctx).worked == 0  # no half-made child


def _codes(exc: FlowdeskError) -> set[tuple[str, str]]:
    return {(e.path, e.code) for e in exc.errors}


def test_publishing_refuses_an_unknown_app_and_bad_mappings(demo_ctx: ServiceContext) -> None:
    with pytest.raises(FlowdeskError) as unknown:
        apps.publish_yaml(demo_ctx, parent_app())
    assert ("process.nodes[1].call.app", "unknown_app") in _codes(unknown.value)
    apps.publish_yaml(demo_ctx, child_app())
    with pytest.raises(FlowdeskError) as bad:
        apps.publish_yaml(
            demo_ctx,
            parent_app(
                {"no_such": "amount", "region": "no_field", "term_months": "applicant_name"}
            ),
        )
    assert _codes(bad.value) >= {
        ("process.nodes[1].call.inputs.no_such", "unknown_field"),
        ("process.nodes[1].call.inputs.region", "unknown_field"),
        ("process.nodes[1].call.inputs.term_months", "incompatible_field"),
    }


def test_publishing_refuses_a_call_cycle(demo_ctx: ServiceContext) -> None:
    apps.publish_yaml(demo_ctx, child_app())
    apps.publish_yaml(demo_ctx, parent_app())  # credit_order calls credit_check
    looped = yaml_of(
        {
            **yaml.safe_load(parent_app()),
            "key": "credit_check",
            "serial_prefix": "CHK",
            "process": {
                **yaml.safe_load(parent_app())["process"],
                "nodes": [
                    {"id": "start", "type": "start"},
                    {
                        "id": "call",
                        "type": "call_activity",
                        "call": {"app": "credit_order", "inputs": INPUTS},
                    },
                    {
                        "id": "sign",
                        "type": "user_task",
                        "assignee": {"kind": "user", "user": "xu.ming"},
                    },
                    {"id": "end", "type": "end"},
                ],
            },
        }
    )
    with pytest.raises(FlowdeskError) as cycle:
        apps.publish_yaml(demo_ctx, looped)
    assert ("process.nodes[1].call.app", "call_cycle") in _codes(cycle.value)


@pytest.mark.parametrize("round_", range(3))
def test_a_child_ending_while_its_parent_is_cancelled_has_one_outcome(
    demo_ctx: ServiceContext, actors: dict[str, Any], desk: Desk, round_: int
) -> None:
    parent, child = _file(demo_ctx, actors)
    desk.approve("xu.ming", child, "check")
    with demo_ctx.db.read() as conn:
        (link,) = calls_store.children(conn, parent)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def resume() -> None:
        barrier.wait()
        try:
            calls.resume_parent(demo_ctx, link.wait_id)
        except BaseException as exc:  # pragma: no cover - the assertion below says why
            errors.append(exc)

    def cancel() -> None:
        barrier.wait()
        try:
            withdrawals.cancel_ticket(demo_ctx, actor=actors["zhang.wei"], ticket_id=parent)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=resume), threading.Thread(target=cancel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    calls.run_until_idle(demo_ctx)
    view = desk.view(parent)
    assert view.status == "cancelled" and view.open_tasks == ()
    assert desk.view(child).status == "approved"
    kinds = [e.kind for e in view.timeline]
    assert kinds.count("child_ended") <= 1 and kinds.count("ticket_cancelled") == 1
    assert calls.run_due(demo_ctx).worked == 0  # nothing left pending, no orphan


def test_withdrawing_the_parent_cancels_its_running_child(
    demo_ctx: ServiceContext, actors: dict[str, Any], desk: Desk
) -> None:
    parent, child = _file(demo_ctx, actors)
    withdrawals.withdraw_ticket(demo_ctx, actor=actors["zhang.wei"], ticket_id=parent)
    assert desk.view(parent).status == "running"  # back with its applicant (撤回)
    assert calls.run_due(demo_ctx).cancelled == 1
    assert desk.view(child).status == "cancelled"


def test_cancelling_a_grandparent_cancels_the_whole_tree(
    demo_ctx: ServiceContext, actors: dict[str, Any], desk: Desk
) -> None:
    top = yaml.safe_load(parent_app())
    top.update({"key": "credit_bundle", "serial_prefix": "BDL"})
    top["process"]["nodes"][1]["call"] = {"app": "credit_order", "inputs": INPUTS}
    apps.publish_yaml(demo_ctx, yaml_of(top))
    bundle = tickets.submit(
        demo_ctx, actor=actors["zhang.wei"], app_key="credit_bundle", values=loan_values()
    ).ticket_id
    assert calls.run_until_idle(demo_ctx).started == 2  # the order, then its credit check
    with demo_ctx.db.read() as conn:
        (order,) = calls_store.children(conn, bundle)
        (check,) = calls_store.children(conn, order.child_ticket_id)
    withdrawals.cancel_ticket(demo_ctx, actor=actors["zhang.wei"], ticket_id=bundle)
    assert calls.run_until_idle(demo_ctx).cancelled == 2
    assert desk.view(order.child_ticket_id).status == "cancelled"
    assert desk.view(check.child_ticket_id).status == "cancelled"


def test_a_parent_that_cannot_go_on_is_left_for_a_repair_with_a_note(
    demo_ctx: ServiceContext, actors: dict[str, Any]
) -> None:
    apps.publish_yaml(demo_ctx, child_app())
    stuck = yaml.safe_load(parent_app())
    stuck["process"]["nodes"][2]["assignee"] = {"kind": "role", "role": "nobody_holds_it"}
    apps.publish_yaml(demo_ctx, yaml_of(stuck))
    desk = Desk(demo_ctx, actors)
    parent, child = _file(demo_ctx, actors)
    desk.approve("xu.ming", child, "check")
    assert calls.run_due(demo_ctx).failed == 1
    view = desk.view(parent)
    assert view.status == "running" and "call_failed" in [e.kind for e in view.timeline]
    assert calls.run_due(demo_ctx).worked == 0  # not tried again at every poll


def _pinned_parent(version: object) -> str:
    definition = yaml.safe_load(parent_app())
    definition["process"]["nodes"][1]["call"]["version"] = version
    return yaml_of(definition)


def _second_child_version(demo_ctx: ServiceContext) -> None:
    """credit_check version 2: wang.fang checks, not xu.ming."""
    definition = yaml.safe_load(child_app())
    definition["process"]["nodes"][1]["assignee"] = {"kind": "user", "user": "wang.fang"}
    apps.publish_yaml(demo_ctx, yaml_of(definition))


def test_a_call_pinned_to_a_version_files_the_child_on_that_version(
    demo_ctx: ServiceContext, actors: dict[str, Any], desk: Desk
) -> None:
    _second_child_version(demo_ctx)
    apps.publish_yaml(demo_ctx, _pinned_parent(1))
    parent, child = _file(demo_ctx, actors)
    view = desk.view(child)
    assert view.app_version == 1
    assert [t.node_id for t in view.open_tasks] == ["check"]
    desk.approve("xu.ming", child, "check")  # version 1's checker, not version 2's
    assert calls.run_due(demo_ctx).resumed == 1
    assert [t.node_id for t in desk.view(parent).open_tasks] == ["sign"]


def test_an_unpinned_call_files_the_child_on_the_current_version(
    demo_ctx: ServiceContext, actors: dict[str, Any], desk: Desk
) -> None:
    _second_child_version(demo_ctx)
    _parent, child = _file(demo_ctx, actors)
    assert desk.view(child).app_version == 2
    desk.approve("wang.fang", child, "check")


def test_a_call_pinned_to_a_version_never_published_is_refused_at_publish(
    demo_ctx: ServiceContext, desk: Desk
) -> None:
    with pytest.raises(FlowdeskError) as caught:
        apps.publish_yaml(demo_ctx, _pinned_parent(9))
    assert [(e.path, e.code) for e in caught.value.errors] == [
        ("process.nodes[1].call.version", "unknown_app_version")
    ]


def _per_guarantor(order: str) -> str:
    """credit_order with a users field of guarantors: one credit_check per guarantor, the
    guarantor's username in the child's applicant_name (ADR 0035)."""
    definition = yaml.safe_load(parent_app())
    definition["form"]["fields"].append(
        {"key": "guarantors", "type": "users", "label": {"en": "Guarantors", "zh": "担保人"}}
    )
    call = definition["process"]["nodes"][1]["call"]
    call.pop("outputs")
    call["inputs"] = {k: v for k, v in call["inputs"].items() if k != "applicant_name"}
    call.update({"each": "guarantors", "as": "applicant_name", "order": order})
    return yaml_of(definition)


def _children_of(demo_ctx: ServiceContext, parent: str) -> list[str]:
    with demo_ctx.db.read() as conn:
        return [link.child_ticket_id for link in calls_store.children(conn, parent)]


@pytest.mark.parametrize("order", ["parallel", "sequential"])
def test_a_multi_instance_call_files_one_child_per_guarantor(
    demo_ctx: ServiceContext, actors: dict[str, Any], desk: Desk, order: str
) -> None:
    apps.publish_yaml(demo_ctx, _per_guarantor(order))
    parent = tickets.submit(
        demo_ctx,
        actor=actors["zhang.wei"],
        app_key="credit_order",
        values=loan_values(guarantors="wang.fang,liu.yang"),
    ).ticket_id
    calls.run_due(demo_ctx)
    first = _children_of(demo_ctx, parent)
    assert len(first) == (2 if order == "parallel" else 1)
    names = [desk.view(c).values["applicant_name"] for c in first]
    assert names == (["wang.fang", "liu.yang"] if order == "parallel" else ["wang.fang"])
    desk.approve("xu.ming", first[0], "check")
    calls.run_until_idle(demo_ctx)
    assert desk.view(parent).open_tasks == ()  # one child is not all of them
    children = _children_of(demo_ctx, parent)
    assert len(children) == 2
    last = next(c for c in children if desk.view(c).status == "running")
    assert desk.view(last).values["applicant_name"] == "liu.yang"
    desk.approve("xu.ming", last, "check")
    calls.run_until_idle(demo_ctx)
    assert [t.node_id for t in desk.view(parent).open_tasks] == ["sign"]


def test_a_multi_instance_call_over_a_field_that_is_no_list_is_refused(
    demo_ctx: ServiceContext, desk: Desk
) -> None:
    source = _per_guarantor("parallel").replace("each: guarantors", "each: purpose")
    with pytest.raises(FlowdeskError) as caught:
        apps.publish_yaml(demo_ctx, source)
    assert ("process.nodes[1].call.each", "each_not_a_list") in {
        (e.path, e.code) for e in caught.value.errors
    }


def test_an_approved_child_cannot_be_revoked(
    demo_ctx: ServiceContext, actors: dict[str, Any]
) -> None:
    """通过后撤销 (ADR 0042) of a sub-ticket is refused: its parent went on with it."""
    definition = yaml.safe_load(child_app())
    definition["withdraw"] = {"revoke_days": 30}
    apps.publish_yaml(demo_ctx, yaml_of(definition))
    apps.publish_yaml(demo_ctx, parent_app())
    desk = Desk(demo_ctx, actors)
    _parent, child = _file(demo_ctx, actors)
    desk.approve("xu.ming", child, "check")
    assert calls.run_due(demo_ctx).resumed == 1
    with pytest.raises(FlowdeskError) as refused:
        revocations.revoke_ticket(demo_ctx, actor=actors["zhang.wei"], ticket_id=child)
    assert refused.value.code == "revoke_sub_ticket"
    assert desk.view(child).status == "approved"
