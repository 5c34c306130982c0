"""Automatic decisions and empty rules through the services and the ticket page, on
SQLite and PostgreSQL: a small, well-rated loan passes the manager's step by itself with
the reason shown; a step whose role has nobody is skipped or goes to its fallback."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from loan_desk import Desk

from flowdesk.engines.apps import load_bundled_template
from flowdesk.kernel.errors import DefinitionInvalid
from flowdesk.services import apps

RULE = "amount <= 5000 and credit_rating == 'A'"


def _loan(**branch: Any) -> str:
    definition: dict[str, Any] = yaml.safe_load(apps.dump_app_yaml(load_bundled_template("loan")))
    for node in definition["process"]["nodes"]:
        if node["id"] == "branch_review":
            node.update(branch)
    return yaml.safe_dump(definition, allow_unicode=True)


def test_a_small_well_rated_loan_passes_the_managers_step_by_itself(desk: Desk) -> None:
    apps.publish_yaml(desk.ctx, _loan(auto={"when": RULE}))
    ticket_id = desk.submit("3000.00", credit_rating="A")
    assert [t.node_id for t in desk.view(ticket_id).open_tasks] == ["disburse"]
    [skipped] = [e for e in desk.view(ticket_id).timeline if e.kind == "node_skipped"]
    assert skipped.node_id == "branch_review"
    assert skipped.data == {"reason": "auto_approved", "condition": RULE}
    # the same amount rated B, or a larger one, waits for the manager
    assert desk.task(desk.submit("3000.00", credit_rating="B"), "branch_review")
    assert desk.task(desk.submit("8000.00", credit_rating="A"), "branch_review")


def test_a_step_whose_rule_names_nobody_is_skipped_or_falls_back(desk: Desk) -> None:
    empty = {"kind": "role", "role": "auditor_of_nothing"}
    apps.publish_yaml(desk.ctx, _loan(assignee=empty, on_empty={"action": "skip"}))
    skipped = desk.submit("3000.00")
    assert [t.node_id for t in desk.view(skipped).open_tasks] == ["disburse"]
    fallback = {"action": "assign", "assignee": {"kind": "user", "user": "zhou.hang"}}
    apps.publish_yaml(desk.ctx, _loan(assignee=empty, on_empty=fallback))
    covered = desk.submit("3000.00")
    names = {a.user_id: n for n, a in desk.actors.items()}
    assert [names[p.id] for p in desk.task(covered, "branch_review").assignees] == ["zhou.hang"]


def test_an_automatic_decision_on_an_unknown_field_is_refused_at_publish(desk: Desk) -> None:
    with pytest.raises(DefinitionInvalid) as refused:
        apps.publish_yaml(desk.ctx, _loan(auto={"when": "amout <= 5000"}))
    assert any(e.path.endswith(".auto.when") for e in refused.value.errors)
