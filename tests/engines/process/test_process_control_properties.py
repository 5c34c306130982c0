"""Property: random processes built of tasks, sequences, exclusive, parallel and
inclusive blocks (with branches that leave early to an end of their own) and
sub-processes, driven by random approvals and returns (退回, to the applicant or to a
step passed), never leave a token stuck (ADR 0022).

After every step: a running ticket has an open task; an OR-join still waiting has a
resting token that can reach it (else it should have fired); a finished ticket holds
nothing. Every generated process that passes the soundness check must behave so."""

from __future__ import annotations

from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st
from process_fakes import FakeContext

from flowdesk.engines.process import (
    CompleteTask,
    Resubmit,
    ReturnTask,
    Start,
    parse_process,
    step,
)
from flowdesk.engines.process.control_walk import resting
from flowdesk.engines.process.walk import Walk
from flowdesk.kernel.errors import DefinitionInvalid, FlowdeskError

CONDITIONS = ["amount > 50000", "amount > 1000000", "category == 'travel'", "category == 'it'"]


class _Builder:
    def __init__(self, data: st.DataObject) -> None:
        self.data = data
        self.nodes: list[dict[str, Any]] = []
        self.flows: list[dict[str, Any]] = []
        self.count = 0

    def node(self, kind: str, scope: str, **extra: Any) -> str:
        self.count += 1
        node_id = f"{kind[:3]}{self.count}"
        node: dict[str, Any] = {"id": node_id, "type": kind, **extra}
        if scope:
            node["scope"] = scope
        if kind == "user_task":
            node["assignee"] = {"kind": "user", "user": f"u{self.count}"}
        self.nodes.append(node)
        return node_id

    def flow(self, source: str, target: str, **extra: Any) -> None:
        self.flows.append({"from": source, "to": target, **extra})

    def block(self, scope: str, depth: int) -> tuple[str, str]:
        """(entry, exit) of a random block inside `scope`."""
        choices = ["task"] if depth >= 3 else ["task", "seq", "split", "split", "sub"]
        kind = self.data.draw(st.sampled_from(choices))
        if kind == "task":
            task = self.node("user_task", scope)
            return task, task
        if kind == "seq":
            first = self.block(scope, depth + 1)
            second = self.block(scope, depth + 1)
            self.flow(first[1], second[0])
            return first[0], second[1]
        if kind == "sub":
            sub = self.node("sub_process", scope)
            start = self.node("start", sub)
            inner = self.block(sub, depth + 1)
            end = self.node("end", sub)
            self.flow(start, inner[0])
            self.flow(inner[1], end)
            return sub, sub
        split_kind = self.data.draw(
            st.sampled_from(["exclusive_gateway", "parallel_gateway", "inclusive_gateway"])
        )
        join_kind = {
            "exclusive_gateway": "exclusive_gateway",
            "parallel_gateway": self.data.draw(
                st.sampled_from(["parallel_gateway", "inclusive_gateway"])
            ),
            "inclusive_gateway": "inclusive_gateway",
        }[split_kind]
        split = self.node(split_kind, scope)
        join = self.node(join_kind, scope)
        branches = self.data.draw(st.integers(2, 3))
        for i in range(branches):
            inner = self.block(scope, depth + 1)
            extra: dict[str, Any] = {}
            if split_kind != "parallel_gateway":
                if i == branches - 1:
                    extra = {"default": True}
                else:
                    extra = {"condition": self.data.draw(st.sampled_from(CONDITIONS))}
            self.flow(split, inner[0], **extra)
            leaves = join_kind == "inclusive_gateway" and self.data.draw(st.booleans())
            if leaves:  # the branch may end early, on an end of its own
                gate = self.node("exclusive_gateway", scope)
                end = self.node("end", scope)
                self.flow(inner[1], gate)
                self.flow(gate, end, condition="docs_complete == false")
                self.flow(gate, join, default=True)
            else:
                self.flow(inner[1], join)
        return split, join


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_random_sound_processes_never_leave_a_token_stuck(data: st.DataObject) -> None:
    builder = _Builder(data)
    start = builder.node("start", "")
    entry, exit_ = builder.block("", 0)
    end = builder.node("end", "")
    builder.flow(start, entry)
    builder.flow(exit_, end)
    try:
        spec = parse_process({"nodes": builder.nodes, "flows": builder.flows})
    except DefinitionInvalid as exc:
        event(f"refused: {sorted({e.code for e in exc.errors})}")
        return  # refused at publish: never runs
    event("ran" + (" with an OR-join" if spec.index.control.or_joins else ""))
    values = {
        "amount": data.draw(st.sampled_from([100, 60000, 2000000])),
        "category": data.draw(st.sampled_from(["travel", "it", "office"])),
        "docs_complete": data.draw(st.booleans()),
    }
    ctx = FakeContext()
    state = step(spec, None, Start("alice", values), ctx).state
    or_joins = spec.index.control.or_joins
    returns = 0
    for _ in range(300):
        if state.status != "running":
            break
        assert state.tasks, "a running ticket with no open task is stuck"
        probe = Walk(
            spec,
            ctx,
            state.starter,
            dict(state.tasks),
            dict(state.joins),
            dict(state.activations),
            [],
        )
        here = resting(probe)
        for join_id in state.joins:
            if join_id in or_joins:
                assert any(n in or_joins[join_id] for n in here if n != join_id), (
                    f"OR-join {join_id} waits for nothing"
                )
        task = data.draw(st.sampled_from(sorted(state.tasks.values())))
        actor = task.assignees[0]
        command: CompleteTask | ReturnTask | Resubmit
        if task.node_id == spec.start.id:
            command = Resubmit(task.task_id, actor, "", values)
        elif returns < 3 and data.draw(st.integers(0, 5)) == 0:  # now and then a 退回
            target = data.draw(st.sampled_from([None, *state.passed]))
            command = ReturnTask(task.task_id, actor, target, "", None, values)
            returns += 1
        else:
            command = CompleteTask(task.task_id, actor, "approve", "", values)
        try:
            state = step(spec, state, command, ctx).state
            if isinstance(command, ReturnTask):
                event("a return" + (" with an OR-join" if or_joins else ""))
        except FlowdeskError as exc:  # a return the engine refuses changes nothing
            assert isinstance(command, ReturnTask) and exc.status in (409, 422), exc.code
    assert state.status == "approved"
    assert not state.tasks and not state.joins
