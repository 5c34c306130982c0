"""Publishing apps: immutable versions, idempotent imports, running tickets keep their version."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from loan_desk import Desk
from sqlalchemy import func, select

from flowdesk.engines.apps import load_bundled_template
from flowdesk.kernel.errors import Conflict, DefinitionInvalid, Forbidden, NotFound
from flowdesk.services import apps, audit, demo, tickets, views
from flowdesk.services.context import ServiceContext
from flowdesk.store import audit as audit_store
from flowdesk.store.tables import AppVersion


def _loan_definition() -> dict[str, Any]:
    return yaml.safe_load(apps.dump_app_yaml(load_bundled_template("loan")))


def _without_disbursement(definition: dict[str, Any]) -> dict[str, Any]:
    """Version 2 of the loan process: small loans up to 10,000 and no disbursement step."""
    process = definition["process"]
    process["nodes"] = [n for n in process["nodes"] if n["id"] != "disburse"]
    flows = []
    for flow in process["flows"]:
        if flow["to"] == "disburse":
            flows.append({**flow, "to": "end_approved"})
        elif flow["from"] != "disburse":
            flows.append(flow)
    for flow in flows:
        if flow.get("condition") == "amount <= 50000":
            flow["condition"] = "amount <= 10000"
    process["flows"] = flows
    return definition


def _publish(ctx: ServiceContext, definition: dict[str, Any], **kwargs: Any) -> apps.PublishResult:
    return apps.publish_yaml(ctx, yaml.safe_dump(definition, allow_unicode=True), **kwargs)


def _versions(ctx: ServiceContext) -> int:
    """The loan app's versions (the demo's other bundled apps are not under test here)."""
    with ctx.db.read() as conn:
        total = int(
            conn.execute(select(func.count()).select_from(AppVersion.__table__)).scalar_one()
        )
    return total - (len(demo.TEMPLATES) - 1)


def _audit_head(ctx: ServiceContext) -> int:
    with ctx.db.read() as conn:
        return audit_store.head(conn)[0]


def test_publishing_the_same_definition_again_publishes_nothing(demo_ctx: ServiceContext) -> None:
    current = apps.current(demo_ctx, "loan")
    head = _audit_head(demo_ctx)
    again = apps.publish(demo_ctx, load_bundled_template("loan"))
    assert (again.version, again.version_id, again.changed) == (1, current.version_id, False)
    from_yaml = apps.publish_yaml(demo_ctx, apps.export_yaml(demo_ctx, "loan"))
    assert (from_yaml.version, from_yaml.changed) == (1, False)
    assert _versions(demo_ctx) == 1
    assert _audit_head(demo_ctx) == head


def test_a_changed_definition_becomes_version_two(
    demo_ctx: ServiceContext, actors: dict[str, Any]
) -> None:
    definition = _loan_definition()
    definition["description"]["en"] = "Apply for a loan (2026 rules)."
    result = _publish(demo_ctx, definition, actor=actors["admin"])
    assert (result.key, result.version, result.changed) == ("loan", 2, True)
    assert apps.current(demo_ctx, "loan").version == 2
    assert [(a.key, a.version) for a in apps.list_apps(demo_ctx)] == [("complaint", 1), ("loan", 2)]
    assert "(2026 rules)" in apps.export_yaml(demo_ctx, "loan")
    # Publishing version 1's definition again is a change too: it becomes version 3.
    assert apps.publish(demo_ctx, load_bundled_template("loan")).version == 3

    with demo_ctx.db.read() as conn:
        entries = [
            e
            for e in audit_store.entries(conn)
            if e.action == "app.publish" and e.details["key"] == "loan"
        ]
    assert [(e.actor, e.details["version"]) for e in entries] == [
        ("system", 1),
        ("admin", 2),
        ("system", 3),
    ]
    assert audit.verify(demo_ctx).ok


def test_running_tickets_finish_on_the_version_they_started_on(desk: Desk) -> None:
    old = desk.submit("30000.00")
    assert _publish(desk.ctx, _without_disbursement(_loan_definition())).version == 2

    new = desk.submit("30000.00")  # over v2's 10,000 limit: legal and finance review
    assert sorted(t.node_id for t in desk.view(new).open_tasks) == [
        "finance_review",
        "legal_review",
    ]
    assert desk.view(new).app_version == 2
    smallest = desk.submit("5000.00")
    desk.approve("li.na", smallest, "branch_review")
    assert desk.view(smallest).status == "approved"  # v2 has no disbursement step

    # The old ticket still follows version 1: branch review, then disbursement.
    assert desk.view(old).app_version == 1
    assert [t.node_id for t in desk.view(old).open_tasks] == ["branch_review"]
    desk.approve("li.na", old, "branch_review")
    assert [t.node_id for t in desk.view(old).open_tasks] == ["disburse"]
    desk.approve("qian.yu", old, "disburse")
    view = desk.view(old)
    assert view.status == "approved"
    assert view.app_version == 1
    assert [e.node_id for e in view.timeline if e.kind == "task_opened"] == [
        "branch_review",
        "disburse",
    ]


@pytest.mark.parametrize(
    "text, path, code",
    [
        ("key: [", "yaml", "yaml_syntax"),
        ("key: loan\nkey: loan\n", "yaml", "duplicate_key"),
        ("- just\n- a list\n", "app", "invalid_type"),
        (
            "a: &x [1, 2]\nb: *x\n",
            "yaml",
            None,
        ),
    ],
)
def test_unreadable_yaml_is_refused_with_a_path(
    demo_ctx: ServiceContext, text: str, path: str, code: str | None
) -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        apps.publish_yaml(demo_ctx, text)
    assert caught.value.status == 422
    assert caught.value.errors[0].path == path
    if code:
        assert caught.value.errors[0].code == code
    assert _versions(demo_ctx) == 1


def test_an_invalid_definition_reports_every_problem_with_its_path(
    demo_ctx: ServiceContext,
) -> None:
    definition = _loan_definition()
    definition["key"] = "Loan!"
    definition["form"]["fields"][1]["type"] = "moneyy"
    definition["process"]["nodes"][2]["assignee"] = {"kind": "astrologer"}
    head = _audit_head(demo_ctx)
    with pytest.raises(DefinitionInvalid) as caught:
        _publish(demo_ctx, definition)
    paths = {(e.path, e.code) for e in caught.value.errors}
    assert ("key", "invalid_key") in paths
    assert ("form.fields[1].type", "unknown_field_type") in paths
    assert any(path.startswith("process.nodes[2]") for path, _ in paths), paths
    assert _versions(demo_ctx) == 1
    assert _audit_head(demo_ctx) == head


def test_a_condition_naming_a_missing_field_is_refused(demo_ctx: ServiceContext) -> None:
    definition = _loan_definition()
    definition["process"]["flows"][1]["condition"] = "amout <= 50000"
    with pytest.raises(DefinitionInvalid) as caught:
        _publish(demo_ctx, definition)
    (error,) = caught.value.errors
    assert (error.path, error.code) == ("process.flows[1].condition", "expr_unknown_field")
    assert "amount" in error.message  # the suggestion


def test_only_admins_may_publish(demo_ctx: ServiceContext, actors: dict[str, Any]) -> None:
    definition = _loan_definition()
    definition["description"]["en"] = "changed"
    with pytest.raises(Forbidden):
        _publish(demo_ctx, definition, actor=actors["zhang.wei"])
    assert _versions(demo_ctx) == 1


def test_export_then_import_round_trips(demo_ctx: ServiceContext) -> None:
    _publish(demo_ctx, _without_disbursement(_loan_definition()))
    exported = apps.export_yaml(demo_ctx, "loan")
    spec = apps.current(demo_ctx, "loan").spec
    assert apps.load_app_yaml(exported).to_dict() == spec.to_dict()
    assert apps.publish_yaml(demo_ctx, exported).changed is False
    assert apps.export_yaml(demo_ctx, "loan") == exported


def test_a_new_app_can_be_published_and_used(desk: Desk) -> None:
    definition = _loan_definition()
    definition["key"] = "loan-sme"
    definition["name"] = {"en": "SME loan", "zh": "小微企业贷款"}
    with pytest.raises(Conflict) as taken:  # LN-2026-000001 would name two tickets
        _publish(desk.ctx, definition)
    assert taken.value.code == "serial_prefix_taken"
    assert [a.key for a in apps.list_apps(desk.ctx)] == ["complaint", "loan"]  # nothing written
    definition["serial_prefix"] = "SME"
    assert _publish(desk.ctx, definition).version == 1
    assert [a.key for a in apps.list_apps(desk.ctx)] == ["complaint", "loan", "loan-sme"]
    outcome = tickets.submit(
        desk.ctx,
        actor=desk.actors["wu.min"],
        app_key="loan-sme",
        values={
            "applicant_name": "李四",
            "amount": "8000.00",
            "term_months": 6,
            "credit_rating": "B",
            "region": "east",
            "purpose": "Stock",
        },
    )
    view = desk.view(outcome.ticket_id)
    assert view.app_key == "loan-sme"
    assert view.subject == "李四"
    assert view.title == "SME loan · 李四"
    zh = views.ticket(desk.ctx, desk.actors["admin"], outcome.ticket_id, locale="zh")
    assert zh.title == "小微企业贷款 · 李四"


def test_unknown_apps_are_not_found(desk: Desk) -> None:
    with pytest.raises(NotFound):
        apps.current(desk.ctx, "nope")
    with pytest.raises(NotFound):
        apps.export_yaml(desk.ctx, "nope")
    with pytest.raises(NotFound):
        tickets.submit(desk.ctx, actor=desk.actors["zhang.wei"], app_key="nope", values={})
