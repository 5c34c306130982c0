"""read_bpmn: files drawn in each modeler's style import, every unsupported element is
refused by its id, and hostile files are refused with a clear error, never a crash."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowdesk.engines.process import AssigneeRule, ProcessSpec, parse_process
from flowdesk.engines.process.bpmn import MAX_BPMN_BYTES, read_bpmn
from flowdesk.engines.process.bpmn.conditions import convert
from flowdesk.kernel.errors import DefinitionInvalid

FILES = Path(__file__).parent / "bpmn_files"
HOSTILE = FILES / "hostile"
LOAN_BPMN = Path("/work/shared/peers/loan.bpmn")
MODEL = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def text(name: str) -> str:
    return (FILES / name).read_text("utf-8")


def refused(data: str | bytes, **options: object) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionInvalid) as caught:
        imported = read_bpmn(data, **options)  # type: ignore[arg-type]
        imported.spec()
    assert caught.value.status == 422
    return [(error.path, error.code) for error in caught.value.errors]


def codes(warnings: object) -> set[tuple[str, str]]:
    return {(w.path, w.code) for w in warnings}  # type: ignore[attr-defined]


def minimal(body: str, extra_ns: str = "") -> str:
    return (
        f'<definitions xmlns="{MODEL}" xmlns:flowdesk="https://flowdesk.dev/schema/bpmn" '
        f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" {extra_ns} id="d">'
        f'<process id="p" isExecutable="true">{body}</process></definitions>'
    )


CHAIN = (
    '<startEvent id="s"/><userTask id="t" name="Review">{task}</userTask><endEvent id="e"/>'
    '<sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
    '<sequenceFlow id="f2" sourceRef="t" targetRef="e"/>'
)


def chain(task: str = "", extra_ns: str = "", attrs: str = "") -> str:
    body = CHAIN.format(task=task).replace('name="Review"', f'name="Review" {attrs}')
    return minimal(body, extra_ns)


# --- the modelers' corpus -------------------------------------------------------------


def test_loan_bpmn_from_the_peers_imports_unchanged() -> None:
    imported = read_bpmn(LOAN_BPMN.read_bytes())
    spec = imported.spec()
    assert [node.type for node in spec.nodes.values()].count("user_task") == 6
    assert spec.conditions() == [
        ("process.flows[2].condition", "amount <= 50000"),
        ("process.flows[3].condition", "amount > 50000"),
    ]
    assert spec.is_join("Gateway_Join") and spec.is_split("Gateway_Split")
    assert spec.nodes["Task_LegalReview"].name == {"en": "Legal review"}
    # no assignee in the file: each task says so, none is silently assigned
    assert {w.path for w in imported.warnings if w.code == "default_assignee"} == {
        f"bpmn[{task.id}]" for task in spec.user_tasks()
    }
    assert len(imported.diagram.shapes) == 12 and len(imported.diagram.edges) == 13
    assert imported.diagram.shapes["Task_Apply"] == (240, 190, 100, 80)


def test_bpmn_io_file_with_flowdesk_extension_and_diagram() -> None:
    imported = read_bpmn(text("bpmn_io.bpmn"))
    spec = imported.spec()
    manager = spec.nodes["Activity_Manager"]
    assert manager.name == {"en": "Manager approval", "zh": "部门经理审批"}
    assert manager.assignee == AssigneeRule("applicant_manager")
    assert manager.editable == ("purpose",)
    assert spec.nodes["Activity_Committee"].assignee == AssigneeRule(
        "role", role="credit_committee"
    )
    assert spec.nodes["StartEvent_1"].name == {"zh": "提交申请"}
    flows = {flow.id: flow for flow in spec.flows}
    assert flows["Flow_Large"].condition == "amount > 50000"
    assert flows["Flow_Small"].default and flows["Flow_Small"].condition is None
    assert imported.warnings == ()  # nothing in it that flowdesk does not use
    assert imported.diagram.shapes["Event_End"] == (692.5, 99, 36, 36)


def test_camunda7_attributes_map_when_plain_and_are_warned_about_otherwise() -> None:
    imported = read_bpmn(text("camunda7.bpmn"))
    spec = imported.spec()
    assert spec.nodes["Task_Analyst"].assignee == AssigneeRule("user", user="li.na")
    assert spec.nodes["Task_Risk"].assignee == AssigneeRule("role", role="risk_officer")
    # two candidate groups are not one rule: warned, then the fallback
    assert spec.nodes["Task_Archive"].assignee == AssigneeRule("applicant_manager")
    assert {
        ("bpmn[Task_Analyst]", "vendor_assignee_mapped"),
        ("bpmn[Task_Risk]", "vendor_assignee_mapped"),
        ("bpmn[Task_Archive]", "vendor_assignee_ignored"),
        ("bpmn[Task_Archive]", "default_assignee"),
        ("bpmn[Task_Analyst]", "vendor_extension_ignored"),
        ("bpmn[Start]", "vendor_extension_ignored"),
        ("bpmn[credit_check]", "vendor_extension_ignored"),  # camunda:historyTimeToLive
        ("bpmn[Flow_Risky].conditionExpression", "condition_dialect"),
    } == codes(imported.warnings)
    analyst = next(
        w for w in imported.warnings if w.path == "bpmn[Task_Analyst]" and "Ignored" in w.message
    )
    for name in (
        "camunda:formKey",
        "camunda:asyncBefore",
        "camunda:taskListener",
        "camunda:properties",
    ):
        assert name in analyst.message
    # JUEL: the ${...} wrapper is removed and `gt` spelled as `>`; CDATA is plain text
    assert {f.id: f.condition for f in spec.flows}["Flow_Risky"] == (
        "amount > 50000 && credit_rating != 'A'"
    )


def test_camunda8_zeebe_assignment_and_feel_conditions() -> None:
    imported = read_bpmn(text("camunda8.bpmn"))
    spec = imported.spec()
    assert spec.nodes["Task_Ops"].assignee == AssigneeRule("role", role="operations")
    assert spec.nodes["Task_Head"].assignee == AssigneeRule("user", user="wang.fang")
    assert ("bpmn[Task_Owner]", "vendor_assignee_ignored") in codes(imported.warnings)  # =FEEL
    assert {f.id: f.condition for f in spec.flows}["Flow_yes"] == (
        'amount >= 200000 and region = "north"'
    )
    assert imported.diagram.shapes == {}  # no BPMNDI in the file: nothing invented here


def test_signavio_collaboration_lanes_and_standard_performers() -> None:
    imported = read_bpmn(text("signavio.bpmn"))
    spec = imported.spec()
    assert imported.process_id == "sid-process-bank"
    assert spec.nodes["sid-task-kyc"].assignee == AssigneeRule("role", role="teller")
    assert spec.nodes["sid-task-aml"].assignee == AssigneeRule("user", user="zhao.lei")
    found = codes(imported.warnings)
    assert ("bpmn[sid-msg-1]", "message_flow_ignored") in found
    assert ("bpmn[sid-task-kyc]", "vendor_extension_ignored") in found  # signavio metadata
    # the diagram is the collaboration's plane; the pool's shape is not a node
    assert set(imported.diagram.shapes) == {"sid-start", "sid-task-kyc", "sid-task-aml", "sid-end"}


def test_flowable_default_namespace_juel_words_and_candidates() -> None:
    imported = read_bpmn((FILES / "flowable.bpmn20.xml").read_bytes())
    spec = imported.spec()
    assert spec.nodes["sid-HR"].assignee == AssigneeRule("role", role="hr")
    assert spec.nodes["sid-Director"].assignee == AssigneeRule("user", user="sun.li")
    assert ("bpmn[sid-Leader]", "vendor_assignee_ignored") in codes(imported.warnings)
    assert spec.nodes["sid-Leader"].name == {"zh": "组长审批"}
    conditions = {f.id: f.condition for f in spec.flows}
    assert conditions["f_long"] == "term_months >= 12"
    assert conditions["f_short"] == "term_months < 12"


def test_trisotech_semantic_prefix_picks_the_executable_process() -> None:
    imported = read_bpmn(text("trisotech.bpmn"))
    spec = imported.spec()
    assert imported.process_id == "_mortgage"
    assert list(spec.nodes) == ["_start", "_valuation", "_sign", "_end"]
    found = codes(imported.warnings)
    assert ("bpmn[_draft]", "process_ignored") in found
    assert ("bpmn[_mortgage]", "data_ignored") in found
    assert ("bpmn[_sign]", "read_as_user_task") in found
    assert ("bpmn[_valuation]", "vendor_extension_ignored") in found
    assert "_dor_file" not in imported.diagram.shapes  # a data object has no node
    assert imported.diagram.shapes["_valuation"] == (180, 175, 120, 80)


def test_every_unsupported_element_is_refused_by_its_id_in_one_report() -> None:
    problems = refused(text("unsupported.bpmn"))
    assert problems == [
        ("bpmn[Start_Timer]", "unsupported_event"),
        ("bpmn[Service_Score]", "unsupported_element"),
        ("bpmn[Task_Countersign]", "unsupported_loop"),  # a completion rule not read
        ("bpmn[Boundary_Timeout]", "unsupported_element"),
        ("bpmn[Gateway_Or]", "unsupported_element"),
        ("bpmn[Sub_Checks]", "unsupported_element"),
        ("bpmn[Catch_Message]", "unsupported_message"),  # a message event names its message
        ("bpmn[Call_Kyc]", "unsupported_element"),  # no calledElement (ADR 0033)
        ("bpmn[Script_Fee]", "unsupported_element"),
        ("bpmn[End_Terminate]", "unsupported_event"),
    ]


def test_a_refusal_names_what_the_element_is() -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        read_bpmn(text("unsupported.bpmn"))
    messages = {error.path: error.message for error in caught.value.errors}
    assert "service task" in messages["bpmn[Service_Score]"]
    assert "'Credit score'" in messages["bpmn[Service_Score]"]
    assert "signal" in messages["bpmn[Boundary_Timeout]"]
    assert "signal" in messages["bpmn[End_Terminate]"]
    assert "event sub-process" in messages["bpmn[Sub_Checks]"]


# --- the definition checks, with BPMN ids in their paths ---------------------------------


def test_graph_problems_are_reported_at_the_bpmn_element_ids() -> None:
    body = (
        '<startEvent id="s"/><exclusiveGateway id="g"/>'
        '<userTask id="a"><extensionElements><flowdesk:assignee kind="role" role="x"/>'
        "</extensionElements></userTask>"
        '<userTask id="b"><extensionElements><flowdesk:assignee kind="wizard"/>'
        '</extensionElements></userTask><endEvent id="e"/>'
        '<sequenceFlow id="f1" sourceRef="s" targetRef="g"/>'
        '<sequenceFlow id="f2" sourceRef="g" targetRef="a"/>'
        '<sequenceFlow id="f3" sourceRef="g" targetRef="e"/>'
        '<sequenceFlow id="f4" sourceRef="a" targetRef="e"/>'
        '<sequenceFlow id="f5" sourceRef="a" targetRef="nowhere"/>'
        '<sequenceFlow id="f6" sourceRef="b" targetRef="e"/>'
    )
    assert refused(minimal(body)) == [
        ("bpmn[b].assignee.kind", "unknown_assignee_kind"),
        ("bpmn[f5].targetRef", "unknown_node"),
        ("bpmn[f2]", "condition_required"),
        ("bpmn[f3]", "condition_required"),
    ]
    body = body.replace('kind="wizard"', 'kind="role" role="y"').replace(
        '<sequenceFlow id="f5" sourceRef="a" targetRef="nowhere"/>', ""
    )
    assert refused(minimal(body)) == [
        ("bpmn[f2]", "condition_required"),
        ("bpmn[f3]", "condition_required"),
        ("bpmn[b]", "unreachable"),
    ]


def test_a_none_intermediate_event_is_a_pass_through() -> None:
    body = (
        '<startEvent id="s"/><intermediateThrowEvent id="m" name="Filed"/>'
        '<intermediateThrowEvent id="x"><signalEventDefinition/></intermediateThrowEvent>'
        '<endEvent id="e"/><sequenceFlow id="f1" sourceRef="s" targetRef="m"/>'
        '<sequenceFlow id="f2" sourceRef="m" targetRef="e"/>'
    )
    assert refused(minimal(body)) == [("bpmn[x]", "unsupported_element")]
    signal = '<intermediateThrowEvent id="x"><signalEventDefinition/></intermediateThrowEvent>'
    imported = read_bpmn(minimal(body.replace(signal, "")))
    spec = imported.spec()
    assert spec.nodes["m"].type == "exclusive_gateway" and spec.nodes["m"].name == {"en": "Filed"}
    assert ("bpmn[m]", "read_as_pass_through") in codes(imported.warnings)


def test_a_gateways_last_exit_without_condition_is_its_default() -> None:
    def gateway(order: list[str]) -> str:
        flows = {
            "f2": '<sequenceFlow id="f2" sourceRef="g" targetRef="t">'
            "<conditionExpression>amount &gt; 1</conditionExpression></sequenceFlow>",
            "f3": '<sequenceFlow id="f3" sourceRef="g" targetRef="e"/>',
        }
        return minimal(
            '<startEvent id="s"/><exclusiveGateway id="g"/><userTask id="t"/><endEvent id="e"/>'
            '<sequenceFlow id="f1" sourceRef="s" targetRef="g"/>'
            + "".join(flows[key] for key in order)
            + '<sequenceFlow id="f4" sourceRef="t" targetRef="e"/>'
        )

    imported = read_bpmn(gateway(["f2", "f3"]))
    assert [f.id for f in imported.spec().flows if f.default] == ["f3"]
    assert ("bpmn[f3]", "read_as_default") in codes(imported.warnings)
    # first in the file, it would always be taken by such engines: not guessed at
    assert refused(gateway(["f3", "f2"])) == [("bpmn[f3]", "condition_required")]


def test_a_conditional_flow_out_of_a_task_is_refused_at_the_flow() -> None:
    body = CHAIN.format(task="").replace(
        '<sequenceFlow id="f2" sourceRef="t" targetRef="e"/>',
        '<sequenceFlow id="f2" sourceRef="t" targetRef="e">'
        "<conditionExpression>amount &gt; 1</conditionExpression></sequenceFlow>",
    )
    assert ("bpmn[f2].conditionExpression", "condition_not_allowed") in refused(minimal(body))


def test_conditions_bpmn_never_evaluates_are_dropped_with_a_warning() -> None:
    body = (
        '<startEvent id="s"/><parallelGateway id="p1"/><exclusiveGateway id="x" default="f4"/>'
        '<userTask id="a"/><userTask id="b"/><parallelGateway id="p2"/><endEvent id="e"/>'
        '<sequenceFlow id="f1" sourceRef="s" targetRef="p1"/>'
        '<sequenceFlow id="f2" sourceRef="p1" targetRef="a">'
        "<conditionExpression>amount &gt; 1</conditionExpression></sequenceFlow>"
        '<sequenceFlow id="f3" sourceRef="p1" targetRef="x"/>'
        '<sequenceFlow id="f4" sourceRef="x" targetRef="b">'
        "<conditionExpression>amount &gt; 2</conditionExpression></sequenceFlow>"
        '<sequenceFlow id="f5" sourceRef="a" targetRef="p2"/>'
        '<sequenceFlow id="f6" sourceRef="b" targetRef="p2"/>'
        '<sequenceFlow id="f7" sourceRef="p2" targetRef="e"/>'
    )
    imported = read_bpmn(minimal(body))
    spec = imported.spec()
    assert spec.conditions() == []
    assert [f.id for f in spec.flows if f.default] == ["f4"]
    assert {
        ("bpmn[f2].conditionExpression", "condition_dropped"),
        ("bpmn[f4].conditionExpression", "condition_dropped"),
    } <= codes(imported.warnings)


def test_flowdesk_extension_mistakes_are_errors_not_warnings() -> None:
    task = (
        "<extensionElements>"
        '<flowdesk:assignee kind="user" user="li.na"/>'
        '<flowdesk:name lang="fr">Revue</flowdesk:name>'
        "<flowdesk:mode>all</flowdesk:mode>"
        '<flowdesk:option key="vote">{not json</flowdesk:option>'
        "</extensionElements>"
    )
    assert refused(chain(task)) == [
        ("bpmn[t].mode", "unknown_extension"),
        ("bpmn[t].vote", "invalid_option"),
    ]
    task = task.replace("<flowdesk:mode>all</flowdesk:mode>", "").replace(
        '<flowdesk:option key="vote">{not json</flowdesk:option>', ""
    )
    assert refused(chain(task)) == [("bpmn[t].name.fr", "unknown_locale")]


def test_an_option_carries_a_setting_the_extension_has_no_element_for() -> None:
    task = (
        '<extensionElements><flowdesk:assignee kind="user" user="li.na"/>'
        '<flowdesk:option key="editable">["x"]</flowdesk:option></extensionElements>'
    )
    assert refused(chain(task)) == [("bpmn[t].editable", "invalid_option")]
    task = (
        '<extensionElements><flowdesk:option key="assignee">'
        '{"kind": "role", "role": "clerk"}</flowdesk:option></extensionElements>'
    )
    assert read_bpmn(chain(task)).spec().nodes["t"].assignee == AssigneeRule("role", role="clerk")


# --- multi-instance user tasks as approval modes ------------------------------------------


def test_a_flowable_countersign_reads_as_a_vote_then_sequential_approval() -> None:
    imported = read_bpmn((FILES / "flowable_countersign.bpmn20.xml").read_bytes())
    nodes = imported.spec().nodes
    assert nodes["countersign"].to_dict()["approval"] == {"mode": "vote", "pass_percent": 50}
    # assignee="${assignee}" is the loop's variable; the candidate group is not used with it
    assert nodes["countersign"].assignee == AssigneeRule("applicant_manager")
    assert nodes["deputies"].to_dict()["approval"] == {"mode": "sequential"}
    assert nodes["deputies"].assignee == AssigneeRule("role", role="deputy_heads")
    warned = {w.path: w.message for w in imported.warnings if w.code == "vendor_extension_ignored"}
    assert "flowable:collection" in warned["bpmn[deputies]"]
    assert imported.diagram.edges["s3"] == ((419.95, 178.0), (465.0, 178.0))


@pytest.mark.parametrize(
    ("loop", "approval"),
    [
        ('<multiInstanceLoopCharacteristics isSequential="true"/>', {"mode": "sequential"}),
        ("<multiInstanceLoopCharacteristics/>", {"mode": "all"}),
        (
            "<multiInstanceLoopCharacteristics><completionCondition>"
            "${nrOfCompletedInstances >= 1}</completionCondition>"
            "</multiInstanceLoopCharacteristics>",
            {"mode": "any"},
        ),
        (
            "<multiInstanceLoopCharacteristics><completionCondition>"
            "${nrOfCompletedInstances == 3}</completionCondition>"
            "</multiInstanceLoopCharacteristics>",
            {"mode": "vote", "pass_count": 3},
        ),
        (
            "<multiInstanceLoopCharacteristics><completionCondition>"
            "${nrOfCompletedInstances/nrOfInstances &gt;= 0.6}</completionCondition>"
            "</multiInstanceLoopCharacteristics>",
            {"mode": "vote", "pass_percent": 60},
        ),
    ],
)
def test_multi_instance_user_tasks_read_as_approval_modes(
    loop: str, approval: dict[str, object]
) -> None:
    task = (
        '<extensionElements><flowdesk:assignee kind="users"><flowdesk:user>amy</flowdesk:user>'
        "<flowdesk:user>ben</flowdesk:user><flowdesk:user>cai</flowdesk:user>"
        "</flowdesk:assignee></extensionElements>" + loop
    )
    imported = read_bpmn(chain(task))
    node = imported.spec().nodes["t"]
    assert node.to_dict()["approval"] == approval
    assert node.to_dict()["assignee"] == {"kind": "users", "users": ["amy", "ben", "cai"]}
    assert codes(imported.warnings) == {("bpmn[t]", "multi_instance_mapped")}


@pytest.mark.parametrize(
    "loop",
    [
        "<multiInstanceLoopCharacteristics><loopCardinality>3</loopCardinality>"
        "</multiInstanceLoopCharacteristics>",
        '<multiInstanceLoopCharacteristics isSequential="true"><completionCondition>'
        "${nrOfCompletedInstances >= 1}</completionCondition></multiInstanceLoopCharacteristics>",
        "<multiInstanceLoopCharacteristics><completionCondition>${approvedCount > 2}"
        "</completionCondition></multiInstanceLoopCharacteristics>",
        "<standardLoopCharacteristics/>",
    ],
)
def test_loops_flowdesk_cannot_read_are_refused_at_the_task(loop: str) -> None:
    assert refused(chain(loop)) == [("bpmn[t]", "unsupported_loop")]


def test_flowdesk_approval_wins_over_the_multi_instance_marker() -> None:
    task = (
        '<extensionElements><flowdesk:assignee kind="role" role="committee"/>'
        '<flowdesk:approval mode="vote" pass_percent="50" fail="first_reject"/>'
        "</extensionElements><multiInstanceLoopCharacteristics/>"
    )
    imported = read_bpmn(chain(task))
    assert imported.spec().nodes["t"].to_dict()["approval"] == {
        "mode": "vote",
        "pass_percent": 50,
        "fail": "first_reject",
    }
    assert imported.warnings == ()
    bad = task.replace('pass_percent="50"', 'pass_percent="lots"')
    assert refused(chain(bad))[0][0].startswith("bpmn[t].approval")


# --- assignees a file does not give ----------------------------------------------------------


BASE = parse_process(
    {
        "nodes": [
            {"id": "s", "type": "start"},
            {
                "id": "t",
                "type": "user_task",
                "name": {"en": "Check"},
                "assignee": {"kind": "role", "role": "clerk"},
                "editable": ["purpose"],
            },
            {
                "id": "other",
                "type": "user_task",
                "name": {"en": "Review", "zh": "复核"},
                "assignee": {"kind": "department_head", "department": "legal"},
            },
            {"id": "e", "type": "end"},
        ],
        "flows": [
            {"from": "s", "to": "t"},
            {"from": "t", "to": "other"},
            {"from": "other", "to": "e"},
        ],
    }
)


def test_a_task_without_assignee_keeps_the_current_versions_settings_by_id() -> None:
    imported = read_bpmn(chain(), base=BASE)
    node = imported.spec().nodes["t"]
    assert node.assignee == AssigneeRule("role", role="clerk")
    assert node.editable == ("purpose",)
    assert node.name == {"en": "Review"}  # the file's name wins
    assert ("bpmn[t]", "assignee_from_current_version") in codes(imported.warnings)


def test_else_the_assignee_of_the_one_current_task_with_the_same_name() -> None:
    renamed = chain().replace('id="t"', 'id="t2"').replace('"t"', '"t2"')
    imported = read_bpmn(renamed, base=BASE)
    assert imported.spec().nodes["t2"].assignee == AssigneeRule(
        "department_head", department="legal"
    )
    assert imported.spec().nodes["t2"].editable == ()


def test_else_the_applicants_manager_with_a_warning() -> None:
    imported = read_bpmn(chain())
    assert imported.spec().nodes["t"].assignee == AssigneeRule("applicant_manager")
    assert codes(imported.warnings) == {("bpmn[t]", "default_assignee")}


@pytest.mark.parametrize(
    ("attrs", "extension", "expected"),
    [
        ('camunda:assignee="li.na"', "", AssigneeRule("user", user="li.na")),
        ('camunda:candidateUsers="li.na"', "", AssigneeRule("user", user="li.na")),
        ('camunda:candidateGroups="risk"', "", AssigneeRule("role", role="risk")),
        ('camunda:assignee="${initiator}"', "", AssigneeRule("applicant_manager")),
        ('camunda:assignee="a" camunda:candidateGroups="b"', "", AssigneeRule("applicant_manager")),
        ('activiti:assignee="zhou.qi"', "", AssigneeRule("user", user="zhou.qi")),
        (
            "",
            '<zeebe:assignmentDefinition candidateGroups="risk"/>',
            AssigneeRule("role", role="risk"),
        ),
        (
            "",
            '<zeebe:assignmentDefinition candidateUsers="a,b"/>',
            AssigneeRule("applicant_manager"),
        ),
        (
            'camunda:assignee="li.na"',
            '<flowdesk:assignee kind="role" role="boss"/>',
            AssigneeRule("role", role="boss"),  # flowdesk's own setting wins, silently
        ),
    ],
)
def test_vendor_assignee_notations(attrs: str, extension: str, expected: AssigneeRule) -> None:
    namespaces = (
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
        'xmlns:activiti="http://activiti.org/bpmn" '
        'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"'
    )
    task = f"<extensionElements>{extension}</extensionElements>" if extension else ""
    imported = read_bpmn(chain(task, namespaces, attrs))
    assert imported.spec().nodes["t"].assignee == expected
    mapped = {w.code for w in imported.warnings}
    if expected.kind == "applicant_manager":
        assert {"vendor_assignee_ignored", "default_assignee"} <= mapped
    elif "flowdesk" not in extension:
        assert "vendor_assignee_mapped" in mapped


# --- which process ------------------------------------------------------------------------


def test_several_executable_processes_are_ambiguous_unless_one_is_named() -> None:
    data = (HOSTILE / "ambiguous.bpmn").read_bytes()
    assert refused(data) == [("bpmn", "ambiguous_process")]
    assert read_bpmn(data, process_id="second").spec().start.id == "s2"
    assert refused(data, process_id="third") == [("bpmn", "unknown_process")]


def test_the_process_a_participant_names_is_chosen_among_non_executable_ones() -> None:
    data = (HOSTILE / "ambiguous.bpmn").read_text("utf-8").replace('isExecutable="true"', "")
    data = data.replace(
        "</definitions>",
        '<collaboration id="c"><participant id="pool" processRef="second"/></collaboration>'
        "</definitions>",
    )
    assert read_bpmn(data).process_id == "second"


# --- hostile files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("billion_laughs.bpmn", "dtd_forbidden"),
        ("xxe.bpmn", "dtd_forbidden"),
        ("external_dtd.bpmn", "dtd_forbidden"),
        ("parameter_entity.bpmn", "dtd_forbidden"),
        ("malformed.bpmn", "xml_syntax"),
        ("wrong_root.xml", "not_bpmn"),
        ("no_process.bpmn", "no_process"),
        ("empty.bpmn", "empty_file"),
    ],
)
def test_hostile_files_are_refused_with_a_clear_error(name: str, code: str) -> None:
    assert refused((HOSTILE / name).read_bytes()) == [("bpmn", code)]


def test_the_xxe_file_is_refused_before_anything_is_read() -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        read_bpmn((HOSTILE / "xxe.bpmn").read_bytes())
    assert "root:" not in str(caught.value)  # /etc/passwd never made it into a message


def test_a_huge_attribute_is_refused_by_size() -> None:
    huge = chain().replace('name="Review"', f'name="{"x" * (MAX_BPMN_BYTES + 1)}"')
    assert refused(huge) == [("bpmn", "too_large")]
    assert refused(huge.encode()) == [("bpmn", "too_large")]


def test_a_long_name_under_the_size_limit_is_refused_at_its_element() -> None:
    assert refused(chain().replace('name="Review"', f'name="{"名" * 5000}"')) == [
        ("bpmn[t].name", "too_long")
    ]


def test_many_elements_or_deep_nesting_are_refused_or_read_without_crashing() -> None:
    many = chain("<documentation/>" * 110_000)
    assert refused(many) == [("bpmn", "too_many_elements")]
    deep = chain("<extensionElements>" + "<a>" * 5_000 + "</a>" * 5_000 + "</extensionElements>")
    imported = read_bpmn(deep)  # one vendor element, warned about
    assert ("bpmn[t]", "vendor_extension_ignored") in codes(imported.warnings)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\xff\xfe\x00garbage", "xml_syntax"),
        (b'<?xml version="1.0" encoding="klingon"?><definitions/>', "unknown_encoding"),
        (
            b'<?xml version="1.0" encoding="UTF-8"?><definitions>\xc3\x28</definitions>',
            "bad_encoding",
        ),
        (b"not xml at all", "xml_syntax"),
        (f'<definitions xmlns="{MODEL}"/>'.encode(), "no_process"),
        (f'<process xmlns="{MODEL}"/>'.encode(), "not_bpmn"),
    ],
)
def test_broken_bytes_are_refused_with_a_code(data: bytes, code: str) -> None:
    assert refused(data) == [("bpmn", code)]


def test_a_gbk_encoded_file_is_read_by_its_declaration() -> None:
    data = ('<?xml version="1.0" encoding="GBK"?>' + chain().replace("Review", "审批")).encode(
        "gbk"
    )
    assert read_bpmn(data).spec().nodes["t"].name == {"zh": "审批"}


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda s: f"<definitions>{s}"))
def test_arbitrary_input_never_crashes(data: bytes | str) -> None:
    try:
        read_bpmn(data).spec()
    except DefinitionInvalid as exc:
        assert exc.errors and all(error.path.startswith("bpmn") for error in exc.errors)


# --- namespaces by URI --------------------------------------------------------------------

PREFIX = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True).filter(
    lambda p: not p.startswith("xml") and p not in ("xsi", "dc", "di", "bpmndi", "flowdesk")
)


@settings(max_examples=40, deadline=None)
@given(PREFIX)
def test_any_prefix_or_none_reads_the_same(prefix: str) -> None:
    original = text("bpmn_io.bpmn")
    expected = read_bpmn(original)
    renamed = (
        re.sub(r"(</?)bpmn:", rf"\g<1>{prefix}:", original)
        .replace("xmlns:bpmn=", f"xmlns:{prefix}=")
        .replace('xsi:type="bpmn:', f'xsi:type="{prefix}:')
    )
    again = read_bpmn(renamed)
    assert again.spec() == expected.spec()
    assert again.diagram == expected.diagram
    default = re.sub(r"(</?)bpmn:", r"\g<1>", original).replace("xmlns:bpmn=", "xmlns=")
    assert read_bpmn(default).spec() == expected.spec()


def test_the_prefix_bpmn_bound_to_another_uri_is_not_bpmn() -> None:
    original = text("bpmn_io.bpmn").replace(
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"', 'xmlns:bpmn="urn:not-bpmn"'
    )
    assert refused(original) == [("bpmn", "not_bpmn")]


# --- condition dialects ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("amount <= 50000", "amount <= 50000"),
        ("${amount > 100}", "amount > 100"),
        ("#{amount gt 100 and rating eq 'gt'}", "amount > 100 and rating == 'gt'"),
        ("  ${\n  amount ge 5 }  ", "amount >= 5"),
        ("=amount > 100", "amount > 100"),
        ("${a} and ${b}", "${a} and ${b}"),  # left for the expression checker to refuse
        ("", None),
        ("${ }", None),
    ],
)
def test_condition_dialects(body: str, expected: str | None) -> None:
    assert convert(body).text == expected


def test_a_condition_from_an_external_script_is_refused_at_the_flow() -> None:
    body = CHAIN.format(task="").replace(
        '<sequenceFlow id="f2" sourceRef="t" targetRef="e"/>',
        '<sequenceFlow id="f2" sourceRef="t" targetRef="e">'
        '<conditionExpression xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
        'language="groovy" camunda:resource="deployment://check.groovy"/></sequenceFlow>',
    )
    assert refused(minimal(body)) == [("bpmn[f2].conditionExpression", "unsupported_condition")]


def test_a_condition_in_an_unknown_language_is_warned_about() -> None:
    body = (
        '<startEvent id="s"/><exclusiveGateway id="g" default="f3"/><userTask id="t"/>'
        '<endEvent id="e"/><sequenceFlow id="f1" sourceRef="s" targetRef="g"/>'
        '<sequenceFlow id="f2" sourceRef="g" targetRef="t">'
        '<conditionExpression language="javascript">amount &gt; 1</conditionExpression>'
        '</sequenceFlow><sequenceFlow id="f3" sourceRef="g" targetRef="e"/>'
        '<sequenceFlow id="f4" sourceRef="t" targetRef="e"/>'
    )
    imported = read_bpmn(minimal(body))
    assert ("bpmn[f2].conditionExpression", "condition_language") in codes(imported.warnings)
    assert isinstance(imported.spec(), ProcessSpec)


# --- mutated corpus files: refused or read, never a crash --------------------------------

CORPUS_FILES = sorted(p for p in FILES.iterdir() if p.is_file())


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A corpus file with random elements removed or duplicated and attributes dropped,
    blanked or swapped for another element's id."""
    from xml.etree import ElementTree as ET

    path = draw(st.sampled_from(CORPUS_FILES))
    root = ET.fromstring(path.read_bytes())
    elements = list(root.iter())
    ids = [e.get("id") for e in elements if e.get("id")]
    for _ in range(draw(st.integers(1, 6))):
        target = draw(st.sampled_from(elements))
        action = draw(st.sampled_from(["drop_attr", "blank_attr", "swap_ref", "remove", "copy"]))
        if action in ("drop_attr", "blank_attr", "swap_ref") and target.attrib:
            name = draw(st.sampled_from(sorted(target.attrib)))
            if action == "drop_attr":
                del target.attrib[name]
            elif action == "blank_attr":
                target.set(name, draw(st.sampled_from(["", " ", "x:y", "0", "名"])))
            else:
                target.set(name, draw(st.sampled_from(ids)))
        elif action in ("remove", "copy"):
            parents = [p for p in root.iter() if target in list(p)]
            if parents:
                if action == "remove":
                    parents[0].remove(target)
                else:
                    parents[0].append(target)
    return ET.tostring(root)


@settings(max_examples=300, deadline=None)
@given(mutated())
def test_mutated_files_are_refused_or_read_never_crash(data: bytes) -> None:
    try:
        imported = read_bpmn(data)
        imported.spec()
    except DefinitionInvalid as exc:
        assert exc.errors
        for error in exc.errors:
            assert error.path.startswith("bpmn"), error
            assert error.code and error.message
