"""撤回 and 撤销 through the REST API (ADR 0019): the applicant's withdraw and cancel, an
approver's withdraw of their approval, what the ticket then says, and each refusal as
problem+json with its stable code."""

from __future__ import annotations

from api_client import Api, assert_problem, loan_values, publish_yaml

from approval_apps import CONTRACT_STEPS, line_app, yaml_of


def _small_loan(api: Api) -> tuple[str, str]:
    """A small loan at the branch manager (li.na): (ticket id, her task id)."""
    filed = api.post("zhang.wei", "/apps/loan/tickets", json={"values": loan_values("30000.00")})
    assert filed.status_code == 201, filed.text
    review = next(t for t in filed.json()["tasks"] if t["state"] == "open")
    return filed.json()["id"], review["id"]


def test_the_applicant_withdraws_then_resubmits(api: Api) -> None:
    ticket_id, review = _small_loan(api)
    withdrawn = api.post("zhang.wei", f"/tickets/{ticket_id}/withdraw", json={"comment": "改金额"})
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "running"
    ticket = api.get("zhang.wei", f"/tickets/{ticket_id}").json()
    assert [t["node_id"] for t in ticket["tasks"] if t["state"] == "open"] == ["start"]
    assert [t["state"] for t in ticket["tasks"] if t["id"] == review] == ["cancelled"]
    event = next(e for e in ticket["timeline"] if e["kind"] == "ticket_withdrawn")
    assert event["comment"] == "改金额"
    assert_problem(
        api.post("zhang.wei", f"/tickets/{ticket_id}/withdraw", json={}), 409, "ticket_returned"
    )
    resubmitted = api.post("zhang.wei", f"/tickets/{ticket_id}/resubmit", json={})
    assert resubmitted.status_code == 200, resubmitted.text
    assert api.get("li.na", f"/tasks/{resubmitted.json()['opened_task_ids'][0]}").status_code == 200


def test_the_applicant_cancels_and_the_ticket_is_cancelled(api: Api) -> None:
    ticket_id, review = _small_loan(api)
    approved = api.post("li.na", f"/tasks/{review}/approve", json={"comment": "同意"})
    assert approved.status_code == 200, approved.text
    assert_problem(
        api.post("zhang.wei", f"/tickets/{ticket_id}/withdraw", json={}), 409, "already_processed"
    )
    cancelled = api.post("zhang.wei", f"/tickets/{ticket_id}/cancel", json={"comment": "不需要了"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json() == {
        "ticket_id": ticket_id,
        "status": "cancelled",
        "opened_task_ids": [],
    }
    assert api.get("zhang.wei", f"/tickets/{ticket_id}").json()["status"] == "cancelled"
    listed = api.get("zhang.wei", "/tickets?status=cancelled").json()["items"]
    assert [t["id"] for t in listed] == [ticket_id]
    assert_problem(
        api.post("zhang.wei", f"/tickets/{ticket_id}/cancel", json={}), 409, "ticket_not_running"
    )


def test_an_approver_withdraws_their_approval(api: Api) -> None:
    ticket_id, review = _small_loan(api)
    approved = api.post("li.na", f"/tasks/{review}/approve", json={})
    disburse = approved.json()["opened_task_ids"][0]
    assert_problem(api.post("zhao.lei", f"/tasks/{review}/retract", json={}), 403, "not_decider")
    assert_problem(api.post("he.jia", f"/tasks/{review}/retract", json={}), 404, "task_not_found")
    assert_problem(api.post("li.na", f"/tasks/{disburse}/retract", json={}), 409, "not_approved")
    retracted = api.post("li.na", f"/tasks/{review}/retract", json={"comment": "再看看"})
    assert retracted.status_code == 200, retracted.text
    [reopened] = retracted.json()["opened_task_ids"]
    assert reopened != review
    ticket = api.get("li.na", f"/tickets/{ticket_id}").json()
    assert [t["id"] for t in ticket["tasks"] if t["state"] == "open"] == [reopened]
    assert [t["state"] for t in ticket["tasks"] if t["id"] == disburse] == ["cancelled"]
    event = next(e for e in ticket["timeline"] if e["kind"] == "decision_withdrawn")
    assert event["comment"] == "再看看" and event["task_id"] == review
    assert_problem(api.post("li.na", f"/tasks/{review}/retract", json={}), 409, "already_processed")
    assert_problem(api.post("li.na", f"/tasks/{reopened}/retract", json={}), 409, "not_approved")


def test_refusals(api: Api) -> None:
    ticket_id, _ = _small_loan(api)
    for verb in ("withdraw", "cancel"):
        assert_problem(
            api.post("li.na", f"/tickets/{ticket_id}/{verb}", json={}), 403, "not_applicant"
        )
        assert_problem(
            api.post("zhao.lei", f"/tickets/{ticket_id}/{verb}", json={}), 404, "ticket_not_found"
        )
        bad = api.post("zhang.wei", f"/tickets/{ticket_id}/{verb}", json={"reason": "x"})
        assert bad.status_code == 422, bad.text
        too_long = api.post(
            "zhang.wei", f"/tickets/{ticket_id}/{verb}", json={"comment": "长" * 5000}
        )
        assert too_long.status_code == 422, too_long.text
    ticket = api.get("zhang.wei", f"/tickets/{ticket_id}").json()
    assert ticket["status"] == "running"


def _revocable_contract(api: Api) -> str:
    """The contract app (会签 review, 或签 deputies) with `withdraw.revoke_days: 5`,
    filed by zhang.wei and approved by everyone: its ticket id."""
    publish_yaml(
        api,
        yaml_of(line_app("contract", CONTRACT_STEPS, withdraw={"revoke_days": 5})),
    )
    filed = api.post("zhang.wei", "/apps/contract/tickets", json={"values": loan_values()})
    assert filed.status_code == 201, filed.text
    ticket_id: str = filed.json()["id"]
    for who in ("wang.fang", "liu.yang", "ma.li", "chen.jing"):
        _decide(api, ticket_id, who, "approve")
    return ticket_id


def _decide(api: Api, ticket_id: str, who: str, outcome: str) -> None:
    ticket = api.get(who, f"/tickets/{ticket_id}").json()
    user_id = api.get(who, "/me").json()["id"]
    [task] = [
        t
        for t in ticket["tasks"]
        if t["state"] == "open" and user_id in {a["id"] for a in t["assignees"]}
    ]
    decided = api.post(who, f"/tasks/{task['id']}/{outcome}", json={})
    assert decided.status_code == 200, decided.text


def test_the_applicant_revokes_an_approved_ticket_with_the_approvers_consent(api: Api) -> None:
    ticket_id = _revocable_contract(api)
    assert_problem(api.post("ma.li", f"/tickets/{ticket_id}/revoke", json={}), 403, "not_applicant")
    asked = api.post("zhang.wei", f"/tickets/{ticket_id}/revoke", json={"reason": "合同作废"})
    assert asked.status_code == 200, asked.text
    assert asked.json()["status"] == "running" and len(asked.json()["opened_task_ids"]) == 4
    ticket = api.get("zhang.wei", f"/tickets/{ticket_id}").json()
    assert ticket["status"] == "running"
    event = next(e for e in ticket["timeline"] if e["kind"] == "revoke_requested")
    assert event["comment"] == "合同作废"
    for who in ("wang.fang", "liu.yang", "ma.li", "chen.jing"):
        _decide(api, ticket_id, who, "approve")
    assert api.get("zhang.wei", f"/tickets/{ticket_id}").json()["status"] == "revoked"
    listed = api.get("zhang.wei", "/tickets?status=revoked").json()["items"]
    assert [t["id"] for t in listed] == [ticket_id]
    assert_problem(
        api.post("zhang.wei", f"/tickets/{ticket_id}/revoke", json={}), 409, "ticket_not_approved"
    )


def test_a_rejected_revocation_leaves_it_approved_and_refusals_have_codes(api: Api) -> None:
    ticket_id = _revocable_contract(api)
    api.post("zhang.wei", f"/tickets/{ticket_id}/revoke", json={})
    _decide(api, ticket_id, "liu.yang", "reject")
    assert api.get("zhang.wei", f"/tickets/{ticket_id}").json()["status"] == "approved"
    running, _ = _small_loan(api)
    assert_problem(
        api.post("zhang.wei", f"/tickets/{running}/revoke", json={}), 409, "ticket_not_approved"
    )
    assert_problem(
        api.post("zhang.wei", f"/tickets/{ticket_id}/revoke", json={"reason": 3}),
        422,
        "validation_failed",
    )
