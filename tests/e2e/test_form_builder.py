"""The form builder (ADR 0039) in Chromium: an administrator builds a form from scratch.

Starting from an app whose form has one placeholder field, the administrator removes it
and adds, from the palette, a text field, a money field, a single choice with two
options, a formula and a field shown only for one choice, reorders them with the buttons
and by dragging, tries the rules in the preview (desktop and phone width), publishes a
form with a broken formula and a rule naming a field that does not exist and sees both
problems listed together and beside their field, fixes them and publishes version 2.
An applicant then files a ticket on the new form: a bad amount gets its message, a good
one files and the formula's result is on the ticket. A second form gets a sub-table
built in the columns editor (a date and an amount column), a formula summing its amounts
and an attachment; a wrong column setting is shown on its column, and a ticket with two
rows, one of them wrong, gets the message on that row's cell. Content-Security-Policy is
enforced and the console must stay free of errors. Screenshots at 375 and 1280 px in
zh-CN and en land in FLOWDESK_E2E_SCREENSHOTS (or the test's tmp folder).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_designer import Tab

from file_samples import PDF
from flowdesk.engines.apps import dump_app_yaml, load_bundled_template
from flowdesk.main import create_app
from flowdesk.services import apps, demo
from flowdesk.services.context import ServiceContext, fast_hasher
from flowdesk.settings import Settings
from live_server import serving
from table_forms import table_app

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
ABORTED = ("htmx:afterRequest", "htmx:sendAbort")
STARTING_APP = """
key: desk_loan
name: {en: Desk loan, zh: 柜面贷款}
serial_prefix: DL
form:
  fields:
    - {key: placeholder, type: text, label: {en: Placeholder, zh: 占位}}
process:
  nodes:
    - {id: start, type: start}
    - id: review
      type: user_task
      name: {en: Review, zh: 审核}
      assignee: {kind: applicant_manager}
    - {id: end, type: end}
  flows:
    - {from: start, to: review}
    - {from: review, to: end}
"""


def _renamed(key: str, name: str, prefix: str) -> str:
    """The starting app under another key, name and serial prefix."""
    return (
        STARTING_APP.replace("desk_loan", key)
        .replace("Desk loan, zh: 柜面贷款", name)
        .replace("serial_prefix: DL", f"serial_prefix: {prefix}")
    )


CLAIM_APP = _renamed("desk_claim", "Desk claim, zh: 柜面报销", "DC")


def _loan_with_one_field() -> str:
    """The loan app under another key with only the field its branch condition reads
    (amount <= 50000): the form the loan test rebuilds from scratch."""
    definition = yaml.safe_load(dump_app_yaml(load_bundled_template("loan")))
    definition.update(key="loan_rebuilt", serial_prefix="LR", summary=["amount"])
    definition["form"]["fields"] = [
        {"key": "amount", "type": "money", "label": {"en": "Amount", "zh": "金额"}}
    ]
    return yaml.safe_dump(definition, allow_unicode=True)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ServiceContext]]:
    data = tmp_path_factory.mktemp("e2e-form-builder")
    app = create_app(Settings(dev=True, database_url=f"sqlite:///{data / 'flowdesk.db'}"))
    ctx = app.state.ctx
    ctx.hasher = fast_hasher()
    assert demo.load(ctx)
    apps.publish_yaml(ctx, STARTING_APP)
    apps.publish_yaml(ctx, CLAIM_APP)
    apps.publish_yaml(ctx, _renamed("desk_link", "Desk link, zh: 柜面关联", "DK"))
    apps.publish_yaml(ctx, yaml.safe_dump(table_app(), allow_unicode=True))
    apps.publish_yaml(ctx, _loan_with_one_field())
    with serving(app) as url:
        yield url, ctx
    ctx.db.dispose()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    chosen = os.environ.get("FLOWDESK_E2E_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path / "shots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _settings(page: Any) -> Any:
    return page.get_by_test_id("settings-form")


def _add(page: Any, kind: str, key: str, zh: str, en: str) -> None:
    """A field from the palette, with its key and both labels typed in the panel."""
    page.get_by_test_id("palette").get_by_test_id(f"add-{kind}").click()
    panel = _settings(page)
    panel.locator("[data-setting=key]").fill(key)
    panel.get_by_test_id("setting-label-zh").fill(zh)
    panel.get_by_test_id("setting-label-en").fill(en)
    sync_api.expect(page.get_by_test_id(f"field-{key}")).to_be_visible()


def _set(page: Any, setting: str, value: str) -> None:
    _settings(page).locator(f"[data-setting={setting}]").fill(value)


def _order(page: Any) -> list[str]:
    ids = page.locator("[data-testid=field-list] .builder-field-select").evaluate_all(
        "(els) => els.map((e) => e.dataset.testid.slice(6))"
    )
    return list(ids)


def _settle(page: Any) -> None:
    """The new-ticket form redraws its fields on the server after each change (ADR 0031);
    a redraw answering after the next field was typed would put back the old value."""
    page.wait_for_load_state("networkidle")


def _type(page: Any, selector: str, value: str) -> None:
    page.fill(selector, value)
    page.locator(selector).blur()
    _settle(page)


def _open_builder(page: Any) -> None:
    page.goto("/admin/apps")
    page.get_by_test_id("admin-app-desk_loan").get_by_test_id("form-builder-link").click()
    page.wait_for_url(re.compile(r".*/admin/apps/desk_loan/form-builder$"))
    page.wait_for_selector("[data-testid=builder][data-ready]")


def _build(page: Any) -> None:
    """The form from scratch, with a formula that does not parse and a rule naming a field
    the form does not have."""
    page.get_by_test_id("field-placeholder").locator("xpath=..").get_by_test_id("remove").click()
    assert _order(page) == []
    _add(page, "text", "customer", "客户名称", "Customer")
    _settings(page).locator("[data-setting=required]").check()
    _set(page, "max_length", "100")
    _add(page, "money", "amount", "贷款金额", "Loan amount")
    _settings(page).locator("[data-setting=required]").check()
    _set(page, "min", "1")
    _set(page, "max", "1000000")
    _add(page, "choice", "rating", "信用评级", "Rating")
    options = _settings(page).get_by_test_id("options")
    first = options.get_by_test_id("option").nth(0)
    first.locator("[data-option=value]").fill("A")
    first.locator("[data-option=zh]").fill("A 级")
    first.locator("[data-option=en]").fill("Grade A")
    options.get_by_test_id("add-option").click()
    second = _settings(page).get_by_test_id("options").get_by_test_id("option").nth(1)
    second.locator("[data-option=value]").fill("B")
    second.locator("[data-option=zh]").fill("B 级")
    second.locator("[data-option=en]").fill("Grade B")
    _add(page, "formula", "fee", "手续费", "Fee")
    _set(page, "formula", "ROUND(amount * 0.01, 2")  # the closing parenthesis is missing
    _add(page, "long_text", "reason", "评级说明", "Why grade B")
    _set(page, "visible_when", "ratng == 'B'")  # misspelt field
    _settings(page).locator("[data-setting=required]").check()
    assert _order(page) == ["customer", "amount", "rating", "fee", "reason"]


def _reorder(page: Any) -> None:
    """The rating before the amount with its Move up button, then the amount dragged back
    above it; Alt+ArrowDown moves the selected field down."""
    row = page.get_by_test_id("field-rating").locator("xpath=..")
    row.get_by_test_id("up").click()
    assert _order(page) == ["customer", "rating", "amount", "fee", "reason"]
    page.get_by_test_id("field-amount").locator("xpath=..").drag_to(
        page.get_by_test_id("field-rating").locator("xpath=.."),
        target_position={"x": 20, "y": 4},
    )
    assert _order(page) == ["customer", "amount", "rating", "fee", "reason"]
    page.get_by_test_id("field-customer").focus()
    page.keyboard.press("Alt+ArrowDown")
    assert _order(page) == ["amount", "customer", "rating", "fee", "reason"]
    page.keyboard.press("Alt+ArrowUp")
    assert _order(page) == ["customer", "amount", "rating", "fee", "reason"]


def test_the_builder_builds_publishes_and_the_form_files_a_ticket(
    chromium: Any, served: tuple[str, ServiceContext], shots: Path
) -> None:
    base, ctx = served
    tab = Tab(chromium, base, "admin")
    page = tab.page
    _open_builder(page)
    _build(page)
    _reorder(page)

    page.get_by_test_id("builder-publish").click()
    problems = page.get_by_test_id("builder-problems").get_by_test_id("problem")
    sync_api.expect(problems).to_have_count(2)
    texts = problems.all_inner_texts()
    assert any("form.fields[3].formula" in t for t in texts), texts
    assert any("form.fields[4].visible_when" in t and "ratng" in t for t in texts), texts
    sync_api.expect(page.get_by_test_id("builder-status")).to_contain_text("Not publishable")
    # beside the fields: a badge on each card, the message under the setting
    sync_api.expect(page.get_by_test_id("field-problems")).to_have_count(2)
    problems.nth(0).locator("button").click()
    sync_api.expect(_settings(page).get_by_test_id("setting-error")).to_contain_text("formula")
    page.screenshot(path=str(shots / "form-builder-errors-1280-en.png"), full_page=True)
    assert apps.current(ctx, "desk_loan").version == 1  # nothing published

    _set(page, "formula", "ROUND(amount * 0.01, 2)")
    page.get_by_test_id("field-reason").click()
    _set(page, "visible_when", "rating == 'B'")
    page.get_by_test_id("builder-check").click()
    sync_api.expect(page.get_by_test_id("builder-status")).to_contain_text("No problems")

    # the preview runs the rules on the server: the reason shows for grade B only
    preview = page.get_by_test_id("preview-frame")
    sync_api.expect(preview.locator("[data-field=amount]")).to_be_visible()
    sync_api.expect(preview.locator("[data-field=reason]")).to_be_hidden()
    preview.locator("#f-amount").fill("20000")
    preview.locator("input[name=rating][value=B]").check()
    sync_api.expect(preview.locator("[data-field=reason]")).to_be_visible()
    sync_api.expect(preview.get_by_test_id("computed-fee")).to_have_text(re.compile("200"))
    page.get_by_test_id("preview-phone").click()
    assert preview.bounding_box()["width"] <= 375

    page.get_by_test_id("builder-publish").click()
    sync_api.expect(page.get_by_test_id("builder-status")).to_contain_text("Published version 2")
    published = apps.current(ctx, "desk_loan")
    assert published.version == 2
    form = published.spec.form
    assert form.keys() == ("customer", "amount", "rating", "fee", "reason")
    assert form.field("reason").visible_when == "rating == 'B'"
    assert [o.value for o in form.field("rating").options] == ["A", "B"]
    # the refused publish answered 422, which the browser logs; nothing else
    assert [e for e in tab.errors if "status of 422" not in e] == []
    tab.close()

    # an applicant files a ticket on the new form
    tab = Tab(chromium, base, "zhang.wei")
    page = tab.page
    page.goto("/apps/desk_loan/new")
    # typed at once: each change's redraw answers after the next field was typed into,
    # and keeps what was typed there
    page.fill("#f-customer", "华东机械有限公司")
    page.fill("#f-amount", "2000000")
    page.locator("input[name=rating][value=A]").check()
    _settle(page)
    sync_api.expect(page.locator("#f-customer")).to_have_value("华东机械有限公司")
    sync_api.expect(page.locator("#f-amount")).to_have_value("2000000")
    page.click("[data-testid=ticket-form] button[type=submit]")
    sync_api.expect(page.get_by_test_id("error-summary")).to_be_visible()
    sync_api.expect(page.locator("[data-field=amount]")).to_contain_text("1,000,000")
    _type(page, "#f-amount", "50000")
    page.click("[data-testid=ticket-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*/tickets/[0-9a-f]{32}$"))
    sync_api.expect(page.locator("main")).to_contain_text("500.00")  # the fee, computed
    # the refused filing (422), and htmx's note of each redraw it dropped for a newer one
    # (hx-sync replace aborts it); nothing else
    assert [e for e in tab.errors if not e.startswith(ABORTED) and "status of 422" not in e] == []
    tab.close()


def _column(page: Any, j: int) -> Any:
    return _settings(page).get_by_test_id("column").nth(j)


def _build_claim(page: Any) -> None:
    """A sub-table of two columns (a date, a required amount with a minimum that is no
    number), a formula summing the amounts and a required PDF attachment."""
    page.get_by_test_id("field-placeholder").locator("xpath=..").get_by_test_id("remove").click()
    _add(page, "table", "lines", "明细", "Lines")
    first = _column(page, 0)
    first.locator("[data-setting='columns[0].key']").fill("day")
    first.locator("[data-setting='columns[0].type']").select_option("date")
    first = _column(page, 0)  # redrawn for its new type: a date's settings
    first.get_by_test_id("setting-columns[0].label-zh").fill("日期")
    first.get_by_test_id("setting-columns[0].label-en").fill("Date")
    _settings(page).get_by_test_id("add-column").click()
    # the new column's key has the focus, and its arrival is announced
    added = page.locator("[data-setting='columns[1].key']")
    sync_api.expect(added).to_be_focused()
    sync_api.expect(page.locator("#builder-live")).to_contain_text("position 2")
    added.fill("amount")
    page.locator("[data-setting='columns[1].type']").select_option("money")
    second = _column(page, 1)
    second.get_by_test_id("setting-columns[1].label-zh").fill("金额")
    second.get_by_test_id("setting-columns[1].label-en").fill("Amount")
    second.locator("[data-setting='columns[1].required']").check()
    second.locator("[data-setting='columns[1].min']").fill("one")  # no number
    # a column cannot be another table, nor a multiple choice (spec.NOT_COLUMN_TYPES)
    offered = second.locator("[data-setting='columns[1].type'] option").evaluate_all(
        "(os) => os.map((o) => o.value)"
    )
    assert "money" in offered and "table" not in offered and "multi_choice" not in offered
    # reordered with the keyboard and back with the buttons
    second.locator("[data-setting='columns[1].key']").focus()
    page.keyboard.press("Alt+ArrowUp")
    sync_api.expect(page.locator("[data-setting='columns[0].key']")).to_have_value("amount")
    sync_api.expect(page.locator("[data-setting='columns[0].key']")).to_be_focused()
    sync_api.expect(page.locator("#builder-live")).to_contain_text("position 1")
    _column(page, 0).get_by_test_id("column-down").click()
    sync_api.expect(page.locator("[data-setting='columns[1].key']")).to_have_value("amount")
    _add(page, "formula", "total", "合计", "Total")
    _set(page, "formula", "SUM(lines.amount)")
    _add(page, "attachment", "receipt", "发票", "Receipt")
    _settings(page).locator("[data-setting=required]").check()
    _set(page, "accept", "pdf")
    _set(page, "max_files", "1")


def test_a_sub_table_and_an_attachment_built_published_and_filed(
    chromium: Any, served: tuple[str, ServiceContext], shots: Path
) -> None:
    base, ctx = served
    tab = Tab(chromium, base, "admin")
    page = tab.page
    page.goto("/admin/apps/desk_claim/form-builder")
    page.wait_for_selector("[data-testid=builder][data-ready]")
    _build_claim(page)

    page.get_by_test_id("builder-publish").click()
    problems = page.get_by_test_id("builder-problems").get_by_test_id("problem")
    sync_api.expect(problems).to_have_count(1)
    assert "form.fields[0].columns[1].min" in problems.inner_text()
    problems.locator("button").click()  # to the column's own setting
    sync_api.expect(page.locator("[data-setting='columns[1].min']")).to_be_focused()
    sync_api.expect(_column(page, 1).get_by_test_id("setting-error")).to_contain_text(
        "columns[1].min"
    )
    assert apps.current(ctx, "desk_claim").version == 1
    page.locator("[data-setting='columns[1].min']").fill("0.01")
    page.get_by_test_id("builder-check").click()
    sync_api.expect(page.get_by_test_id("builder-status")).to_contain_text("No problems")
    # the live preview shows the sub-table with its columns
    preview = page.get_by_test_id("preview-frame")
    sync_api.expect(preview.get_by_test_id("row-lines-1")).to_be_visible()
    sync_api.expect(preview.locator("[name='lines[1].amount']")).to_be_visible()
    sync_api.expect(preview.locator("[name='lines[1].day']")).to_be_visible()
    sync_api.expect(preview.get_by_test_id("add-lines")).to_be_hidden()  # no round trip there
    page.get_by_test_id("builder-publish").click()
    sync_api.expect(page.get_by_test_id("builder-status")).to_contain_text("Published version 2")
    form = apps.current(ctx, "desk_claim").spec.form
    assert form.keys() == ("lines", "total", "receipt")
    lines = form.field("lines")
    assert [(c.key, c.type.value, c.required) for c in lines.columns] == [
        ("day", "date", False),
        ("amount", "money", True),
    ]
    assert form.field("total").formula == "SUM(lines.amount)"
    assert [e for e in tab.errors if "status of 422" not in e] == []
    tab.close()

    # an applicant files two rows, the second one's amount wrong, with the receipt
    tab = Tab(chromium, base, "zhang.wei")
    page = tab.page
    page.goto("/apps/desk_claim/new")
    receipt = shots.parent / "发票.pdf"
    receipt.write_bytes(PDF)
    page.fill("[name='lines[1].day']", "2026-12-01")
    page.fill("[name='lines[1].amount']", "120.50")
    page.locator("[name='lines[1].amount']").blur()
    _settle(page)
    page.click("[data-testid=add-lines]")
    page.wait_for_selector("[data-testid=row-lines-2]")
    _settle(page)
    page.fill("[name='lines[2].day']", "2026-12-02")
    page.fill("[name='lines[2].amount']", "8O.00")  # a letter O
    page.set_input_files("#f-receipt", str(receipt))
    page.click("[data-testid=ticket-form] button[type=submit]")
    error = page.locator("[data-testid='error-lines[2].amount']")
    sync_api.expect(error).to_be_visible()
    assert page.locator("[data-testid='error-lines[1].amount']").count() == 0
    sync_api.expect(page.locator("[name='lines[1].amount']")).to_have_value("120.50")
    _type(page, "[name='lines[2].amount']", "80.00")
    page.set_input_files("#f-receipt", str(receipt))
    _settle(page)  # the redraw the file's change asks for keeps the chosen file
    page.click("[data-testid=ticket-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*/tickets/[0-9a-f]{32}$"))
    sync_api.expect(page.get_by_test_id("table-lines").locator("tbody tr")).to_have_count(2)
    sync_api.expect(page.locator("[data-field=total]")).to_contain_text("200.50")
    receipt_link = page.locator("[data-field=receipt]").get_by_test_id("attachment-link")
    sync_api.expect(receipt_link).to_have_text("发票.pdf")
    assert [e for e in tab.errors if not e.startswith(ABORTED) and "status of 422" not in e] == []
    tab.close()


LOAN_OPTIONS = {
    "credit_rating": [
        ("A", "A 级（优）", "A (excellent)"),
        ("B", "B 级（良）", "B (good)"),
        ("C", "C 级（一般）", "C (fair)"),
    ],
    "region": [
        ("north", "华北", "North China"),
        ("south", "华南", "South China"),
        ("east", "华东", "East China"),
        ("west", "西部", "West China"),
        ("central", "华中", "Central China"),
    ],
}


def _options(page: Any, key: str) -> None:
    for i, (value, zh, en) in enumerate(LOAN_OPTIONS[key]):
        if i:
            _settings(page).get_by_test_id("add-option").click()
        row = _settings(page).get_by_test_id("options").get_by_test_id("option").nth(i)
        row.locator("[data-option=value]").fill(value)
        row.locator("[data-option=zh]").fill(zh)
        row.locator("[data-option=en]").fill(en)


def _required(page: Any) -> None:
    _settings(page).locator("[data-setting=required]").check()


def test_the_builder_produces_the_loan_form_from_scratch(
    chromium: Any, served: tuple[str, ServiceContext]
) -> None:
    """Every field of the bundled loan form, built in the builder: the published form
    equals the template's, field for field."""
    base, ctx = served
    tab = Tab(chromium, base, "admin")
    page = tab.page
    page.goto("/admin/apps/loan_rebuilt/form-builder")
    page.wait_for_selector("[data-testid=builder][data-ready]")
    page.get_by_test_id("field-amount").locator("xpath=..").get_by_test_id("remove").click()
    _add(page, "text", "applicant_name", "申请人姓名", "Applicant name")
    _required(page)
    _set(page, "max_length", "100")
    _add(page, "money", "amount", "贷款金额", "Loan amount")
    _settings(page).get_by_test_id("setting-help-zh").fill(
        "单位：元，金额范围 1.00 至 100,000,000.00"
    )
    _settings(page).get_by_test_id("setting-help-en").fill("In yuan, from 1.00 to 100,000,000.00")
    _required(page)
    _settings(page).locator("[data-setting=currency]").select_option("CNY")
    _set(page, "min", "1")
    _set(page, "max", "100000000")
    _add(page, "integer", "term_months", "贷款期限（月）", "Term (months)")
    _required(page)
    _set(page, "min", "1")
    _set(page, "max", "360")
    _add(page, "choice", "credit_rating", "信用评级", "Credit rating")
    _required(page)
    _options(page, "credit_rating")
    _add(page, "choice", "region", "区域", "Region")
    _required(page)
    _options(page, "region")
    _add(page, "long_text", "purpose", "贷款用途", "Purpose of the loan")
    _required(page)
    _set(page, "max_length", "1000")
    page.get_by_test_id("builder-publish").click()
    sync_api.expect(page.get_by_test_id("builder-status")).to_contain_text("Published version 2")
    assert apps.current(ctx, "loan_rebuilt").spec.form == load_bundled_template("loan").form
    assert not tab.errors, tab.errors
    tab.close()


@pytest.mark.parametrize("locale", ["zh", "en"])
@pytest.mark.parametrize("width", ["375", "1280"])
def test_builder_screenshots(
    chromium: Any, served: tuple[str, ServiceContext], shots: Path, locale: str, width: str
) -> None:
    """The builder of the loan app, a choice field selected, at both widths and languages."""
    base, _ctx = served
    tab = Tab(chromium, base, "admin", viewport=PHONE if width == "375" else DESKTOP, locale=locale)
    page = tab.page
    page.goto("/admin/apps/loan/form-builder")
    page.wait_for_selector("[data-testid=builder][data-ready]")
    page.get_by_test_id("field-credit_rating").click()
    page.wait_for_selector("[data-testid=preview-frame][data-ready]")
    page.screenshot(path=str(shots / f"form-builder-{width}-{locale}.png"), full_page=True)
    if width == "375":  # a phone's long page, a screen at a time, to be read at full size
        height = page.evaluate("document.documentElement.scrollHeight")
        for n, top in enumerate(range(0, height, 1200)):
            clip = {"x": 0, "y": top, "width": 375, "height": min(1200, height - top)}
            page.screenshot(
                path=str(shots / f"form-builder-375-{locale}-{n}.png"), full_page=True, clip=clip
            )
    assert not tab.errors, tab.errors
    tab.close()


def test_a_link_names_a_published_app_and_a_roll_up_its_field(
    chromium: Any, served: tuple[str, ServiceContext], shots: Path
) -> None:
    """A link field's app is picked from the published apps (record apps first), its
    look-ups and a roll-up's field from that app's fields; the form publishes."""
    base, ctx = served
    tab = Tab(chromium, base, "admin")
    page = tab.page
    page.goto("/admin/apps/desk_link/form-builder")
    page.wait_for_selector("[data-testid=builder][data-ready]")
    _add(page, "link", "customer_ref", "客户", "Customer")
    app = _settings(page).locator("[data-setting=app]")
    offered = app.locator("option").evaluate_all("(os) => os.map((o) => o.value)")
    assert offered[:2] == ["", "customers"] and "loan" in offered  # the record app first
    app.select_option("customers")
    sync_api.expect(_settings(page).locator("[data-setting=app]")).to_be_focused()
    _settings(page).get_by_label("customer_name", exact=False).check()
    _add(page, "rollup", "loans_count", "客户数", "Customers")
    _settings(page).locator("[data-setting=link]").select_option("customer_ref")
    field = _settings(page).locator("[data-setting=field]")
    sync_api.expect(field.locator("option[value=customer_no]")).to_have_count(1)
    field.select_option("customer_no")
    _settings(page).locator("[data-setting=aggregate]").select_option("count")
    page.get_by_test_id("builder-check").click()
    sync_api.expect(page.get_by_test_id("builder-status")).to_contain_text("No problems")
    page.screenshot(path=str(shots / "form-builder-rollup-1280-en.png"), full_page=True)
    page.get_by_test_id("builder-publish").click()
    sync_api.expect(page.get_by_test_id("builder-status")).to_contain_text("Published version 2")
    form = apps.current(ctx, "desk_link").spec.form
    link = form.field("customer_ref")
    assert (link.link_app, link.lookup) == ("customers", ("customer_name",))
    rollup = form.field("loans_count")
    assert (rollup.link_field, rollup.rollup_field, rollup.aggregate) == (
        "customer_ref",
        "customer_no",
        "count",
    )
    assert not tab.errors, tab.errors
    tab.close()


@pytest.mark.parametrize("locale", ["zh", "en"])
@pytest.mark.parametrize("width", ["375", "1280"])
def test_link_settings_screenshots(
    chromium: Any, served: tuple[str, ServiceContext], shots: Path, locale: str, width: str
) -> None:
    """A new link field's settings with the customers app chosen: its look-up fields to
    tick, named in the page's language (nothing published)."""
    base, _ctx = served
    tab = Tab(chromium, base, "admin", viewport=PHONE if width == "375" else DESKTOP, locale=locale)
    page = tab.page
    page.goto("/admin/apps/loan/form-builder")
    page.wait_for_selector("[data-testid=builder][data-ready]")
    page.get_by_test_id("palette").get_by_test_id("add-link").click()
    _settings(page).locator("[data-setting=app]").select_option("customers")
    lookup = _settings(page).locator("fieldset.builder-checks")
    sync_api.expect(lookup).to_contain_text("客户名称" if locale == "zh" else "Customer name")
    lookup.scroll_into_view_if_needed()
    _settings(page).screenshot(path=str(shots / f"form-builder-link-{width}-{locale}.png"))
    assert not tab.errors, tab.errors
    tab.close()


@pytest.mark.parametrize("locale", ["zh", "en"])
@pytest.mark.parametrize("width", ["375", "1280"])
def test_columns_editor_screenshots(
    chromium: Any, served: tuple[str, ServiceContext], shots: Path, locale: str, width: str
) -> None:
    """The columns editor of the expense lines (a choice column, a formula column), at
    both widths and in both languages: the column's settings under its own legend."""
    base, _ctx = served
    tab = Tab(chromium, base, "admin", viewport=PHONE if width == "375" else DESKTOP, locale=locale)
    page = tab.page
    page.goto("/admin/apps/expenses/form-builder")
    page.wait_for_selector("[data-testid=builder][data-ready]")
    page.get_by_test_id("field-lines").click()
    columns = _settings(page).get_by_test_id("columns")
    sync_api.expect(columns.get_by_test_id("column")).to_have_count(6)
    legend = columns.get_by_test_id("column").nth(4).locator("legend").first
    sync_api.expect(legend).to_contain_text("金额" if locale == "zh" else "Amount")
    formula = columns.locator("[data-setting='columns[4].formula']")
    sync_api.expect(formula).to_have_value("ROUND(qty * price, 2)")
    # no column offers what a column cannot carry
    assert columns.locator("[data-setting$='.visible_when']").count() == 0
    page.wait_for_selector("[data-testid=preview-frame][data-ready]")
    columns.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / f"form-builder-columns-{width}-{locale}.png"))
    box = columns.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= int(width)
    assert not tab.errors, tab.errors
    tab.close()


def test_the_builder_is_for_administrators(
    chromium: Any, served: tuple[str, ServiceContext]
) -> None:
    base, _ctx = served
    tab = Tab(chromium, base, "zhang.wei")
    response = tab.page.goto("/admin/apps/loan/form-builder")
    assert response is not None and response.status == 403
    tab.close()
