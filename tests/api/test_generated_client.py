"""A client generated from the OpenAPI document by a standard generator works unchanged.

openapi-python-client (a dev dependency) generates offline into tmp_path; the test
imports the package and runs the small-loan flow against a real server, then checks
that a 409 and a 422 come back as the typed Problem model the document declares.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from api_client import API, loan_values
from fastapi.testclient import TestClient

from flowdesk.main import create_app
from flowdesk.services import demo
from flowdesk.services.context import ServiceContext
from flowdesk.settings import Settings
from live_server import serving

GENERATOR = Path(sys.executable).with_name("openapi-python-client")


def _generate(spec: dict[str, Any], where: Path, package: str) -> ModuleType:
    if not GENERATOR.exists():
        pytest.skip("openapi-python-client is not installed (it is in the dev extras)")
    document = where / "openapi.json"
    document.write_text(json.dumps(spec))
    config = where / "generator.yaml"
    config.write_text("post_hooks: []\n")  # no formatter run: nothing but the generator
    run = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(document),
            "--meta",
            "none",
            "--config",
            str(config),
            "--output-path",
            str(where / package),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    sys.path.insert(0, str(where))
    try:
        return importlib.import_module(package)
    finally:
        sys.path.remove(str(where))


def _module(package: str, name: str) -> Any:
    return importlib.import_module(f"{package}.{name}")


def _operation(package: str, tag: str, name: str) -> Any:
    """The generated module of an operation: its operation id in snake case (listTasks
    is api/tasks/list_tasks.py), as an integrator's code imports it."""
    return _module(package, f"api.{tag}.{name}")


def test_a_generated_client_runs_the_loan_flow_and_parses_problems(
    demo_ctx: ServiceContext, backend: str, tmp_path: Path
) -> None:
    app = create_app(Settings(dev=True, run_worker=False), demo_ctx, migrate=False)
    with TestClient(app) as test_client:
        spec = test_client.get(f"{API}/openapi.json").json()
    package = f"flowdesk_client_{backend}"
    _generate(spec, tmp_path, package)
    client_module = _module(package, "client")
    models = _module(package, "models")
    issue_token = _operation(package, "auth", "issue_token")
    submit = _operation(package, "tickets", "submit_ticket")
    list_tasks = _operation(package, "tasks", "list_tasks")
    approve = _operation(package, "tasks", "approve_task")

    with serving(app) as url:
        anonymous = client_module.Client(base_url=f"{url}{API}", raise_on_unexpected_status=True)

        def login(username: str) -> Any:
            body = issue_token.sync(
                client=anonymous,
                body=models.TokenRequest(username=username, password=demo.DEMO_PASSWORD),
            )
            assert isinstance(body, models.TokenResponse), body
            return client_module.AuthenticatedClient(
                base_url=f"{url}{API}", token=body.token, raise_on_unexpected_status=True
            )

        requester, manager = login("wu.min"), login("li.na")
        values = models.SubmitTicketValues.from_dict(loan_values("8000"))
        ticket = submit.sync(key="loan", client=requester, body=models.SubmitTicket(values=values))
        assert isinstance(ticket, models.TicketOut), ticket
        assert ticket.status == "running"

        open_state = models.ListTasksState("open")
        page = list_tasks.sync(client=manager, assignee="me", state=open_state)
        assert isinstance(page, models.TaskPage), page
        (task,) = [t for t in page.items if t.ticket_id == ticket.id]
        assert task.node_id == "branch_review"
        step = approve.sync(task_id=task.id, client=manager, body=models.TaskAction(comment="ok"))
        assert isinstance(step, models.StepOut), step
        assert step.ticket_id == ticket.id

        again = approve.sync_detailed(task_id=task.id, client=manager, body=models.TaskAction())
        assert again.status_code == 409
        conflict = again.parsed
        assert isinstance(conflict, models.Problem), again.content
        assert conflict.status == 409
        assert conflict.code == "task_not_open"
        assert conflict.request_id == again.headers["x-request-id"]

        bad = models.SubmitTicketValues.from_dict(loan_values(amount="lots"))
        refused = submit.sync_detailed(
            key="loan", client=requester, body=models.SubmitTicket(values=bad)
        )
        assert refused.status_code == 422
        problem = refused.parsed
        assert isinstance(problem, models.Problem), refused.content
        assert problem.code == "validation_failed"
        assert [(e.path, e.code) for e in problem.errors] == [("amount", "invalid_number")]
