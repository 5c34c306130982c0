"""Through the API: identity numbers refused with every error in problem+json errors[] (paths,
precise codes, bilingual messages, nothing echoed); ticket answers and lists carry personal
numbers masked; POST /tickets/{id}/unmask gives them in full to a permitted reader."""

from __future__ import annotations

import pytest
from api_client import Api, assert_problem

from flowdesk.services import apps, org, views
from flowdesk.services.context import ServiceContext
from identity_app import CARD, MOBILE, RESIDENT_ID, account_opening_app, good_values


@pytest.fixture
def opening(api: Api, demo_ctx: ServiceContext) -> Api:
    apps.publish_yaml(demo_ctx, account_opening_app())
    return api


def test_every_bad_number_is_in_errors_with_its_path_and_none_is_echoed(opening: Api) -> None:
    bad = good_values(
        legal_rep_id=RESIDENT_ID[:-1] + "1",
        legal_rep_mobile="+1 650 253 0000",
        settlement_card=CARD[:12],
        credit_code="91110000600037341",
    )
    refused = opening.post(
        "zhang.wei",
        "/apps/account_opening/tickets",
        json={"values": bad},
        headers={"Accept-Language": "zh-CN"},
    )
    body = assert_problem(refused, 422, "validation_failed")
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert [(e["path"], e["code"]) for e in body["errors"]] == [
        ("credit_code", "credit_code_length"),
        ("legal_rep_id", "resident_id_check_digit"),
        ("legal_rep_mobile", "mobile_not_mainland"),
        ("settlement_card", "bank_card_length"),
    ]
    assert body["errors"][1]["message"] == "身份证号校验位错误"
    for value in bad.values():
        assert str(value) not in refused.text or len(str(value)) < 6
    listed = opening.get("zhang.wei", "/tickets", params={"scope": "mine"}).json()
    assert all(t["app"] != "account_opening" for t in listed["items"])


def test_answers_mask_personal_numbers_and_unmask_needs_the_role(
    opening: Api, demo_ctx: ServiceContext
) -> None:
    filed = opening.post(
        "zhang.wei", "/apps/account_opening/tickets", json={"values": good_values()}
    )
    assert filed.status_code == 201, filed.text
    ticket = filed.json()
    for answer in (filed.text, opening.get("li.na", f"/tickets/{ticket['id']}").text):
        assert RESIDENT_ID not in answer and MOBILE not in answer and CARD not in answer
    assert ticket["values"]["legal_rep_id"] == "110***********002X"
    assert ticket["values"]["legal_rep_mobile"] == "138****5678"

    path = f"/tickets/{ticket['id']}/unmask"
    assert_problem(opening.post("li.na", path, json={"reason": "KYC"}), 403, "unmask_not_permitted")
    org.ensure_role(demo_ctx, key=views.UNMASK_ROLE, name_en="Personal data", name_zh="个人信息")
    roles = org.get_user(demo_ctx, None, "li.na").roles
    org.save_user(demo_ctx, None, "li.na", {"roles": [*roles, views.UNMASK_ROLE]})
    assert_problem(opening.post("li.na", path, json={"reason": ""}), 422, "unmask_reason_required")

    shown = opening.post("li.na", path, json={"reason": "KYC call-back"})

    assert shown.status_code == 200, shown.text
    assert shown.json()["values"] == {
        "legal_rep_id": RESIDENT_ID,
        "legal_rep_mobile": "+86" + MOBILE,
        "settlement_card": CARD,
    }
