"""Every answer the public API writes itself (api/answers.py) is, byte for byte, what its
response model would write: valid against the schema, every field present, in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import httpx2 as httpx
import pytest
from api_client import API, Api, loan_values
from pydantic import BaseModel, TypeAdapter

from flowdesk.api import schemas, task_returns, ticket_actions, ticket_copies
from flowdesk.api.answers import answer


def _same_as_the_model(response: httpx.Response, model: object, status: int = 200) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    adapter: TypeAdapter[object] = TypeAdapter(model)
    parsed = adapter.validate_json(response.content)
    assert response.content == adapter.dump_json(parsed, by_alias=True)


def test_every_public_answer_is_what_its_model_writes(api: Api) -> None:
    token = api.client.post(
        f"{API}/auth/token", json={"username": "zhang.wei", "password": "Demo@2026"}
    )
    _same_as_the_model(token, schemas.TokenResponse)
    _same_as_the_model(api.client.get(f"{API}/"), schemas.IndexOut)
    _same_as_the_model(api.get("li.na", "/me"), schemas.MeOut)
    _same_as_the_model(api.get("li.na", "/apps"), list[schemas.AppOut])
    _same_as_the_model(api.get("li.na", "/apps/loan"), schemas.AppDetailOut)

    filed = api.post("zhang.wei", "/apps/loan/tickets", json={"values": loan_values("5000.00")})
    _same_as_the_model(filed, schemas.TicketOut, status=201)
    ticket_id = filed.json()["id"]
    inbox = api.get("li.na", "/tasks?limit=20")
    _same_as_the_model(inbox, schemas.TaskPage)
    task_id = next(t["id"] for t in inbox.json()["items"] if t["ticket_id"] == ticket_id)
    _same_as_the_model(api.get("li.na", f"/tasks/{task_id}"), schemas.TaskOut)
    decided = api.post("li.na", f"/tasks/{task_id}/approve", json={"comment": '同意 <ok> "q"'})
    _same_as_the_model(decided, schemas.StepOut)

    # a ticket with decisions, comments and a timeline, in both languages
    for language in ("zh-CN", "en"):
        headers = {"Accept-Language": language}
        detail = api.get("zhang.wei", f"/tickets/{ticket_id}", headers=headers)
        _same_as_the_model(detail, schemas.TicketOut)
        assert detail.json()["timeline"] and detail.json()["tasks"]
        _same_as_the_model(api.get("li.na", "/tasks?state=done", headers=headers), schemas.TaskPage)
        _same_as_the_model(
            api.get("zhang.wei", "/tickets?limit=5", headers=headers), schemas.TicketPage
        )
        _same_as_the_model(
            api.get("zhang.wei", "/notifications?state=all"), schemas.NotificationPage
        )
    marked = api.post("zhang.wei", "/notifications/read", json={"all": True})
    _same_as_the_model(marked, schemas.MarkedOut)
    urged = api.post("zhang.wei", f"/tickets/{ticket_id}/urge")
    _same_as_the_model(urged, ticket_actions.UrgeOut)
    commented = api.post("li.na", f"/tickets/{ticket_id}/comments", json={"comment": "请补充材料"})
    _same_as_the_model(commented, ticket_actions.CommentOut, status=201)
    # 抄送 (api/ticket_copies.py): an ad-hoc copy and the copied person's list
    copied = api.post(
        "zhang.wei", f"/tickets/{ticket_id}/copies", json={"users": ["he.jia"], "note": "请知悉"}
    )
    _same_as_the_model(copied, ticket_copies.CopiesOut, status=201)
    _same_as_the_model(api.get("he.jia", "/copies"), ticket_copies.CopyPage)
    read = api.post("he.jia", f"/copies/{ticket_id}/read")
    _same_as_the_model(read, ticket_copies.CopyReadOut)

    # 退回 and 重新提交 (api/task_returns.py): the targets, the return, the resubmission
    disburse = decided.json()["opened_task_ids"][0]
    # 加签 and 减签 (api/add_signs.py): a signer added before the holder, then removed
    added = api.post(
        "zhao.lei",
        f"/tasks/{disburse}/add-signers",
        json={"users": ["he.jia"], "position": "before", "comment": "请复核"},
    )
    _same_as_the_model(added, schemas.StepOut)
    removed = api.post("zhao.lei", f"/tasks/{disburse}/remove-signer", json={"users": ["he.jia"]})
    _same_as_the_model(removed, schemas.StepOut)
    targets = api.get("zhao.lei", f"/tasks/{disburse}/return-targets")
    _same_as_the_model(targets, task_returns.ReturnTargetsOut)
    returned = api.post(
        "zhao.lei", f"/tasks/{disburse}/return", json={"target": "applicant", "comment": "补充"}
    )
    _same_as_the_model(returned, schemas.StepOut)
    resubmitted = api.post("zhang.wei", f"/tickets/{ticket_id}/resubmit", json={})
    _same_as_the_model(resubmitted, schemas.StepOut)

    # 撤回 and 撤销 (api/withdrawals.py): an approver's withdraw, the applicant's withdraw
    # and cancel
    review = resubmitted.json()["opened_task_ids"][0]
    approved = api.post("li.na", f"/tasks/{review}/approve", json={})
    _same_as_the_model(api.post("li.na", f"/tasks/{review}/retract", json={}), schemas.StepOut)
    assert approved.status_code == 200, approved.text
    second = api.post("zhang.wei", "/apps/loan/tickets", json={"values": loan_values("5000.00")})
    second_id = second.json()["id"]
    withdrawn = api.post("zhang.wei", f"/tickets/{second_id}/withdraw", json={"comment": "改"})
    _same_as_the_model(withdrawn, schemas.StepOut)
    cancelled = api.post("zhang.wei", f"/tickets/{second_id}/cancel", json={})
    _same_as_the_model(cancelled, schemas.StepOut)


class _Moment(BaseModel):
    at: datetime
    amount: Decimal
    text: str


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 12, 2, 6, 3, 26, 883039, tzinfo=UTC),
        datetime(2026, 12, 2, 6, 3, 26, tzinfo=UTC),
        datetime(2026, 12, 2, 14, 3, tzinfo=timezone(timedelta(hours=8))),
    ],
)
def test_times_amounts_and_text_are_written_as_pydantic_writes_them(moment: datetime) -> None:
    data = {"at": moment, "amount": Decimal("120000.50"), "text": '贷款 \u2028 \x01 " \\ </script>'}
    assert answer(data).body == _Moment.model_validate(data).model_dump_json().encode()


def test_data_that_is_not_json_is_refused_not_guessed() -> None:
    with pytest.raises(TypeError):
        answer({"x": object()})
    with pytest.raises(ValueError):
        answer({"x": float("nan")})
