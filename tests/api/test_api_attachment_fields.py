"""An attachment form field through the API (ADR 0037): upload, then name the ids in the
field's value; required, type, size and count checked with the field named; the ticket
lists the files and whoever reads it downloads them; nobody else does."""

from __future__ import annotations

from api_client import Api, assert_problem, loan_values, publish_yaml

from field_permission_app import attachment_yaml
from file_samples import JPEG, PDF, png


def _publish(api: Api) -> None:
    publish_yaml(api, attachment_yaml())


def _uploaded(api: Api, who: str, name: str, data: bytes) -> str:
    answer = api.post(who, "/attachments", files={"file": (name, data)})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def test_a_ticket_holds_its_files_and_its_readers_download_them(api: Api) -> None:
    _publish(api)
    licence = _uploaded(api, "zhang.wei", "营业执照.pdf", PDF)
    created = api.post(
        "zhang.wei", "/apps/loan/tickets", json={"values": loan_values("1000", licence=[licence])}
    )
    assert created.status_code == 201, created.text
    ticket_id = created.json()["id"]
    ticket = api.get("li.na", f"/tickets/{ticket_id}").json()
    assert ticket["values"]["licence"] == [licence]
    (listed,) = [a for a in ticket["attachments"] if a["id"] == licence]
    assert listed["filename"] == "营业执照.pdf"
    assert api.get("li.na", f"/attachments/{licence}").content == PDF
    assert api.get("huang.lei", f"/attachments/{licence}").status_code == 404
    # an upload is used once: a second ticket cannot take the same file
    again = api.post(
        "zhang.wei", "/apps/loan/tickets", json={"values": loan_values("1000", licence=[licence])}
    )
    body = assert_problem(again, 422, "validation_failed")
    assert [(e["path"], e["code"]) for e in body["errors"]] == [("licence[0]", "already_linked")]


def test_the_field_checks_required_type_count_and_whose_upload(api: Api) -> None:
    _publish(api)
    missing = api.post("zhang.wei", "/apps/loan/tickets", json={"values": loan_values("1000")})
    body = assert_problem(missing, 422, "validation_failed")
    assert ("licence", "required") in [(e["path"], e["code"]) for e in body["errors"]]

    photo = _uploaded(api, "zhang.wei", "licence.jpg", JPEG)
    pdf = _uploaded(api, "zhang.wei", "licence.pdf", PDF)
    wrong_type = api.post(
        "zhang.wei",
        "/apps/loan/tickets",
        json={"values": loan_values("1000", licence=[pdf, photo])},
        headers={"Accept-Language": "zh-CN"},
    )
    body = assert_problem(wrong_type, 422, "validation_failed")
    assert [(e["path"], e["code"]) for e in body["errors"]] == [("licence[1]", "attachment_type")]
    assert "PDF" in body["errors"][0]["message"].upper()

    three = [pdf, photo, _uploaded(api, "zhang.wei", "c.pdf", PDF)]
    too_many = api.post(
        "zhang.wei", "/apps/loan/tickets", json={"values": loan_values("1000", licence=three)}
    )
    body = assert_problem(too_many, 422, "validation_failed")
    assert [(e["path"], e["code"]) for e in body["errors"]] == [("licence", "too_many_files")]

    someone_elses = _uploaded(api, "xie.ting", "theirs.pdf", PDF)
    stolen = api.post(
        "zhang.wei",
        "/apps/loan/tickets",
        json={"values": loan_values("1000", licence=[someone_elses])},
    )
    body = assert_problem(stolen, 422, "validation_failed")
    assert [(e["path"], e["code"]) for e in body["errors"]] == [("licence[0]", "not_found")]
    not_an_id = api.post(
        "zhang.wei", "/apps/loan/tickets", json={"values": loan_values("1000", licence=["x"])}
    )
    assert [(e["path"], e["code"]) for e in not_an_id.json()["errors"]] == [
        ("licence", "invalid_attachment")
    ]


def test_a_resubmission_adds_a_file_and_keeps_the_first(api: Api) -> None:
    _publish(api)
    first = _uploaded(api, "zhang.wei", "a.pdf", PDF)
    created = api.post(
        "zhang.wei", "/apps/loan/tickets", json={"values": loan_values("1000", licence=[first])}
    )
    ticket_id = created.json()["id"]
    tasks = api.get("li.na", "/tasks", params={"assignee": "me", "state": "open"}).json()
    (task,) = [t for t in tasks["items"] if t["ticket_id"] == ticket_id]
    returned = api.post(
        "li.na", f"/tasks/{task['id']}/return", json={"target": "applicant", "comment": "补材料"}
    )
    assert returned.status_code == 200, returned.text
    second = _uploaded(api, "zhang.wei", "b.png", png())
    done = api.post(
        "zhang.wei",
        f"/tickets/{ticket_id}/resubmit",
        json={"values": {"licence": [first, second]}, "comment": "已补充"},
    )
    assert done.status_code == 200, done.text
    ticket = api.get("li.na", f"/tickets/{ticket_id}").json()
    assert ticket["values"]["licence"] == [first, second]
    assert {a["id"] for a in ticket["attachments"]} >= {first, second}
    assert api.get("li.na", f"/attachments/{second}").status_code == 200
