"""The designer's endpoints without a browser: who may open the page, the CSRF header,
the dry run and the publish (JSON, every problem at its element), and the ticket
diagram's JSON, read like the ticket. tests/e2e/test_designer.py drives the page itself."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from web_helpers import Browser

from flowdesk.services import apps
from flowdesk.services.context import ServiceContext

XML = {"Content-Type": "application/xml"}


def _posted(
    admin: Browser, url: str, body: str | bytes, token: str | None = None
) -> httpx.Response:
    headers = dict(XML)
    if token is not None:
        headers["X-CSRF-Token"] = token
    return admin.post(url, content=body, headers=headers)


def test_the_designer_opens_for_administrators_only(browser: Callable[..., Browser]) -> None:
    admin = browser("admin", locale="en")
    page = admin.get("/admin/apps/loan/designer")
    assert page.status_code == 200
    assert "bpmn-modeler.production.min.js" in page.text  # named for designer.js to load
    assert 'href="/admin/apps/loan/designer"' in admin.get("/admin/apps").text
    assert admin.get("/admin/apps/nope/designer").status_code == 404
    requester = browser("zhang.wei")
    assert requester.get("/admin/apps/loan/designer").status_code == 403
    refused = _posted(requester, "/admin/apps/loan/designer/check", "<x/>", requester.csrf())
    assert refused.status_code == 403


def test_check_and_publish_need_the_csrf_header_and_xml(
    browser: Callable[..., Browser],
) -> None:
    admin = browser("admin", locale="en")
    bpmn = admin.get("/admin/apps/loan/export.bpmn").text
    assert _posted(admin, "/admin/apps/loan/designer/publish", bpmn).status_code == 403
    wrong = _posted(admin, "/admin/apps/loan/designer/publish", bpmn, "not-the-token")
    assert wrong.status_code == 403
    as_json = admin.post(
        "/admin/apps/loan/designer/check",
        content=bpmn,
        headers={"Content-Type": "application/json", "X-CSRF-Token": admin.csrf()},
    )
    assert as_json.status_code == 415
    assert as_json.json()["errors"][0]["code"] == "unsupported_media_type"


def test_a_dry_run_publishes_nothing_and_publish_answers_the_version(
    browser: Callable[..., Browser], demo_ctx: ServiceContext
) -> None:
    admin = browser("admin", locale="en")
    token = admin.csrf()
    before = apps.current(demo_ctx, "loan").version
    bpmn = admin.get("/admin/apps/loan/export.bpmn").text.replace(
        '<flowdesk:name lang="en">Legal review</flowdesk:name>',
        '<flowdesk:name lang="en">Compliance review</flowdesk:name>',
    )
    checked = _posted(admin, "/admin/apps/loan/designer/check", bpmn, token)
    assert checked.status_code == 200, checked.text
    assert checked.json() == {"ok": True, "warnings": []}
    assert checked.headers["Cache-Control"] == "no-store"
    assert checked.headers["X-Content-Type-Options"] == "nosniff"
    assert apps.current(demo_ctx, "loan").version == before

    published = _posted(admin, "/admin/apps/loan/designer/publish", bpmn, token).json()
    assert published["version"] == before + 1 and published["changed"] is True
    current = apps.current(demo_ctx, "loan")
    assert current.spec.process.nodes["legal_review"].name["en"] == "Compliance review"
    again = _posted(admin, "/admin/apps/loan/designer/publish", bpmn, token).json()
    assert again["version"] == before + 1 and again["changed"] is False


def test_every_problem_comes_back_with_its_element(browser: Callable[..., Browser]) -> None:
    admin = browser("admin", locale="en")
    token = admin.csrf()
    bpmn = admin.get("/admin/apps/loan/export.bpmn").text
    # the join loses its only way out: the join and everything before it cannot end
    start = bpmn.index('<bpmn:sequenceFlow id="Flow_join_committee"')
    end = bpmn.index("/>", start) + 2
    broken = bpmn[:start] + bpmn[end:]
    answer = _posted(admin, "/admin/apps/loan/designer/check", broken, token)
    assert answer.status_code == 422
    errors = answer.json()["errors"]
    assert ("bpmn[join]", "join", "no_outgoing") in {
        (e["path"], e["element"], e["code"]) for e in errors
    }
    assert ("committee", "unreachable") in {(e["element"], e["code"]) for e in errors}
    not_xml = _posted(admin, "/admin/apps/loan/designer/check", "not xml", token)
    assert not_xml.status_code == 422
    assert not_xml.json()["errors"][0]["code"] == "xml_syntax"


def test_the_ticket_diagram_is_read_like_the_ticket(browser: Callable[..., Browser]) -> None:
    requester = browser("zhang.wei")
    ticket = requester.file_loan()
    page = requester.get(f"/tickets/{ticket}").text
    assert f'data-diagram-url="/tickets/{ticket}/diagram"' in page
    assert "bpmn-navigated-viewer" in page  # named for the loader, not loaded with the page
    assert '<script src="/static/vendor/bpmn-js' not in page
    answer = requester.get(f"/tickets/{ticket}/diagram")
    assert answer.status_code == 200
    data = answer.json()
    assert set(data["current"]) == {"legal_review", "finance_review"}
    assert "start" in data["passed"] and data["bpmn"].startswith("<?xml")
    assert answer.headers["Content-Security-Policy"].startswith("default-src 'self'")
    stranger = browser("xu.ming")
    assert stranger.get(f"/tickets/{ticket}/diagram").status_code == 404
    assert stranger.get(f"/tickets/{'0' * 32}/diagram").status_code == 404
    assert stranger.get("/tickets/not-an-id/diagram").status_code == 404
