"""/api/v1/admin/calendar/…: the business calendar's days and years, on both databases."""

from __future__ import annotations

import httpx2 as httpx
from api_client import API, Api, assert_problem


def _put(api: Api, who: str, path: str, body: object) -> httpx.Response:
    return api.client.put(f"{API}{path}", headers=api.headers(who), json=body)


def test_an_administrator_enters_2027_and_marks_it_covered(api: Api) -> None:
    before = api.get("admin", "/admin/calendar/years/2027")
    assert before.status_code == 200, before.text
    assert before.json()["coverage"] is None

    day_off = _put(
        api, "admin", "/admin/calendar/days/2027-01-01", {"working": False, "note": "元旦"}
    )
    assert day_off.status_code == 200, day_off.text
    assert day_off.json()["updated_by"] == "admin"
    make_up = _put(
        api, "admin", "/admin/calendar/days/2027-01-02", {"working": True, "hours": ["09:00-12:00"]}
    )
    assert make_up.json()["hours"] == ["09:00-12:00"]

    covered = _put(api, "admin", "/admin/calendar/years/2027", {"note": "国办发明电"})
    assert covered.json() == {
        "year": 2027,
        "coverage": "overrides",
        "days": 2,
        "working_days": 261,
        "marked_covered": True,
        "note": "国办发明电",
    }
    listed = api.get("admin", "/admin/calendar/days", params={"year": 2027}).json()
    assert [(d["date"], d["working"]) for d in listed] == [
        ("2027-01-01", False),
        ("2027-01-02", True),
    ]
    assert api.get("admin", "/admin/calendar/days/2027-01-02").json()["working"] is True
    library = api.get("admin", "/admin/calendar/years/2026").json()
    # 261 weekdays, 19 of them public holidays, 6 make-up weekend days (worked out by hand
    # from the 2026 State Council notice: 元旦 2, 春节 6, 清明 1, 劳动节 3, 端午 1, 中秋 1,
    # 国庆 5; make-up 4 Jan, 14 and 28 Feb, 9 May, 20 Sep, 10 Oct)
    assert (library["coverage"], library["working_days"]) == ("library", 248)

    removed = api.client.delete(
        f"{API}/admin/calendar/days/2027-01-02", headers=api.headers("admin")
    )
    assert removed.status_code == 204
    uncovered = api.client.delete(f"{API}/admin/calendar/years/2027", headers=api.headers("admin"))
    assert uncovered.json()["coverage"] is None


def test_errors_are_problems_with_paths(api: Api) -> None:
    crossing = _put(
        api,
        "admin",
        "/admin/calendar/days/2027-01-02",
        {"working": True, "hours": ["22:00-02:00"]},
    )
    body = assert_problem(crossing, 422, "validation_failed")
    assert [(e["path"], e["code"]) for e in body["errors"]] == [
        ("hours[0]", "interval_crosses_midnight")
    ]
    bad_date = _put(api, "admin", "/admin/calendar/days/2027-13-01", {"working": False})
    body = assert_problem(bad_date, 422, "validation_failed")
    assert body["errors"][0]["path"] == "date"
    unknown_key = _put(api, "admin", "/admin/calendar/days/2027-01-01", {"working": False, "x": 1})
    assert_problem(unknown_key, 422, "validation_failed")
    missing = api.get("admin", "/admin/calendar/days/2027-01-05")
    assert_problem(missing, 404, "calendar_day_not_found")
    not_marked = api.client.delete(f"{API}/admin/calendar/years/2030", headers=api.headers("admin"))
    assert_problem(not_marked, 404, "calendar_year_not_marked")
    assert_problem(api.get("admin", "/admin/calendar/years/1900"), 422, "validation_failed")


def test_only_administrators_see_or_change_the_calendar(api: Api) -> None:
    assert_problem(api.get("li.na", "/admin/calendar/days"), 403, "forbidden")
    refused = _put(api, "li.na", "/admin/calendar/days/2027-01-01", {"working": False})
    assert_problem(refused, 403, "forbidden")
    assert api.get("admin", "/admin/calendar/days").json() == []
    anonymous = api.client.get(f"{API}/admin/calendar/days")
    assert_problem(anonymous, 401, "unauthenticated")
