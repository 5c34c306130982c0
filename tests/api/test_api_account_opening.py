"""The bundled account opening app through the API: the clerk finds the customer with
the link search, uploads the licence and files; the answer carries the customer's
look-ups, the computed fields and the application number, personal numbers masked. A
bad signatory's resident ID is named by its row, with every other error at once, and
no personal value is echoed."""

from __future__ import annotations

from api_client import Api, assert_problem

from account_opening_values import BAD_ID, LEGAL_REP_ID, SIGNATORY_IDS, opening_values, signatory
from file_samples import PDF

CLERK = "feng.xue"


def _customer(api: Api, q: str) -> str:
    found = api.get(CLERK, "/apps/account_opening/links/customer", params={"q": q})
    assert found.status_code == 200, found.text
    (customer,) = found.json()
    return str(customer["id"])


def _licence(api: Api) -> str:
    answer = api.post(CLERK, "/attachments", files={"file": ("营业执照.pdf", PDF)})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def test_an_account_opening_is_filed_with_its_look_ups_and_number(api: Api) -> None:
    values = opening_values(_customer(api, "京西"), [_licence(api)])
    filed = api.post(CLERK, "/apps/account_opening/tickets", json={"values": values})
    assert filed.status_code == 201, filed.text
    ticket = filed.json()
    assert ticket["values"]["application_no"] == ticket["serial"]
    assert ticket["values"]["signatory_count"] == "2"
    assert ticket["values"]["legal_rep_sex"] == "female"
    (customer,) = ticket["links"]["customer"]
    assert customer["title"] == "北京京西建材有限公司"
    assert [(v["key"], v["text"]) for v in customer["lookup"]] == [
        ("manager", "zhang.wei"),
        ("segment", "SME"),
    ]
    assert [t["node_id"] for t in ticket["open_tasks"]] == ["manager_review"]
    for number in (LEGAL_REP_ID, *SIGNATORY_IDS):
        assert number not in filed.text


def test_a_bad_signatory_id_is_named_by_row_with_every_other_error(api: Api) -> None:
    second = {**signatory(1), "resident_id": BAD_ID}
    third = {**signatory(0), "name": "孙强", "mobile": "1381234"}
    values = opening_values(
        _customer(api, "华信"),
        [],
        signatories=[signatory(0), second, third],
        legal_rep_mobile="12345678901",
        signatory_count="3",
    )
    refused = api.post(
        CLERK,
        "/apps/account_opening/tickets",
        json={"values": values},
        headers={"Accept-Language": "zh-CN"},
    )
    problem = assert_problem(refused, 422, "validation_failed")
    errors = {(e["path"], e["code"]): e["message"] for e in problem["errors"]}
    assert list(errors) == [
        ("legal_rep_mobile", "mobile_number"),
        ("signatories[2].resident_id", "resident_id_check_digit"),
        ("signatories[3].mobile", "mobile_length"),
        ("signatory_count", "computed_field"),
        ("licence", "required"),
    ]
    assert errors[("signatories[2].resident_id", "resident_id_check_digit")] == "身份证号校验位错误"
    for personal in (BAD_ID, "1381234", "12345678901"):
        assert personal not in refused.text
    listed = api.get(CLERK, "/tickets", params={"scope": "mine"}).json()
    assert listed["items"] == []  # nothing half-written
