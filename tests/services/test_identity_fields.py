"""Account opening with China's identity numbers, on both databases: a bad number refuses the
ticket with every error at once and stores nothing; a good one is kept in full, shown masked
(RELIABILITY promise 8) and unmasked only for a permitted reader with a reason, audited; a
masked value sent back never overwrites the stored one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from loan_desk import Desk
from sqlalchemy import func, select

from flowdesk.kernel.errors import Forbidden, ValidationFailed
from flowdesk.services import apps, task_returns, tickets, views
from flowdesk.store import audit as audit_store
from flowdesk.store.tables import AuditLog, Ticket
from identity_app import CARD, CREDIT_CODE, MOBILE, RESIDENT_ID, account_opening_app, good_values


@pytest.fixture
def opening(desk: Desk) -> Desk:
    apps.publish_yaml(desk.ctx, account_opening_app())
    return desk


def _counts(desk: Desk) -> tuple[int, int]:
    with desk.ctx.db.read() as conn:
        filed = conn.execute(select(func.count()).select_from(Ticket)).scalar_one()
        return filed, audit_store.head(conn)[0]


def _submit(desk: Desk, values: dict[str, object], **kw: Any) -> str:
    outcome = tickets.submit(
        desk.ctx, actor=desk.actors["zhang.wei"], app_key="account_opening", values=values, **kw
    )
    return outcome.ticket_id


def test_bad_numbers_refuse_the_ticket_with_every_error_and_store_nothing(opening: Desk) -> None:
    before = _counts(opening)
    bad = good_values(
        credit_code=CREDIT_CODE[:-1] + "M",
        legal_rep_id=RESIDENT_ID[:-1] + "1",
        legal_rep_mobile="1381234567",
        settlement_card=CARD[:-1] + "7",
    )
    with pytest.raises(ValidationFailed) as refused:
        _submit(opening, bad, locale="zh-CN")
    assert refused.value.status == 422
    assert [(e.path, e.code) for e in refused.value.errors] == [
        ("credit_code", "credit_code_check_digit"),
        ("legal_rep_id", "resident_id_check_digit"),
        ("legal_rep_mobile", "mobile_length"),
        ("settlement_card", "bank_card_check_digit"),
    ]
    assert refused.value.errors[1].message == "身份证号校验位错误"
    said = repr(refused.value.errors) + refused.value.message
    for value in bad.values():
        assert str(value) not in said or len(str(value)) < 6
    assert _counts(opening) == before


def test_good_numbers_are_stored_in_full_and_shown_masked(opening: Desk) -> None:
    ticket_id = _submit(opening, good_values(legal_rep_id=RESIDENT_ID.lower()))
    with opening.ctx.db.read() as conn:
        stored = conn.execute(select(Ticket.values).where(Ticket.id == ticket_id)).scalar_one()
    assert stored["legal_rep_id"] == RESIDENT_ID
    assert stored["legal_rep_born"] == "1949-12-31"
    assert stored["legal_rep_mobile"] == "+86" + MOBILE
    assert stored["office_phone"] == "+861012345678"
    assert stored["settlement_card"] == CARD
    for who in ("zhang.wei", "li.na", "admin"):
        shown = opening.view(ticket_id, who).values
        assert shown["legal_rep_id"] == "110***********002X"
        assert shown["legal_rep_mobile"] == "138****5678"
        assert shown["settlement_card"] == "622202*********0128"
        assert shown["credit_code"] == CREDIT_CODE  # a company's code is not personal data


def test_unmasking_needs_the_role_and_a_reason_and_is_audited(opening: Desk) -> None:
    ticket_id = _submit(opening, good_values())
    reviewer = opening.actors["li.na"]
    with pytest.raises(Forbidden) as refused:
        views.unmask_values(opening.ctx, reviewer, ticket_id, reason="KYC check")
    assert refused.value.code == "unmask_not_permitted"
    permitted = replace(reviewer, roles=reviewer.roles | {views.UNMASK_ROLE})
    with pytest.raises(ValidationFailed) as no_reason:
        views.unmask_values(opening.ctx, permitted, ticket_id, reason="  ")
    assert no_reason.value.code == "unmask_reason_required"
    before = _counts(opening)[1]

    shown = views.unmask_values(opening.ctx, permitted, ticket_id, reason="KYC call-back")

    assert shown == {
        "legal_rep_id": RESIDENT_ID,
        "legal_rep_mobile": "+86" + MOBILE,
        "settlement_card": CARD,
    }
    with opening.ctx.db.read() as conn:
        assert audit_store.head(conn)[0] == before + 1
        entry = conn.execute(select(AuditLog).where(AuditLog.seq == before + 1)).one()
    assert entry.action == "ticket.unmask"
    assert entry.actor == "li.na"
    assert "KYC call-back" in str(entry.details)
    for value in shown.values():
        assert value not in str(entry.details)


def test_a_stranger_cannot_unmask_a_ticket_they_cannot_read(opening: Desk) -> None:
    ticket_id = _submit(opening, good_values())
    stranger = next(
        a for name, a in opening.actors.items() if name not in ("zhang.wei", "li.na", "admin")
    )
    permitted = replace(stranger, roles=stranger.roles | {views.UNMASK_ROLE})
    with pytest.raises(Exception) as hidden:
        views.unmask_values(opening.ctx, permitted, ticket_id, reason="curious")
    assert getattr(hidden.value, "status", None) == 404


def test_a_masked_value_sent_back_on_resubmit_keeps_the_stored_number(opening: Desk) -> None:
    ticket_id = _submit(opening, good_values())
    review = opening.task(ticket_id, "review")
    task_returns.return_task(
        opening.ctx,
        actor=opening.actors["li.na"],
        task_id=review.id,
        target=task_returns.APPLICANT,
        comment="补充办公电话",
    )
    shown = opening.view(ticket_id, "zhang.wei").values
    resent = {**shown, "office_phone": "0755-88888888"}  # the whole form, masked as shown
    task_returns.resubmit(
        opening.ctx, actor=opening.actors["zhang.wei"], ticket_id=ticket_id, values=resent
    )
    with opening.ctx.db.read() as conn:
        stored = conn.execute(select(Ticket.values).where(Ticket.id == ticket_id)).scalar_one()
    assert stored["legal_rep_id"] == RESIDENT_ID
    assert stored["legal_rep_mobile"] == "+86" + MOBILE
    assert stored["settlement_card"] == CARD
    assert stored["office_phone"] == "+8675588888888"


def test_a_new_ticket_cannot_be_filed_with_a_masked_number(opening: Desk) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _submit(opening, good_values(legal_rep_mobile="138****5678"))
    assert [(e.path, e.code) for e in refused.value.errors] == [
        ("legal_rep_mobile", "masked_value")
    ]


def test_an_approver_s_change_of_a_personal_number_is_kept_masked_in_the_timeline(
    desk: Desk,
) -> None:
    apps.publish_yaml(desk.ctx, account_opening_app(editable=("legal_rep_mobile",)))
    ticket_id = _submit(desk, good_values())
    review = desk.task(ticket_id, "review")
    tickets.approve(
        desk.ctx,
        actor=desk.actors["li.na"],
        task_id=review.id,
        comment="更正手机号",
        values={"legal_rep_mobile": "13987654321"},
    )
    with desk.ctx.db.read() as conn:
        stored = conn.execute(select(Ticket.values).where(Ticket.id == ticket_id)).scalar_one()
        details = [str(e.details) for e in conn.execute(select(AuditLog)).all()]
    assert stored["legal_rep_mobile"] == "+8613987654321"
    (changed,) = [e for e in desk.view(ticket_id).timeline if e.kind == "values_changed"]
    assert changed.data["changes"] == [
        {"field": "legal_rep_mobile", "old": "138****5678", "new": "139****4321"}
    ]
    assert not any("13987654321" in d or MOBILE in d for d in details)
