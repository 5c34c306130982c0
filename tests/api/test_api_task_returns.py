"""退回 and 重新提交 through the REST API: the targets a client may offer, the return with
its reason and resubmit choice, the applicant's resubmission, and each refusal as
problem+json with its stable code."""

from __future__ import annotations

from api_client import Api, assert_problem, loan_values


def _at_disburse(api: Api) -> tuple[str, str]:
    """A small loan the branch manager approved: (ticket id, the disbursement task id)."""
    filed = api.post("zhang.wei", "/apps/loan/tickets", json={"values": loan_values("30000.00")})
    assert filed.status_code == 201, filed.text
    ticket_id = filed.json()["id"]
    review = next(t for t in filed.json()["tasks"] if t["state"] == "open")
    approved = api.post("li.na", f"/tasks/{review['id']}/approve", json={"comment": "同意"})
    assert approved.status_code == 200, approved.text
    return ticket_id, approved.json()["opened_task_ids"][0]


def test_the_holder_lists_the_targets_and_returns_to_a_passed_step(api: Api) -> None:
    ticket_id, task_id = _at_disburse(api)
    listed = api.get("zhao.lei", f"/tasks/{task_id}/return-targets")
    assert listed.status_code == 200, listed.text
    assert listed.json()["returner_chooses"] is False
    assert listed.json()["resubmit"] == "rerun"
    assert [(t["target"], t["name"]["zh"]) for t in listed.json()["targets"]] == [
        ("applicant", "申请人"),
        ("branch_review", "支行行长审批"),
    ]
    returned = api.post(
        "zhao.lei",
        f"/tasks/{task_id}/return",
        json={"target": "branch_review", "comment": "请核实抵押物"},
    )
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "running"
    ticket = api.get("zhang.wei", f"/tickets/{ticket_id}").json()
    assert [t["node_id"] for t in ticket["tasks"] if t["state"] == "open"] == ["branch_review"]
    event = next(e for e in ticket["timeline"] if e["kind"] == "task_returned")
    assert event["comment"] == "请核实抵押物"
    assert event["data"]["to"] == "branch_review"


def test_the_applicant_resubmits_with_changed_values(api: Api) -> None:
    ticket_id, task_id = _at_disburse(api)
    returned = api.post(
        "zhao.lei", f"/tasks/{task_id}/return", json={"target": "applicant", "comment": "补材料"}
    )
    assert returned.status_code == 200, returned.text
    bad = api.post(
        "zhang.wei", f"/tickets/{ticket_id}/resubmit", json={"values": {"term_months": "x"}}
    )
    problem = assert_problem(bad, 422, "validation_failed")
    assert [e["path"] for e in problem["errors"]] == ["term_months"]
    done = api.post(
        "zhang.wei",
        f"/tickets/{ticket_id}/resubmit",
        json={"values": {"purpose": "Ovens"}, "comment": "已补充"},
    )
    assert done.status_code == 200, done.text
    ticket = api.get("zhang.wei", f"/tickets/{ticket_id}").json()
    assert ticket["values"]["purpose"] == "Ovens"
    assert [t["node_id"] for t in ticket["tasks"] if t["state"] == "open"] == ["branch_review"]


def test_refusals_are_problems_with_stable_codes(api: Api) -> None:
    ticket_id, task_id = _at_disburse(api)
    path = f"/tasks/{task_id}/return"
    no_reason = api.post("zhao.lei", path, json={"target": "applicant", "comment": " "})
    assert [e["path"] for e in assert_problem(no_reason, 422, "validation_failed")["errors"]] == [
        "comment"
    ]
    assert_problem(
        api.post("zhao.lei", path, json={"target": "legal_review", "comment": "x"}),
        422,
        "return_target_not_passed",
    )
    assert_problem(
        api.post("zhao.lei", path, json={"target": "disburse", "comment": "x"}),
        422,
        "return_to_current_node",
    )
    assert_problem(
        api.post(
            "zhao.lei",
            path,
            json={"target": "applicant", "comment": "x", "resubmit": "straight_back"},
        ),
        422,
        "resubmit_fixed_by_node",
    )
    assert_problem(
        api.post("zhang.wei", path, json={"target": "applicant", "comment": "x"}),
        403,
        "not_assignee",
    )
    assert_problem(api.get("zhang.wei", f"/tasks/{task_id}/return-targets"), 403, "not_assignee")
    assert_problem(
        api.post("zhang.wei", f"/tickets/{ticket_id}/resubmit", json={}), 409, "not_returned"
    )
    assert_problem(
        api.post("li.na", f"/tickets/{ticket_id}/resubmit", json={}), 403, "not_applicant"
    )
    approved = api.post("zhao.lei", f"/tasks/{task_id}/approve", json={})
    assert approved.status_code == 200, approved.text
    assert_problem(
        api.post("zhao.lei", path, json={"target": "applicant", "comment": "x"}),
        409,
        "task_not_open",
    )
    assert_problem(api.get("zhao.lei", f"/tasks/{task_id}/return-targets"), 409, "task_not_open")
