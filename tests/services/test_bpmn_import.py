"""BPMN through the services: loan.bpmn from the peers replaces the loan app's process,
publishes a new version, and tickets on it run to the end on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from loan_desk import Desk

from flowdesk.engines.access import Actor
from flowdesk.engines.process.bpmn import read_bpmn
from flowdesk.kernel.errors import DefinitionInvalid, Forbidden, NotFound
from flowdesk.services import apps, tickets
from flowdesk.services.context import ServiceContext

LOAN_BPMN = Path("/work/shared/peers/loan.bpmn")
UNSUPPORTED = Path(__file__).parents[1] / "engines" / "process" / "bpmn_files" / "unsupported.bpmn"


def run_to_the_end(desk: Desk, actors: dict[str, Actor], ticket_id: str) -> list[str]:
    """Approve every open task (by its first assignee) until none is left; the nodes passed."""
    usernames = {actor.user_id: name for name, actor in actors.items()}
    passed: list[str] = []
    for _ in range(20):
        open_tasks = desk.view(ticket_id).open_tasks
        if not open_tasks:
            return passed
        task = open_tasks[0]
        who = usernames[task.assignees[0].id]
        tickets.approve(desk.ctx, actor=actors[who], task_id=task.id)
        passed.append(task.node_id)
    raise AssertionError(f"ticket {ticket_id} never finished: {passed}")


@pytest.mark.parametrize(
    ("amount", "path"),
    [
        ("20000.00", ["Task_Apply", "Task_BranchReview", "Task_Disburse"]),
        (
            "120000.00",
            [
                "Task_Apply",
                "Task_LegalReview",
                "Task_FinanceReview",
                "Task_CreditCommittee",
                "Task_Disburse",
            ],
        ),
    ],
)
def test_loan_bpmn_imports_and_a_ticket_runs_to_the_end(
    demo_ctx: ServiceContext,
    actors: dict[str, Actor],
    desk: Desk,
    amount: str,
    path: list[str],
) -> None:
    imported = apps.publish_bpmn(demo_ctx, LOAN_BPMN.read_bytes(), "loan")
    assert imported.published.changed and imported.published.version == 2
    assert imported.warnings  # the file names no assignees: said, not hidden
    ticket_id = desk.submit(amount)
    assert run_to_the_end(desk, actors, ticket_id) == path
    view = desk.view(ticket_id)
    assert view.status == "approved"
    assert view.app_version == 2
    # the same file again publishes nothing
    assert not apps.publish_bpmn(demo_ctx, LOAN_BPMN.read_bytes(), "loan").published.changed


def test_export_as_bpmn_reimports_to_the_same_version(demo_ctx: ServiceContext) -> None:
    apps.publish_bpmn(demo_ctx, LOAN_BPMN.read_bytes(), "loan")
    exported = apps.export_bpmn(demo_ctx, "loan")
    assert read_bpmn(exported).diagram.shapes["Task_Apply"] == (240, 190, 100, 80)
    again = apps.publish_bpmn(demo_ctx, exported, "loan")
    assert not again.published.changed and again.warnings == ()


def test_a_refused_file_publishes_nothing_and_lists_every_problem(
    demo_ctx: ServiceContext,
) -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        apps.publish_bpmn(demo_ctx, UNSUPPORTED.read_bytes(), "loan")
    assert len(caught.value.errors) == 10
    assert apps.current(demo_ctx, "loan").version == 1


def test_only_administrators_import_and_only_into_an_existing_app(
    demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    with pytest.raises(Forbidden):
        apps.publish_bpmn(demo_ctx, LOAN_BPMN.read_bytes(), "loan", actor=actors["zhang.wei"])
    with pytest.raises(NotFound):
        apps.publish_bpmn(demo_ctx, LOAN_BPMN.read_bytes(), "no_such_app")
    published = apps.publish_bpmn(demo_ctx, LOAN_BPMN.read_bytes(), "loan", actor=actors["admin"])
    assert published.published.version == 2
