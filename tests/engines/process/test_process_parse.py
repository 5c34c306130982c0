"""parse_process: every problem in a definition is reported at once, with its path and code."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowdesk.engines.process import AssigneeRule, Node, ProcessSpec, parse_process
from flowdesk.kernel.errors import DefinitionInvalid

SCENARIOS = Path(__file__).parent / "scenarios"
LOAN: dict[str, Any] = yaml.safe_load((SCENARIOS / "processes" / "loan.yaml").read_text("utf-8"))
# loan nodes: 0 start, 1 amount_check, 2 branch_review, 3 split, 4 legal_review,
# 5 finance_review, 6 join, 7 committee, 8 merge, 9 disburse, 10 end
# loan flows: 0 start>amount_check, 1 amount_check>branch_review (condition),
# 2 amount_check>split (default), 3 branch_review>merge, 4 split>legal,
# 5 split>finance, 6 legal>join, 7 finance>join, 8 join>committee,
# 9 committee>merge, 10 merge>disburse, 11 disburse>end


def loan() -> dict[str, Any]:
    return copy.deepcopy(LOAN)


def problems(data: Any) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionInvalid) as caught:
        parse_process(data)
    assert caught.value.code == "definition_invalid"
    assert caught.value.status == 422
    return [(error.path, error.code) for error in caught.value.errors]


def problems_yaml(text: str) -> list[tuple[str, str]]:
    return problems(yaml.safe_load(text))


# --- valid definitions -------------------------------------------------------


def test_loan_parses_with_indexes() -> None:
    spec = parse_process(LOAN)
    assert list(spec.nodes) == [node["id"] for node in LOAN["nodes"]]
    assert spec.start.id == "start"
    assert [flow.target for flow in spec.outgoing("split")] == ["legal_review", "finance_review"]
    assert [flow.source for flow in spec.incoming("merge")] == ["branch_review", "committee"]
    assert spec.is_join("join") and not spec.is_join("split")
    assert spec.is_split("split") and not spec.is_split("join")
    assert [node.id for node in spec.user_tasks()] == [
        "branch_review",
        "legal_review",
        "finance_review",
        "committee",
        "disburse",
    ]
    assert spec.flows[0].id == "start->amount_check"
    assert spec.nodes["branch_review"].assignee == AssigneeRule(kind="applicant_manager")
    assert spec.nodes["legal_review"].label("zh") == "法务审核"
    assert spec.nodes["split"].label("zh") == "split"  # no name: the id


def test_label_falls_back_to_english() -> None:
    assert Node("n", "user_task", {"en": "Review"}).label("zh") == "Review"


def test_conditions_are_listed_with_their_paths() -> None:
    assert parse_process(LOAN).conditions() == [("process.flows[1].condition", "amount <= 50000")]
    assert parse_process(LOAN, path="apps.loan.process").conditions("apps.loan.process") == [
        ("apps.loan.process.flows[1].condition", "amount <= 50000")
    ]


def _definitions() -> list[tuple[str, dict[str, Any]]]:
    """Every process definition under scenarios/, shared or inline."""
    found = [
        (path.stem, yaml.safe_load(path.read_text("utf-8")))
        for path in sorted((SCENARIOS / "processes").glob("*.yaml"))
    ]
    for path in sorted(SCENARIOS.glob("*.yaml")):
        process = yaml.safe_load(path.read_text("utf-8"))["process"]
        if isinstance(process, dict):
            found.append((path.stem, process))
    return found


@pytest.mark.parametrize(("name", "data"), _definitions(), ids=[n for n, _ in _definitions()])
def test_to_dict_round_trips(name: str, data: dict[str, Any]) -> None:
    spec = parse_process(data)
    again = parse_process(spec.to_dict())
    assert again == spec, name
    assert again.to_dict() == spec.to_dict()


def test_round_trip_keeps_explicit_flow_ids_levels_and_names() -> None:
    data = loan()
    data["flows"][0]["id"] = "f_start"
    data["nodes"][2]["assignee"]["level"] = 3
    spec = parse_process(data)
    exported = spec.to_dict()
    assert exported["flows"][0] == {"id": "f_start", "from": "start", "to": "amount_check"}
    assert exported["nodes"][2]["assignee"] == {"kind": "applicant_manager", "level": 3}
    assert exported["nodes"][1]["name"] == {"en": "Amount check", "zh": "金额判断"}
    assert parse_process(exported) == spec
    assert isinstance(spec, ProcessSpec) and hash(spec) == hash(parse_process(exported))


def test_assignee_kinds_parse() -> None:
    data = loan()
    data["nodes"][2]["assignee"] = {"kind": "applicant_department_head"}
    data["nodes"][7]["assignee"] = {"kind": "applicant_manager", "level": 5}
    spec = parse_process(data)
    assert spec.nodes["branch_review"].assignee == AssigneeRule("applicant_department_head")
    assert spec.nodes["committee"].assignee == AssigneeRule("applicant_manager", level=5)
    assert spec.nodes["disburse"].assignee == AssigneeRule("user", user="ops01")


def test_merging_exclusive_gateway_needs_no_condition() -> None:
    # loan's "merge" has two incoming flows and one unconditioned exit
    assert parse_process(LOAN).flows[10].condition is None


def test_single_conditioned_exit_is_allowed() -> None:
    parse_process(
        yaml.safe_load("""
        nodes: [{id: s, type: start}, {id: g, type: exclusive_gateway}, {id: e, type: end}]
        flows: [{from: s, to: g}, {from: g, to: e, condition: "ok"}]
    """)
    )


# --- shape ------------------------------------------------------------------


def test_not_a_mapping() -> None:
    assert problems(["nodes"]) == [("process", "wrong_type")]


def test_missing_and_unknown_top_level_keys() -> None:
    assert problems({"lanes": []}) == [
        ("process.lanes", "unknown_key"),
        ("process.nodes", "required"),
        ("process.flows", "required"),
        ("process.nodes", "no_start"),
        ("process.nodes", "no_end"),
    ]


def test_nodes_and_flows_must_be_lists() -> None:
    assert problems({"nodes": "start", "flows": {}})[:2] == [
        ("process.nodes", "wrong_type"),
        ("process.flows", "wrong_type"),
    ]


def test_node_shape_problems() -> None:
    data = loan()
    data["nodes"][1]["color"] = "red"
    data["nodes"][3] = "split"
    data["nodes"][9]["id"] = "committee"
    del data["nodes"][8]["id"]
    data["nodes"][6]["type"] = "complex_gateway"
    found = problems(data)
    assert ("process.nodes[1].color", "unknown_key") in found
    assert ("process.nodes[3]", "wrong_type") in found
    assert ("process.nodes[9].id", "duplicate_id") in found
    assert ("process.nodes[8].id", "required") in found
    assert ("process.nodes[6].type", "unknown_node_type") in found


@pytest.mark.parametrize("bad_id", ["1st", "a b", "", "x" * 101, 7])
def test_invalid_node_ids(bad_id: object) -> None:
    data = loan()
    data["nodes"][3]["id"] = bad_id
    code = "wrong_type" if bad_id in ("", 7) else "invalid_id"
    assert ("process.nodes[3].id", code) in problems(data)


def test_unicode_node_ids_are_fine() -> None:
    data = loan()
    data["nodes"][9]["id"] = "放款"
    data["flows"][10]["to"] = "放款"
    data["flows"][11]["from"] = "放款"
    assert "放款" in parse_process(data).nodes


def test_missing_type() -> None:
    data = loan()
    del data["nodes"][3]["type"]
    assert ("process.nodes[3].type", "required") in problems(data)


def test_name_problems() -> None:
    data = loan()
    data["nodes"][1]["name"] = {"en": "Amount", "fr": "Montant", "zh": ""}
    data["nodes"][2]["name"] = "Branch review"
    assert problems(data) == [
        ("process.nodes[1].name.fr", "unknown_locale"),
        ("process.nodes[1].name.zh", "wrong_type"),
        ("process.nodes[2].name", "wrong_type"),
    ]


def test_flow_shape_problems() -> None:
    data = loan()
    data["flows"][0]["label"] = "go"
    del data["flows"][3]["from"]
    data["flows"][4]["to"] = "nowhere"
    data["flows"][1]["condition"] = "  "
    data["flows"][2]["default"] = "yes"
    data["flows"][5] = ["split", "finance_review"]
    found = problems(data)
    assert ("process.flows[0].label", "unknown_key") in found
    assert ("process.flows[3].from", "required") in found
    assert ("process.flows[4].to", "unknown_node") in found
    assert ("process.flows[1].condition", "wrong_type") in found
    assert ("process.flows[2].default", "wrong_type") in found
    assert ("process.flows[5]", "wrong_type") in found


def test_duplicate_flow_ids() -> None:
    data = loan()
    data["flows"][0]["id"] = "f1"
    data["flows"][11]["id"] = "f1"
    data["flows"].append({"from": "join", "to": "committee"})
    found = problems(data)
    assert ("process.flows[11].id", "duplicate_id") in found
    assert ("process.flows[12]", "duplicate_id") in found


# --- assignees ----------------------------------------------------------------


def test_user_task_needs_an_assignee() -> None:
    data = loan()
    del data["nodes"][2]["assignee"]
    assert problems(data) == [("process.nodes[2].assignee", "required")]


def test_only_user_tasks_have_assignees() -> None:
    data = loan()
    data["nodes"][3]["assignee"] = {"kind": "role", "role": "x"}
    assert problems(data) == [("process.nodes[3].assignee", "assignee_not_allowed")]


@pytest.mark.parametrize(
    ("assignee", "expected"),
    [
        ("bob", [("process.nodes[5].assignee", "wrong_type")]),
        ({}, [("process.nodes[5].assignee.kind", "required")]),
        ({"kind": "group"}, [("process.nodes[5].assignee.kind", "unknown_assignee_kind")]),
        ({"kind": "role"}, [("process.nodes[5].assignee.role", "required")]),
        ({"kind": "role", "role": ""}, [("process.nodes[5].assignee.role", "wrong_type")]),
        (
            {"kind": "role", "role": "r", "department": "legal"},
            [("process.nodes[5].assignee.department", "unknown_key")],
        ),
        ({"kind": "user"}, [("process.nodes[5].assignee.user", "required")]),
        ({"kind": "department_head"}, [("process.nodes[5].assignee.department", "required")]),
        (
            {"kind": "applicant_department_head", "level": 2},
            [("process.nodes[5].assignee.level", "unknown_key")],
        ),
        (
            {"kind": "applicant_manager", "level": 0},
            [("process.nodes[5].assignee.level", "invalid_level")],
        ),
        (
            {"kind": "applicant_manager", "level": 6},
            [("process.nodes[5].assignee.level", "invalid_level")],
        ),
        (
            {"kind": "applicant_manager", "level": "2"},
            [("process.nodes[5].assignee.level", "invalid_level")],
        ),
        (
            {"kind": "applicant_manager", "level": True},
            [("process.nodes[5].assignee.level", "invalid_level")],
        ),
    ],
)
def test_bad_assignees(assignee: object, expected: list[tuple[str, str]]) -> None:
    data = loan()
    data["nodes"][5]["assignee"] = assignee
    assert problems(data) == expected


# --- graph structure ----------------------------------------------------------


def test_no_start_and_no_end() -> None:
    found = problems_yaml("""
        nodes: [{id: a, type: user_task, assignee: {kind: user, user: u}}]
        flows: []
    """)
    assert ("process.nodes", "no_start") in found
    assert ("process.nodes", "no_end") in found


def test_two_starts() -> None:
    data = loan()
    data["nodes"].append({"id": "start2", "type": "start"})
    data["flows"].append({"from": "start2", "to": "disburse"})
    assert problems(data) == [("process.nodes[11].type", "multiple_starts")]


def test_start_with_incoming_and_end_with_outgoing() -> None:
    data = loan()
    data["flows"].append({"from": "end", "to": "start"})
    assert problems(data) == [
        ("process.flows[12].to", "start_has_incoming"),
        ("process.flows[12].from", "end_has_outgoing"),
    ]


def test_user_task_with_two_outgoing_flows() -> None:
    data = loan()
    data["flows"].append({"from": "legal_review", "to": "committee"})
    assert ("process.nodes[4]", "too_many_outgoing") in problems(data)


def test_start_with_two_outgoing_flows() -> None:
    data = loan()
    data["flows"].append({"from": "start", "to": "split"})
    assert problems(data) == [("process.nodes[0]", "too_many_outgoing")]


def test_node_without_outgoing_flow() -> None:
    data = loan()
    del data["flows"][11]  # disburse -> end
    found = problems(data)
    assert ("process.nodes[9]", "no_outgoing") in found
    assert ("process.nodes[10]", "unreachable") in found


def test_exclusive_exits_need_conditions() -> None:
    data = loan()
    del data["flows"][2]["default"]
    assert problems(data) == [("process.flows[2]", "condition_required")]


def test_two_defaults_and_default_with_condition() -> None:
    data = loan()
    data["flows"][1]["default"] = True
    assert problems(data) == [
        ("process.flows[1].condition", "default_with_condition"),
        ("process.flows[2].default", "multiple_defaults"),
    ]


def test_conditions_only_leave_exclusive_gateways() -> None:
    data = loan()
    data["flows"][4]["condition"] = "amount > 0"
    data["flows"][11]["default"] = True
    assert problems(data) == [
        ("process.flows[4].condition", "condition_not_allowed"),
        ("process.flows[11].default", "default_not_allowed"),
    ]


def test_unreachable_node() -> None:
    data = loan()
    data["nodes"].append(
        {"id": "orphan", "type": "user_task", "assignee": {"kind": "user", "user": "u"}}
    )
    data["flows"].append({"from": "orphan", "to": "end"})
    assert problems(data) == [("process.nodes[11]", "unreachable")]


def test_node_that_cannot_reach_an_end() -> None:
    found = problems_yaml("""
        nodes:
          - {id: s, type: start}
          - {id: g, type: exclusive_gateway}
          - {id: a, type: user_task, assignee: {kind: user, user: u}}
          - {id: b, type: user_task, assignee: {kind: user, user: u}}
          - {id: e, type: end}
        flows:
          - {from: s, to: g}
          - {from: g, to: e, condition: done}
          - {from: g, to: a, default: true}
          - {from: a, to: b}
          - {from: b, to: a}
    """)
    assert found == [
        ("process.nodes[2]", "cannot_reach_end"),
        ("process.nodes[3]", "cannot_reach_end"),
    ]


def test_loop_of_gateways_only() -> None:
    found = problems_yaml("""
        nodes:
          - {id: s, type: start}
          - {id: g1, type: exclusive_gateway}
          - {id: g2, type: exclusive_gateway}
          - {id: e, type: end}
        flows:
          - {from: s, to: g1}
          - {from: g1, to: g2}
          - {from: g2, to: g1, condition: again}
          - {from: g2, to: e, default: true}
    """)
    assert found == [("process.nodes[1]", "automatic_cycle")]


def test_loop_through_a_user_task_is_fine() -> None:
    parse_process(yaml.safe_load((SCENARIOS / "rework_loop.yaml").read_text("utf-8"))["process"])


# --- parallel balance -----------------------------------------------------------


def test_join_with_more_incoming_flows_than_branches() -> None:
    data = loan()
    # a third way into the join, from the small-loan branch: small loans never pass it
    data["flows"][3] = {"from": "branch_review", "to": "join"}
    data["flows"].append({"from": "merge", "to": "disburse"})
    data["flows"][10] = {"from": "committee", "to": "merge"}
    data["flows"][9] = {"id": "c2", "from": "join", "to": "committee"}
    data["flows"].pop(8)
    found = problems(data)
    assert found == [("process.nodes[6]", "join_unbalanced")]


def test_exclusive_alternatives_into_a_parallel_join() -> None:
    found = problems_yaml("""
        nodes:
          - {id: s, type: start}
          - {id: g, type: exclusive_gateway}
          - {id: a, type: user_task, assignee: {kind: user, user: u}}
          - {id: b, type: user_task, assignee: {kind: user, user: u}}
          - {id: j, type: parallel_gateway}
          - {id: e, type: end}
        flows:
          - {from: s, to: g}
          - {from: g, to: a, condition: small}
          - {from: g, to: b, default: true}
          - {from: a, to: j}
          - {from: b, to: j}
          - {from: j, to: e}
    """)
    assert found == [("process.nodes[4]", "join_unbalanced")]


def test_message_names_the_missing_flow() -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        parse_process(
            yaml.safe_load("""
            nodes:
              - {id: s, type: start}
              - {id: p, type: parallel_gateway}
              - {id: a, type: user_task, assignee: {kind: user, user: u}}
              - {id: j, type: parallel_gateway}
              - {id: x, type: user_task, assignee: {kind: user, user: u}}
              - {id: e, type: end}
            flows:
              - {from: s, to: p}
              - {from: p, to: a}
              - {from: p, to: e}
              - {from: a, to: j}
              - {from: x, to: j}
              - {from: j, to: e}
        """)
        )
    # x is unreachable, so the structural check reports that first
    assert [(e.path, e.code) for e in caught.value.errors] == [("process.nodes[4]", "unreachable")]


def test_parallel_branches_meeting_at_a_user_task() -> None:
    found = problems_yaml("""
        nodes:
          - {id: s, type: start}
          - {id: p, type: parallel_gateway}
          - {id: a, type: user_task, assignee: {kind: user, user: u}}
          - {id: b, type: user_task, assignee: {kind: user, user: u}}
          - {id: c, type: user_task, assignee: {kind: user, user: u}}
          - {id: e, type: end}
        flows:
          - {from: s, to: p}
          - {from: p, to: a}
          - {from: p, to: b}
          - {from: a, to: c}
          - {from: b, to: c}
          - {from: c, to: e}
    """)
    assert found == [("process.nodes[4]", "parallel_tokens_merge")]


def test_split_with_three_branches_into_a_join_of_two() -> None:
    found = problems_yaml("""
        nodes:
          - {id: s, type: start}
          - {id: p, type: parallel_gateway}
          - {id: a, type: user_task, assignee: {kind: user, user: u}}
          - {id: b, type: user_task, assignee: {kind: user, user: u}}
          - {id: c, type: user_task, assignee: {kind: user, user: u}}
          - {id: m, type: exclusive_gateway}
          - {id: j, type: parallel_gateway}
          - {id: e, type: end}
        flows:
          - {from: s, to: p}
          - {from: p, to: a}
          - {from: p, to: b}
          - {from: p, to: c}
          - {from: a, to: j}
          - {from: b, to: m}
          - {from: c, to: m}
          - {from: m, to: j}
          - {from: j, to: e}
    """)
    # some runs bring two tokens through m->j, others leave j waiting for a->j
    assert found == [
        ("process.nodes[6]", "join_unbalanced"),
        ("process.nodes[6]", "parallel_tokens_merge"),
    ]


def test_branch_ending_separately_is_balanced() -> None:
    data = yaml.safe_load((SCENARIOS / "parallel_branch_ends_early.yaml").read_text("utf-8"))
    parse_process(data["process"])


def test_all_problems_are_reported_together() -> None:
    data = loan()
    data["nodes"][0]["type"] = "begin"
    data["nodes"][7]["assignee"] = {"kind": "role"}
    data["flows"][5]["to"] = "nowhere"
    found = problems(data)
    assert found[:3] == [
        ("process.nodes[0].type", "unknown_node_type"),
        ("process.nodes[7].assignee.role", "required"),
        ("process.flows[5].to", "unknown_node"),
    ]
    assert ("process.nodes", "no_start") in found


def test_custom_path_prefix() -> None:
    data = loan()
    data["nodes"][3]["id"] = "1split"
    with pytest.raises(DefinitionInvalid) as caught:
        parse_process(data, path="apps[0].process")
    assert caught.value.errors[0].path == "apps[0].process.nodes[3].id"
