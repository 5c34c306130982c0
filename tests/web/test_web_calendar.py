"""The business calendar's admin page, in both languages, on both databases."""

from __future__ import annotations

from collections.abc import Callable

from web_helpers import Browser


def test_an_administrator_enters_2027_on_the_page(browser: Callable[..., Browser]) -> None:
    admin = browser("admin")
    page = admin.get("/admin/calendar?year=2027")
    assert page.status_code == 200, page.text[:500]
    assert "未覆盖" in page.text
    assert 'data-testid="no-days"' in page.text
    token = admin.csrf()

    saved = admin.post(
        "/admin/calendar/days",
        data={
            "date": "2027-01-01",
            "kind": "off",
            "hours": "",
            "note": "元旦",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text[:500]
    assert saved.headers["location"] == "/admin/calendar?year=2027&saved=day"
    admin.post(
        "/admin/calendar/days",
        data={
            "date": "2027-01-02",
            "kind": "working",
            "hours": "09:00-12:00，13:30-16:00",  # a Chinese comma separates too
            "note": "调休",
            "csrf_token": token,
        },
    )
    covered = admin.post(
        "/admin/calendar/years/2027/cover", data={"note": "国办发明电", "csrf_token": token}
    )
    assert covered.status_code == 200
    assert "已将本年标记为已覆盖" in covered.text
    assert covered.text.count('data-testid="day-row"') == 2
    assert "2027-01-02 周六" in covered.text
    assert "09:00-12:00、13:30-16:00" in covered.text
    assert "共 261 个工作日" in covered.text

    english = browser("admin", locale="en").get("/admin/calendar?year=2027")
    assert "Marked covered by an administrator: 261 working days" in english.text
    assert "Working day" in english.text

    removed = admin.post("/admin/calendar/days/2027-01-02/remove", data={"csrf_token": token})
    assert removed.text.count('data-testid="day-row"') == 1


def test_mistakes_are_listed_and_nothing_is_saved(browser: Callable[..., Browser]) -> None:
    admin = browser("admin", locale="en")
    refused = admin.post(
        "/admin/calendar/days",
        data={
            "date": "2027-01-02",
            "kind": "working",
            "hours": "22:00-02:00 9-12",
            "note": "",
            "csrf_token": admin.csrf(),
        },
    )
    assert refused.status_code == 422
    assert "An interval cannot cross midnight: split it at 24:00" in refused.text
    assert "Write working hours as HH:MM-HH:MM" in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert 'value="22:00-02:00 9-12"' in refused.text  # the entry is kept to be corrected
    assert 'data-testid="no-days"' in admin.get("/admin/calendar?year=2027").text


def test_the_library_year_shows_its_working_days_and_no_cover_button(
    browser: Callable[..., Browser],
) -> None:
    page = browser("admin").get("/admin/calendar?year=2026")
    assert "节假日库已包含本年：共 248 个工作日" in page.text
    assert 'data-testid="cover"' not in page.text
    assert 'href="/admin/calendar"' in page.text  # the admin tab


def test_non_admins_get_403(browser: Callable[..., Browser]) -> None:
    clerk = browser("zhang.wei")
    assert clerk.get("/admin/calendar").status_code == 403
    refused = clerk.post("/admin/calendar/years/2027/cover", data={"csrf_token": clerk.csrf()})
    assert refused.status_code == 403
    assert 'href="/admin/calendar"' in browser("admin").get("/admin/users").text
