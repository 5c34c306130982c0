"""`flowdesk app import FILE.bpmn --app KEY` and `flowdesk app export KEY --format bpmn`."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from test_cli import _ok, database, demo_database, demo_runner  # noqa: F401  (fixtures)

from flowdesk.cli import main

LOAN_BPMN = Path("/work/shared/peers/loan.bpmn")
FILES = Path(__file__).parents[1] / "engines" / "process" / "bpmn_files"


def test_import_bpmn_into_an_app_then_export_it(demo_runner: CliRunner, tmp_path: Path) -> None:  # noqa: F811
    result = demo_runner.invoke(main, ["app", "import", str(LOAN_BPMN), "--app", "loan"])
    assert "published loan version 2" in _ok(result)
    assert "warning: bpmn[Task_Apply]: No assignee in the file" in result.stderr
    exported = _ok(demo_runner.invoke(main, ["app", "export", "loan", "--format", "bpmn"]))
    assert exported.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert 'bpmnElement="Task_Apply"' in exported
    again = tmp_path / "loan-exported.bpmn"
    again.write_text(exported, encoding="utf-8")
    result = demo_runner.invoke(main, ["app", "import", str(again), "--app", "loan"])
    assert "loan version 2 is identical; nothing published" in _ok(result)
    assert "warning" not in result.stderr
    assert "key: loan" in _ok(demo_runner.invoke(main, ["app", "export", "loan"]))  # yaml default


def test_every_problem_is_printed_on_its_own_line(demo_runner: CliRunner) -> None:  # noqa: F811
    result = demo_runner.invoke(
        main, ["app", "import", str(FILES / "unsupported.bpmn"), "--app", "loan"]
    )
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "error: The definition is invalid; 10 problem(s):"
    assert "  bpmn[Service_Score]: flowdesk cannot run a service task" in lines[2]
    assert len(lines) == 11


def test_a_bpmn_file_needs_an_app_and_hostile_files_are_refused(demo_runner: CliRunner) -> None:  # noqa: F811
    result = demo_runner.invoke(main, ["app", "import", str(LOAN_BPMN)])
    assert result.exit_code == 2 and "--app KEY" in result.stderr
    yaml_file = FILES.parents[0] / "scenarios" / "processes" / "loan.yaml"
    result = demo_runner.invoke(main, ["app", "import", str(yaml_file), "--app", "loan"])
    assert result.exit_code == 2 and "for BPMN files" in result.stderr
    result = demo_runner.invoke(
        main, ["app", "import", str(FILES / "hostile" / "xxe.bpmn"), "--app", "loan"]
    )
    assert result.exit_code == 1 and "bpmn: The file has a DOCTYPE" in result.stderr
    result = demo_runner.invoke(main, ["app", "import", str(LOAN_BPMN), "--app", "nope"])
    assert result.exit_code == 1 and "No app 'nope'" in result.stderr
