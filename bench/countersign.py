"""The countersign-heavy workload (issue 8): flowdesk's pure engine beside SpiffWorkflow.

One instance is a 5-person 会签 (every reviewer approves) followed by a 2-person 或签 (the
first deputy head's approval decides, the other task closes): six requests, each
completing one task. SpiffWorkflow runs the same shape as parallel multi-instance user
tasks (bench/peers/countersign.bpmn); flowdesk runs COUNTERSIGN below.

Two modes, as in bench/engine.py: plain (in memory) and persist (after every request
the state goes to JSON text and back, as between two HTTP requests). Rounds alternate
flowdesk and SpiffWorkflow so both see the same host; the ratio of instances per CPU
second (process time: a busy host's other work does not count against either side) is
taken per round and reported as the median with its spread; wall-clock rates are printed
beside it.

    .venv/bin/python bench/countersign.py [-n 2000] [--rounds 3]

SpiffWorkflow runs in bench/.venv-peers (bash bench/setup.sh): this script re-runs itself
there with --spiff MODE, and that side imports nothing of flowdesk.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BPMN = HERE / "peers" / "countersign.bpmn"
SPIFF_PYTHON = HERE / ".venv-peers" / "bin" / "python"
REVIEWERS = ("legal.a", "risk.b", "finance.c", "ops.d", "audit.e")
DEPUTIES = ("deputy.f", "deputy.g")
COUNTERSIGN: dict[str, object] = {
    "nodes": [
        {"id": "start", "type": "start"},
        {
            "id": "review",
            "type": "user_task",
            "assignee": {"kind": "users", "users": list(REVIEWERS)},
            "approval": {"mode": "all"},
        },
        {
            "id": "sign_off",
            "type": "user_task",
            "assignee": {"kind": "users", "users": list(DEPUTIES)},
            "approval": {"mode": "any"},
        },
        {"id": "end", "type": "end"},
    ],
    "flows": [
        {"from": "start", "to": "review"},
        {"from": "review", "to": "sign_off"},
        {"from": "sign_off", "to": "end"},
    ],
}


# ------------------------------------------------------------------ SpiffWorkflow side


def run_spiff(mode: str, n: int, warmup: int) -> dict[str, Any]:
    from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser, BpmnValidator
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    parser = BpmnParser(validator=BpmnValidator())
    parser.add_bpmn_file(str(BPMN))
    spec = parser.get_spec("countersign")
    serializer = BpmnWorkflowSerializer() if mode == "persist" else None

    def instance() -> int:
        workflow = BpmnWorkflow(spec)
        workflow.do_engine_steps()
        if serializer is not None:
            workflow = serializer.deserialize_json(serializer.serialize_json(workflow))
        done = 0
        while not workflow.is_completed():
            task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
            task.data.update({"decision": "approved", "comment": "ok"})
            task.run()
            workflow.do_engine_steps()
            if serializer is not None:
                workflow = serializer.deserialize_json(serializer.serialize_json(workflow))
            done += 1
        return done

    for _ in range(warmup):
        instance()
    tasks = 0
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        tasks += instance()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"instances_per_s": n / wall, "instances_per_cpu_s": n / cpu, "tasks": tasks}


# ------------------------------------------------------------------------ flowdesk side


def run_flowdesk(mode: str, n: int, warmup: int) -> dict[str, Any]:
    from flowdesk.engines.process import (
        AssigneeRule,
        CompleteTask,
        InstanceState,
        Start,
        parse_process,
        step,
    )
    from flowdesk.engines.process.state import dump_state, load_state
    from flowdesk.kernel.ids import new_id

    class Context:
        def evaluate(self, condition: str, values: Mapping[str, object]) -> bool:
            raise AssertionError("the countersign process has no conditions")

        def resolve_assignees(self, rule: AssigneeRule, starter: str) -> Sequence[str]:
            return rule.users

        def new_id(self) -> str:
            return new_id()

    spec = parse_process(COUNTERSIGN)
    ctx = Context()
    values: dict[str, object] = {}
    persist = mode == "persist"

    def round_trip(state: InstanceState) -> InstanceState:
        return load_state(json.loads(json.dumps(dump_state(state))))

    def instance() -> int:
        state = step(spec, None, Start("applicant.z", values), ctx).state
        if persist:
            state = round_trip(state)
        done = 0
        while state.status == "running":
            task = next(iter(state.tasks.values()))
            command = CompleteTask(task.task_id, task.assignees[0], "approve", "ok", values)
            state = step(spec, state, command, ctx).state
            if persist:
                state = round_trip(state)
            done += 1
        if state.status != "approved":
            raise RuntimeError(f"an instance ended {state.status}")
        return done

    for _ in range(warmup):
        instance()
    tasks = 0
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        tasks += instance()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"instances_per_s": n / wall, "instances_per_cpu_s": n / cpu, "tasks": tasks}


# ------------------------------------------------------------------------------ driver


def spiff_round(mode: str, n: int, warmup: int) -> dict[str, Any]:
    command = [str(SPIFF_PYTHON), __file__, "--spiff", mode, "-n", str(n), "--warmup", str(warmup)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="instances per mode and round")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--spiff", choices=("plain", "persist"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.spiff:  # the SpiffWorkflow side, inside bench/.venv-peers
        print(json.dumps(run_spiff(args.spiff, args.n, args.warmup)))
        return 0
    if not SPIFF_PYTHON.exists():
        raise SystemExit(f"{SPIFF_PYTHON} missing: run bash bench/setup.sh first")
    print(f"countersign (5 会签 then 2 或签), n={args.n}, {args.rounds} rounds", flush=True)
    for mode in ("plain", "persist"):
        ratios: list[float] = []
        for round_no in range(1, args.rounds + 1):
            ours = run_flowdesk(mode, args.n, args.warmup)
            theirs = spiff_round(mode, args.n, args.warmup)
            if ours["tasks"] != theirs["tasks"]:
                raise RuntimeError(f"different work: {ours['tasks']} vs {theirs['tasks']} tasks")
            ratio = ours["instances_per_cpu_s"] / theirs["instances_per_cpu_s"]
            ratios.append(ratio)
            print(
                f"  {mode:7s} round {round_no}: flowdesk {ours['instances_per_s']:9.1f} inst/s"
                f" ({ours['instances_per_cpu_s']:9.1f} per CPU s)  spiff"
                f" {theirs['instances_per_s']:7.1f} inst/s ({theirs['instances_per_cpu_s']:7.1f}"
                f" per CPU s)  ratio {ratio:5.1f}×",
                flush=True,
            )
        print(
            f"{mode}: flowdesk ÷ spiff = {statistics.median(ratios):.1f}× median"
            f" ({min(ratios):.1f}–{max(ratios):.1f}× over {len(ratios)} rounds; target ≥ 25×)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
