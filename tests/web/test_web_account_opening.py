"""The bundled account opening form on the web: filed with a picked customer, two
signatories and the licence; the ticket page shows the application number, the
customer's look-ups, the computed fields and the file."""

from __future__ import annotations

from collections.abc import Callable

from web_helpers import Browser

from account_opening_values import CARD, CREDIT_CODE, LEGAL_REP_ID, signatory
from file_samples import PDF
from flowdesk.engines.access import Actor
from flowdesk.services import links
from flowdesk.services.context import ServiceContext


def test_an_account_opening_is_filed_from_the_form(
    browser: Callable[..., Browser], demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    manager = browser("zhang.wei")
    page = manager.get("/apps/account_opening/new").text
    assert 'enctype="multipart/form-data"' in page
    (customer,) = links.options(
        demo_ctx, actors["zhang.wei"], "account_opening", "customer", "京西"
    )
    data = {
        "csrf_token": manager.csrf(),
        "customer": customer.id,
        "company_name": "北京京西建材有限公司",
        "credit_code": CREDIT_CODE,
        "account_type": "basic",
        "registered_capital": "5,000,000.00",
        "legal_rep_name": "陈华",
        "legal_rep_id": LEGAL_REP_ID,
        "legal_rep_mobile": "13812345678",
        "settlement_card": CARD,
        "account_manager": "zhang.wei",
        "opening_note": "",
    }
    for row in (1, 2):
        for column, value in signatory(row - 1).items():
            data[f"signatories[{row}].{column}"] = value
    filed = manager.post(
        "/apps/account_opening/new",
        data=data,
        files=[("licence[]", ("营业执照.pdf", PDF, "application/pdf"))],
        follow_redirects=False,
    )
    assert filed.status_code == 303, filed.text
    shown = manager.get(filed.headers["location"]).text
    assert "KH-" in shown and "北京京西建材有限公司（对公结算账户）" in shown
    assert "伍佰万元整" in shown
    assert "营业执照.pdf" in shown
