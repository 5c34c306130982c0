"""Linked records (ADR 0038): a link holds live records of its app, look-ups and roll-ups
are read live (a linked record's change shows at once), the picker's search, and the
publish-time checks; on both databases."""

from __future__ import annotations

import pytest

from flowdesk.engines.access import Actor
from flowdesk.kernel.errors import DefinitionInvalid, NotFound, ValidationFailed
from flowdesk.services import apps, links, records, views
from flowdesk.services.context import ServiceContext
from link_apps import LINES, publish_link_apps

Actors = dict[str, Actor]


def _customer(ctx: ServiceContext, actors: Actors, q: str) -> str:
    (found,) = links.options(ctx, actors["zhang.wei"], "credit_lines", "customer", q)
    return found.id


def _line(ctx: ServiceContext, actors: Actors, customer: str, limit: str, name: str) -> str:
    values = {"line_name": name, "customer": customer, "credit_limit": limit}
    return records.create(
        ctx, actor=actors["zhang.wei"], app_key="credit_lines", values=values
    ).ticket_id


def test_a_link_shows_the_linked_records_look_ups_live(
    demo_ctx: ServiceContext, actors: Actors
) -> None:
    publish_link_apps(demo_ctx)
    customer = _customer(demo_ctx, actors, "华信")
    line = _line(demo_ctx, actors, customer, "5000000.00", "流动资金贷款额度")
    view = views.ticket(demo_ctx, actors["sun.li"], line, locale="zh")
    assert view.values["customer"] == [customer]
    (linked,) = view.links["customer"]
    assert linked.title == "北京华信科技有限公司" and linked.serial.startswith("CUS-")
    assert [(v.key, v.text) for v in linked.lookup] == [
        ("manager", "zhang.wei"),
        ("segment", "大型企业"),
    ]
    # the customer moves segment: the line shows it at once, nothing to keep in step
    records.update(
        demo_ctx, actor=actors["zhang.wei"], record_id=customer, values={"segment": "sme"}
    )
    (linked,) = views.ticket(demo_ctx, actors["sun.li"], line, locale="zh").links["customer"]
    assert linked.lookup[1].text == "中小企业"


def test_roll_ups_follow_the_linked_rows(demo_ctx: ServiceContext, actors: Actors) -> None:
    publish_link_apps(demo_ctx)
    customer = _customer(demo_ctx, actors, "浦江")
    lines = [
        _line(demo_ctx, actors, customer, limit, f"额度{n}")
        for n, limit in enumerate(("1000000.00", "2500000.50", "300000.00"))
    ]
    group = records.create(
        demo_ctx,
        actor=actors["zhang.wei"],
        app_key="credit_groups",
        values={"group_name": "浦江集团", "lines": lines},
    ).ticket_id

    def rollups() -> dict[str, object]:
        return dict(views.ticket(demo_ctx, actors["sun.li"], group).rollups)

    assert rollups() == {"total": "3800000.50", "how_many": "3", "biggest": "2500000.50"}
    records.update(
        demo_ctx, actor=actors["zhang.wei"], record_id=lines[0], values={"credit_limit": "9000000"}
    )
    assert rollups()["total"] == "11800000.50" and rollups()["biggest"] == "9000000.00"
    records.delete(demo_ctx, actor=actors["zhang.wei"], record_id=lines[1])
    assert rollups() == {"total": "9300000.00", "how_many": "2", "biggest": "9000000.00"}


def test_a_link_must_hold_live_records_of_its_app(demo_ctx: ServiceContext, actors: Actors) -> None:
    publish_link_apps(demo_ctx)
    customer = _customer(demo_ctx, actors, "南粤")
    line = _line(demo_ctx, actors, customer, "100.00", "额度")
    for wrong in (line, "f" * 32):  # a record of another app; no record at all
        with pytest.raises(ValidationFailed) as refused:
            _line(demo_ctx, actors, wrong, "100.00", "错误额度")
        assert [(e.path, e.code) for e in refused.value.errors] == [("customer", "link_not_found")]
    with pytest.raises(ValidationFailed) as refused:  # one customer per line
        _line(demo_ctx, actors, [customer, customer.replace("0", "1")], "1.00", "x")  # type: ignore[arg-type]
    assert refused.value.errors[0].code == "too_many_links"
    records.delete(demo_ctx, actor=actors["zhang.wei"], record_id=customer)
    with pytest.raises(ValidationFailed):  # a deleted customer is linked no more
        _line(demo_ctx, actors, customer, "100.00", "额度")


def test_the_picker_searches_what_the_person_may_see(
    demo_ctx: ServiceContext, actors: Actors
) -> None:
    publish_link_apps(demo_ctx)
    found = links.options(demo_ctx, actors["zhang.wei"], "credit_lines", "customer", "广州")
    assert sorted(r.title for r in found) == ["广州南粤电子有限公司", "广州珠江纺织有限公司"]
    assert all(len(r.lookup) == 2 for r in found)
    assert len(links.options(demo_ctx, actors["zhang.wei"], "credit_lines", "customer", "")) == 6
    # someone who may not open the customers table is offered nothing
    assert links.options(demo_ctx, actors["wu.min"], "credit_lines", "customer", "广州") == ()
    with pytest.raises(NotFound):
        links.options(demo_ctx, actors["zhang.wei"], "credit_lines", "line_name", "")


def test_publishing_checks_the_linked_app_and_its_fields(demo_ctx: ServiceContext) -> None:
    bad = LINES.replace("lookup: [manager, segment]", "lookup: [manager, branch]").replace(
        "app: customers", "app: customers"
    )
    with pytest.raises(DefinitionInvalid) as refused:
        apps.publish_yaml(demo_ctx, bad)
    assert [(e.path, e.code) for e in refused.value.errors] == [
        ("form.fields[1].lookup[1]", "unknown_field")
    ]
    with pytest.raises(DefinitionInvalid) as refused:
        apps.publish_yaml(demo_ctx, LINES.replace("app: customers", "app: suppliers"))
    assert refused.value.errors[0].code == "unknown_app"
