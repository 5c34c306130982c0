"""代理 through the REST API: a rule set, listed and ended, answers held to their model,
and the problems with their codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api_client import Api, assert_problem
from pydantic import TypeAdapter

from flowdesk.api import delegations


def _same_as_the_model(response, model: object, status: int = 200) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    adapter: TypeAdapter[object] = TypeAdapter(model)
    assert response.content == adapter.dump_json(adapter.validate_json(response.content))


def _period(days: int = 5) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(days=days)).isoformat(),
    }


def test_a_rule_is_set_listed_and_ended(api: Api) -> None:
    made = api.post("li.na", "/delegations", json={"delegate": "huang.lei", **_period()})
    _same_as_the_model(made, delegations.DelegationOut, status=201)
    rule = made.json()
    assert rule["principal"] == "li.na" and rule["delegate"] == "huang.lei"
    assert rule["in_force"] is True and rule["revoked"] is False
    listed = api.get("huang.lei", "/delegations")  # the delegate sees it too
    _same_as_the_model(listed, list[delegations.DelegationOut])
    assert [r["id"] for r in listed.json()] == [rule["id"]]
    assert_problem(api.post("huang.lei", f"/delegations/{rule['id']}/revoke"), 403, "not_principal")
    ended = api.post("li.na", f"/delegations/{rule['id']}/revoke")
    _same_as_the_model(ended, delegations.DelegationOut)
    assert ended.json()["revoked"] is True and ended.json()["in_force"] is False
    assert_problem(
        api.post("li.na", f"/delegations/{rule['id']}/revoke"), 409, "delegation_revoked"
    )


def test_refused_rules_are_problems(api: Api) -> None:
    assert_problem(
        api.post("li.na", "/delegations", json={"delegate": "li.na", **_period()}),
        422,
        "delegate_is_principal",
    )
    assert_problem(
        api.post("li.na", "/delegations", json={"delegate": "huang.lei", **_period(400)}),
        422,
        "invalid_delegation",
    )
    naive = {
        "delegate": "huang.lei",
        "starts_at": "2026-12-01T09:00",
        "ends_at": "2026-12-09T09:00",
    }
    assert api.post("li.na", "/delegations", json=naive).status_code == 422
    assert_problem(
        api.post(
            "li.na",
            "/delegations",
            json={"delegate": "huang.lei", "principal": "yu.hong", **_period()},
        ),
        403,
        "not_your_delegation",
    )
    assert (
        api.post("li.na", "/delegations", json={"delegate": "huang.lei", **_period()}).status_code
        == 201
    )
    assert_problem(
        api.post("li.na", "/delegations", json={"delegate": "yu.hong", **_period()}),
        409,
        "delegation_overlaps",
    )
    assert_problem(api.post("li.na", "/delegations/nope/revoke"), 404, "delegation_not_found")
