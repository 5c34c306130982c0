"""加签 and 减签 at engine level (ADR 0020): APPROVALS.md edge cases 5–14 as golden
scenarios, each a given/when/then on a small process, plus the refusals and the state's
round trip (a document without the `signs` key, every stored ticket's, still loads)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from process_fakes import FakeContext

from flowdesk.engines.process import (
    AddSigners,
    ApprovalHeld,
    CancelInstance,
    CompleteTask,
    InstanceState,
    NodeDecided,
    ProcessSpec,
    RemoveSigner,
    ReturnTask,
    Start,
    StepResult,
    TaskClosed,
    TaskOpened,
    TransferTask,
    dump_state,
    load_state,
    parse_process,
    step,
)
from flowdesk.engines.process.add_sign import MAX_SIGNERS, waiting
from flowdesk.engines.process.bpmn import read_bpmn, write_bpmn
from flowdesk.engines.process.repair_remove import remove_approver
from flowdesk.kernel.errors import DefinitionInvalid, FlowdeskError


def _spec(approval: Mapping[str, object] | None, users: Sequence[str]) -> ProcessSpec:
    node: dict[str, Any] = {
        "id": "review",
        "type": "user_task",
        "assignee": {"kind": "users", "users": list(users)},
    }
    if approval is not None:
        node["approval"] = dict(approval)
    return parse_process(
        {
            "nodes": [
                {"id": "start", "type": "start"},
                node,
                {"id": "next", "type": "user_task", "assignee": {"kind": "user", "user": "ops"}},
                {"id": "end", "type": "end"},
            ],
            "flows": [
                {"from": "start", "to": "review"},
                {"from": "review", "to": "next"},
                {"from": "next", "to": "end"},
            ],
        }
    )


COUNTERSIGN = _spec({"mode": "all"}, ("amy", "ben", "cai"))
OR_SIGN = _spec({"mode": "any"}, ("amy", "ben"))
SINGLE = _spec(None, ("amy",))
VOTE = _spec({"mode": "vote", "pass_count": 2}, ("amy", "ben", "cai"))


class Run:
    """One instance driven step by step, every state round-tripped through JSON as the
    services store it."""

    def __init__(self, spec: ProcessSpec) -> None:
        self.spec = spec
        self.ctx = FakeContext()
        self.state: InstanceState = step(spec, None, Start("alice"), self.ctx).state
        self.last: StepResult | None = None

    def task(self, user: str, node_id: str = "review") -> str:
        for task in self.state.tasks.values():
            if task.node_id == node_id and user in task.assignees:
                return task.task_id
        raise AssertionError(f"{user} holds no open task at {node_id}")

    def holders(self, node_id: str = "review") -> list[str]:
        return [u for t in self.state.tasks.values() if t.node_id == node_id for u in t.assignees]

    def do(self, command: Any) -> StepResult:
        result = step(self.spec, self.state, command, self.ctx)
        self.state = load_state(dump_state(result.state))
        assert self.state == result.state
        self.last = result
        return result

    def add(
        self, who: str, users: Sequence[str], position: str, mode: str = "all", **kw: Any
    ) -> StepResult:
        return self.do(AddSigners(self.task(who), who, tuple(users), position, mode, **kw))  # type: ignore[arg-type]

    def decide(self, who: str, outcome: str = "approve", node_id: str = "review") -> StepResult:
        return self.do(CompleteTask(self.task(who, node_id), who, outcome))  # type: ignore[arg-type]

    def refused(self, command: Any) -> tuple[int, str]:
        before = dump_state(self.state)
        with pytest.raises(FlowdeskError) as caught:
            step(self.spec, self.state, command, self.ctx)
        assert dump_state(self.state) == before
        return caught.value.status, caught.value.code


def _closed(result: StepResult) -> list[tuple[str, str, str | None, str]]:
    return [
        (e.task_id, e.outcome, e.actor, e.reason)
        for e in result.effects
        if isinstance(e, TaskClosed)
    ]


def test_edge_5_before_leaves_the_node_counters_alone() -> None:
    """Given 会签 A, B, C; when A adds D before; then A waits, B and C untouched, D has a
    task, and the node still needs A (after D) + B + C: its count stays 3."""
    run = Run(COUNTERSIGN)
    amy = run.task("amy")
    run.add("amy", ["dan"], "before")
    assert waiting(run.state, amy)
    activation = next(iter(run.state.activations.values()))
    assert (activation.approvers, activation.required) == (("amy", "ben", "cai"), 3)
    assert sorted(run.holders()) == ["amy", "ben", "cai", "dan"]
    run.decide("ben")
    run.decide("cai")
    run.decide("dan")  # D's approval is not one of the node's three
    activation = next(iter(run.state.activations.values()))
    assert activation.approved == ("ben", "cai")
    assert not waiting(run.state, amy) and run.state.signs == {}
    assert run.holders("next") == []
    run.decide("amy")  # A decides last, and that completes the node
    assert run.holders("next") == ["ops"]


def test_edge_6_after_counts_once_the_added_signer_approved() -> None:
    """When D approves, A's task completes without A acting again."""
    run = Run(SINGLE)
    amy = run.task("amy")
    run.add("amy", ["dan"], "after", comment="fine by me")
    assert waiting(run.state, amy)
    result = run.decide("dan")
    assert (amy, "approved", "amy", "") in _closed(result)
    assert (
        next(e for e in result.effects if isinstance(e, TaskClosed) and e.task_id == amy).comment
        == "fine by me"
    )
    assert run.holders("next") == ["ops"]


def test_edge_6_after_a_rejection_by_the_added_signer_rejects_the_node() -> None:
    """When D rejects, A's parent task is marked REJECTED and the node rejected per its
    policy (会签: one-vote veto, the ticket ends rejected, B and C cancelled)."""
    run = Run(COUNTERSIGN)
    amy = run.task("amy")
    run.add("amy", ["dan"], "after")
    result = run.decide("dan", "reject")
    closed = _closed(result)
    assert closed[0][1:3] == ("rejected", "dan")
    assert (amy, "rejected", "amy", "added_signer_rejected") in closed
    cancelled = [
        e for e in result.effects if isinstance(e, TaskClosed) and e.outcome == "cancelled"
    ]
    assert {e.decided_by for e in cancelled} == {"dan"} and len(cancelled) == 2
    assert run.state.status == "rejected"


@pytest.mark.parametrize("command", ["approve", "reject", "return", "transfer", "add"])
def test_edge_7_a_waiting_task_is_refused_every_action(command: str) -> None:
    run = Run(COUNTERSIGN)
    amy = run.task("amy")
    run.add("amy", ["dan"], "before")
    commands = {
        "approve": CompleteTask(amy, "amy", "approve"),
        "reject": CompleteTask(amy, "amy", "reject", "no"),
        "return": ReturnTask(amy, "amy", None, "back"),
        "transfer": TransferTask(amy, "amy", "eve"),
        "add": AddSigners(amy, "amy", ("eve",), "before"),
    }
    assert run.refused(commands[command]) == (409, "waiting_for_added_signers")


def test_edge_7_nobody_else_can_act_on_the_waiting_task() -> None:
    """The hole to test for: a waiting task has no current assignee for anyone to claim."""
    run = Run(SINGLE)
    amy = run.task("amy")
    run.add("amy", ["dan"], "before")
    for who in ("dan", "ben", ""):
        assert run.refused(CompleteTask(amy, who, "approve")) == (403, "not_assignee")


def test_edge_8_an_added_signer_cannot_add_again_at_depth_1() -> None:
    run = Run(SINGLE)
    run.add("amy", ["dan"], "before")
    dan = run.task("dan")
    assert run.refused(AddSigners(dan, "dan", ("eve",), "before")) == (409, "add_sign_too_deep")


def test_nested_add_sign_within_the_configured_depth() -> None:
    """With depth 2, D (added before A) adds E after; E's approval completes D's task,
    which hands A's task back."""
    run = Run(SINGLE)
    amy = run.task("amy")
    run.add("amy", ["dan"], "before", max_depth=2)
    run.add("dan", ["eve"], "after", max_depth=2)
    assert run.state.signs[run.task("dan")].depth == 2
    assert run.refused(AddSigners(run.task("eve"), "eve", ("fay",), "before", max_depth=2)) == (
        409,
        "add_sign_too_deep",
    )
    run.decide("eve")
    assert run.state.signs == {} and not waiting(run.state, amy)
    run.decide("amy")
    assert run.holders("next") == ["ops"]


@pytest.mark.parametrize(
    ("users", "status", "code"),
    [
        (("ben",), 409, "add_sign_already_holder"),  # edge 9: B already holds a task here
        (("amy",), 422, "add_sign_self"),
        ((), 422, "add_signers_required"),
        (tuple(f"u{i}" for i in range(MAX_SIGNERS + 1)), 422, "too_many_signers"),
    ],
)
def test_edge_9_and_the_other_refusals(users: tuple[str, ...], status: int, code: str) -> None:
    run = Run(COUNTERSIGN)
    command = AddSigners(run.task("amy"), "amy", users, "before")
    assert run.refused(command) == (status, code)


def test_refusals_of_bad_position_mode_and_strangers() -> None:
    run = Run(COUNTERSIGN)
    amy = run.task("amy")
    position: Any = "later"
    mode: Any = "most"
    assert run.refused(AddSigners(amy, "amy", ("dan",), position))[1] == "invalid_add_sign_position"
    assert (
        run.refused(AddSigners(amy, "amy", ("dan",), "before", mode))[1] == "invalid_add_sign_mode"
    )
    assert run.refused(AddSigners(amy, "ben", ("dan",), "before")) == (403, "not_assignee")
    run.add("amy", ["dan"], "parallel")
    assert run.refused(AddSigners(amy, "amy", ("eve",), "before")) == (409, "add_sign_pending")
    assert run.refused(ReturnTask(run.task("dan"), "dan", None, "x")) == (
        409,
        "added_signer_cannot_return",
    )


def test_edge_10_a_transferred_signer_task_keeps_its_place() -> None:
    """D transfers their child task to E: E inherits it (same parent, same kind)."""
    run = Run(SINGLE)
    amy = run.task("amy")
    run.add("amy", ["dan"], "before")
    run.do(TransferTask(run.task("dan"), "dan", "eve"))
    eve = run.task("eve")
    assert run.state.signs[amy].children == (eve,)
    run.decide("eve")
    assert not waiting(run.state, amy)


def test_edge_11_removing_every_pending_signer_frees_the_waiting_task() -> None:
    run = Run(SINGLE)
    amy = run.task("amy")
    run.add("amy", ["dan", "eve"], "before")
    dan, eve = run.task("dan"), run.task("eve")
    result = run.do(RemoveSigner(amy, "amy", ("dan",)))
    assert _closed(result) == [(dan, "cancelled", None, "signer_removed")]
    assert waiting(run.state, amy)  # E is still pending
    result = run.do(RemoveSigner(amy, "amy", ("eve",)))
    assert _closed(result) == [(eve, "cancelled", None, "signer_removed")]
    assert not waiting(run.state, amy) and run.state.signs == {}
    run.decide("amy")
    assert run.holders("next") == ["ops"]


def test_edge_11_removing_the_last_signer_of_an_after_completes_the_task() -> None:
    run = Run(SINGLE)
    amy = run.task("amy")
    run.add("amy", ["dan"], "after")
    result = run.do(RemoveSigner(amy, "amy", ("dan",)))
    assert (amy, "approved", "amy", "") in _closed(result)
    assert run.holders("next") == ["ops"]


def test_remove_signer_refusals() -> None:
    run = Run(COUNTERSIGN)
    amy = run.task("amy")
    assert run.refused(RemoveSigner(amy, "amy", ("dan",))) == (409, "no_added_signers")
    run.add("amy", ["dan", "eve"], "before", "sequential")
    assert run.refused(RemoveSigner(amy, "amy", ())) == (422, "remove_signers_required")
    assert run.refused(RemoveSigner(amy, "amy", ("ben",))) == (409, "signer_not_pending")
    run.decide("dan")
    assert run.refused(RemoveSigner(amy, "amy", ("dan",))) == (409, "signer_not_pending")
    assert run.refused(RemoveSigner(run.task("ben"), "ben", ("eve",))) == (409, "no_added_signers")


def test_edge_12_removal_never_leaves_the_node_hanging() -> None:
    """Removing the only pending added signer of an after add-sign when B and C already
    approved: A's held approval counts at once and the node completes."""
    run = Run(COUNTERSIGN)
    run.decide("ben")
    run.decide("cai")
    amy = run.task("amy")
    run.add("amy", ["dan"], "after")
    run.do(RemoveSigner(amy, "amy", ("dan",)))
    assert run.holders("next") == ["ops"]


def test_edge_12_an_admin_removes_a_pending_base_approver_and_the_node_completes() -> None:
    """APPROVALS.md edge case 12 (ADR 0041): A and B approved, C is pending. 减签 is for
    added signers (409 no_added_signers), but an administrator's repair removes C: C's
    task closes cancelled (approver_removed, decided by the admin), the 会签 is decided
    as approved at once with A's and B's approvals, and the next step opens."""
    run = Run(COUNTERSIGN)
    cai = run.task("cai")
    run.decide("amy")
    run.decide("ben")
    assert run.refused(RemoveSigner(cai, "cai", ("cai",))) == (409, "no_added_signers")
    result = remove_approver(run.spec, run.state, cai, "root", {}, run.ctx)
    assert [
        (c.task_id, c.outcome, c.reason, c.decided_by)
        for c in result.effects
        if isinstance(c, TaskClosed)
    ] == [(cai, "cancelled", "approver_removed", "root")]
    (node,) = [e for e in result.effects if isinstance(e, NodeDecided)]
    assert (node.outcome, node.approved, node.required, node.approvers) == ("approved", 2, 2, 2)
    assert [t.node_id for t in result.state.tasks.values()] == ["next"]


def test_edge_12_removing_one_of_two_pending_leaves_the_other_deciding() -> None:
    """With B still pending the removal of C decides nothing: B decides, and B's approval
    completes the node. A removal that leaves a vote unable to reach its count is
    refused."""
    run = Run(COUNTERSIGN)
    cai = run.task("cai")
    run.decide("amy")
    result = remove_approver(run.spec, run.state, cai, "root", {}, run.ctx)
    run.state = result.state
    assert run.holders() == ["ben"]
    run.decide("ben")
    assert run.holders("next") == ["ops"]
    vote = Run(VOTE)  # 2 of amy, ben, cai: without two of them it cannot pass
    vote.state = remove_approver(
        vote.spec, vote.state, vote.task("cai"), "root", {}, vote.ctx
    ).state
    with pytest.raises(FlowdeskError) as few:
        remove_approver(vote.spec, vote.state, vote.task("ben"), "root", {}, vote.ctx)
    assert (few.value.status, few.value.code) == (409, "too_few_approvers")


def test_edge_13_parallel_on_a_vote_keeps_the_threshold() -> None:
    """并加签 on a vote of 3 needing 2: E's approval is not a vote, the count stays 2 of 3;
    A's vote counts once E approved too."""
    run = Run(VOTE)
    run.add("amy", ["eve"], "parallel")
    run.decide("eve")
    activation = next(iter(run.state.activations.values()))
    assert (activation.required, len(activation.approvers), activation.approved) == (2, 3, ())
    run.decide("amy")
    run.decide("ben")
    assert run.holders("next") == ["ops"]


def test_parallel_the_holder_approving_first_waits_for_the_signers() -> None:
    run = Run(COUNTERSIGN)
    amy = run.task("amy")
    run.add("amy", ["dan"], "parallel")
    assert not waiting(run.state, amy)
    held = run.decide("amy").effects  # held: it counts once D approved
    assert held == (ApprovalHeld(amy, "review", "amy", ""),)
    assert waiting(run.state, amy)
    run.decide("ben")
    run.decide("cai")
    assert run.holders("next") == []
    run.decide("dan")
    assert run.holders("next") == ["ops"]


def test_parallel_the_holder_rejecting_cancels_the_signers() -> None:
    run = Run(VOTE)
    run.add("amy", ["dan"], "parallel")
    dan = run.task("dan")
    result = run.decide("amy", "reject")
    assert (dan, "cancelled", None, "node_decided") in _closed(result)
    assert run.state.signs == {} and sorted(run.holders()) == ["ben", "cai"]


def test_edge_14_or_sign_decided_by_another_cancels_the_chain() -> None:
    """Or-sign A, B; A added D before; B approves first: the node completes, A's waiting
    task and D's task are CANCELLED."""
    run = Run(OR_SIGN)
    amy = run.task("amy")
    run.add("amy", ["dan"], "before")
    dan = run.task("dan")
    result = run.decide("ben")
    closed = _closed(result)
    assert (amy, "cancelled", None, "node_decided") in closed
    assert (dan, "cancelled", None, "node_decided") in closed
    assert run.state.signs == {} and run.holders("next") == ["ops"]


@pytest.mark.parametrize(
    ("mode", "decisions", "done"),
    [
        ("any", [("dan", "approve")], True),
        ("all", [("dan", "approve")], False),
        ("all", [("dan", "approve"), ("eve", "approve")], True),
        ("any", [("eve", "reject")], True),
        ("all", [("eve", "reject")], True),
    ],
)
def test_group_modes_among_the_added_signers(
    mode: str, decisions: list[tuple[str, str]], done: bool
) -> None:
    run = Run(SINGLE)
    amy = run.task("amy")
    run.add("amy", ["dan", "eve"], "before", mode)
    for who, outcome in decisions:
        run.decide(who, outcome)
    assert waiting(run.state, amy) is not done
    if done:
        assert run.holders() == ["amy"]  # the other signer's task closed with the group


def test_sequential_group_opens_one_signer_at_a_time() -> None:
    run = Run(SINGLE)
    amy = run.task("amy")
    result = run.add("amy", ["dan", "eve"], "before", "sequential")
    assert [e.assignees for e in result.effects if isinstance(e, TaskOpened)] == [("dan",)]
    run.decide("dan")
    assert sorted(run.holders()) == ["amy", "eve"] and waiting(run.state, amy)
    run.decide("eve")
    assert not waiting(run.state, amy)


def test_a_before_rejection_hands_the_decision_back() -> None:
    """Before: whatever the signers decide, the holder decides after them."""
    run = Run(SINGLE)
    amy = run.task("amy")
    run.add("amy", ["dan"], "before")
    run.decide("dan", "reject")
    assert not waiting(run.state, amy) and run.state.status == "running"


def test_a_return_sweeps_the_chain() -> None:
    run = Run(COUNTERSIGN)
    run.add("amy", ["dan"], "parallel")
    run.do(ReturnTask(run.task("ben"), "ben", None, "fix it"))
    assert run.state.signs == {} and run.holders() == []


def test_documents_without_signs_still_load() -> None:
    run = Run(SINGLE)
    document = dump_state(run.state)
    assert "signs" not in document
    assert load_state(document) == run.state
    run.add("amy", ["dan"], "before")
    assert "signs" in dump_state(run.state)


def test_approvals_inside_a_chain_cannot_be_withdrawn() -> None:
    """The signer's approval is not in the node's tally and the holder's counts through
    the chain: neither is kept as a withdrawable decision (撤回, ADR 0019)."""
    run = Run(COUNTERSIGN)
    run.add("amy", ["dan"], "parallel")
    run.decide("amy")  # held
    assert "amy" not in run.state.decisions
    run.decide("dan")
    assert "dan" not in run.state.decisions and "amy" not in run.state.decisions
    run.decide("ben")  # an approval outside the chain stays withdrawable
    assert "ben" in run.state.decisions


SPECS = {"all": COUNTERSIGN, "any": OR_SIGN, "single": SINGLE, "vote": VOTE}
POOL = ("dan", "eve", "fay", "gus", "hal")


def _invariants(state: InstanceState) -> None:
    if state.status != "running":
        assert not state.tasks and not state.signs
        return
    for task in state.tasks.values():
        assert task.activation_id in state.activations  # no orphan task
    for activation in state.activations.values():
        assert set(activation.approved) <= set(activation.approvers)  # signers never count
        assert set(activation.rejected) <= set(activation.approvers)
    children = [child for sign in state.signs.values() for child in sign.children]
    assert len(children) == len(set(children))
    for parent, sign in state.signs.items():
        assert parent in state.tasks and sign.children
        for child in sign.children:
            assert state.tasks[child].activation_id == state.tasks[parent].activation_id


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(sorted(SPECS)),
    moves=st.lists(
        st.tuples(
            st.integers(0, 20),
            st.sampled_from(
                ["approve", "reject", "before", "after", "parallel", "remove", "transfer", "cancel"]
            ),
            st.lists(st.sampled_from(POOL), min_size=1, max_size=3),
            st.sampled_from(["any", "all", "sequential"]),
        ),
        max_size=12,
    ),
)
def test_random_add_signs_keep_the_state_sound(
    kind: str, moves: list[tuple[int, str, list[str], str]]
) -> None:
    """Random approvals, rejections, add-signs, removals and transfers: after every step no task is
    orphaned, no chain points at a closed task, signers never enter a node's tally, and a
    refused command changes nothing."""
    run = Run(SPECS[kind])
    for pick, action, users, mode in moves:
        tasks = list(run.state.tasks.values())
        if run.state.status != "running" or not tasks:
            break
        task = tasks[pick % len(tasks)]
        actor = task.assignees[0]
        command: Any
        if action in ("approve", "reject"):
            command = CompleteTask(task.task_id, actor, action)  # type: ignore[arg-type]
        elif action == "remove":
            command = RemoveSigner(task.task_id, actor, tuple(users))
        elif action == "transfer":
            command = TransferTask(task.task_id, actor, users[0])
        elif action == "cancel":  # the applicant's 撤销 ends it all
            command = CancelInstance("alice")
        else:
            command = AddSigners(task.task_id, actor, tuple(users), action, mode, max_depth=2)  # type: ignore[arg-type]
        before = dump_state(run.state)
        try:
            run.do(command)
        except FlowdeskError:
            assert dump_state(run.state) == before
            continue
        _invariants(run.state)


def test_a_transfer_to_an_added_signer_of_the_step_is_refused() -> None:
    run = Run(COUNTERSIGN)
    run.add("amy", ["dan"], "parallel")
    assert run.refused(TransferTask(run.task("amy"), "amy", "dan")) == (409, "already_approver")
    assert run.refused(TransferTask(run.task("ben"), "ben", "dan")) == (409, "already_approver")
    run.do(TransferTask(run.task("amy"), "amy", "eve"))  # the chain moves with the task
    eve = run.task("eve")
    assert run.state.signs[eve].by == "eve"
    run.do(RemoveSigner(eve, "eve", ("dan",)))
    assert run.state.signs == {}


def test_a_node_sets_its_own_depth() -> None:
    data = SINGLE.to_dict()
    nodes: Any = data["nodes"]
    nodes[1]["add_sign_depth"] = 2
    spec = parse_process(data)
    assert spec.nodes["review"].add_sign_depth == 2 and parse_process(spec.to_dict()) == spec
    run = Run(spec)
    run.add("amy", ["dan"], "before")  # the command's depth (1) gives way to the node's
    run.add("dan", ["eve"], "before")
    assert run.refused(AddSigners(run.task("eve"), "eve", ("fay",), "before")) == (
        409,
        "add_sign_too_deep",
    )


@pytest.mark.parametrize("depth", [0, 6, "2", True])
def test_a_bad_node_depth_is_refused_at_parse(depth: object) -> None:
    data = SINGLE.to_dict()
    nodes: Any = data["nodes"]
    nodes[1]["add_sign_depth"] = depth
    with pytest.raises(DefinitionInvalid) as refused:
        parse_process(data)
    assert [e.path for e in refused.value.errors] == ["process.nodes[1].add_sign_depth"]


SEQUENCE = _spec({"mode": "sequential"}, ("amy", "ben"))


def test_in_a_sequence_the_next_approver_comes_after_the_chain() -> None:
    """依次 A → B: A adds D after; B's task opens only once D approved (A's approval
    counting then), and D never becomes one of the sequence's approvers."""
    run = Run(SEQUENCE)
    run.add("amy", ["dan"], "after")
    assert sorted(run.holders()) == ["amy", "dan"]
    run.decide("dan")
    assert run.holders() == ["ben"]
    activation = next(iter(run.state.activations.values()))
    assert (activation.approvers, activation.approved) == (("amy", "ben"), ("amy",))


def test_on_a_vote_a_signers_rejection_is_one_rejection() -> None:
    """Vote of 3 needing 2: A's after-signer D rejects, which is A's one rejection; the
    vote can still pass with B and C."""
    run = Run(VOTE)
    run.add("amy", ["dan"], "after")
    run.decide("dan", "reject")
    activation = next(iter(run.state.activations.values()))
    assert (activation.rejected, run.state.status) == (("amy",), "running")
    run.decide("ben")
    run.decide("cai")
    assert run.holders("next") == ["ops"]


def test_the_node_depth_goes_through_bpmn_and_back() -> None:
    """Written as a flowdesk:option like every setting BPMN has no element for."""
    data = SINGLE.to_dict()
    nodes: Any = data["nodes"]
    nodes[1]["add_sign_depth"] = 3
    spec = parse_process(data)
    xml = write_bpmn(spec, process_id="app", name={"en": "An app", "zh": "应用"})
    assert read_bpmn(xml).spec() == spec
