"""Auto-number fields (ADR 0038): numbered from the serial's own sequence, so gap-free and
distinct under real parallel creates on both databases; a refused create takes no number;
a process app's ticket is numbered on submit."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from loan_desk import loan_values

from flowdesk.engines.access import Actor
from flowdesk.engines.apps import load_bundled_template, parse_app
from flowdesk.kernel.clock import FrozenClock
from flowdesk.kernel.errors import ValidationFailed
from flowdesk.services import apps, records, tickets, views
from flowdesk.services.context import ServiceContext

Actors = dict[str, Actor]


def _customer(n: int) -> dict[str, object]:
    return {"customer_name": f"并发客户{n}有限公司", "manager": "zhang.wei", "segment": "sme"}


def _number(ctx: ServiceContext, actors: Actors, record_id: str) -> str:
    return str(views.ticket(ctx, actors["admin"], record_id).values["customer_no"])


def test_parallel_creates_get_exactly_one_to_n(demo_ctx: ServiceContext, actors: Actors) -> None:
    demo_ctx.clock = FrozenClock(datetime(2031, 3, 1, 2, 0, tzinfo=UTC))  # a fresh year
    n = 12
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = records.create(
                demo_ctx, actor=actors["xie.ting"], app_key="customers", values=_customer(index)
            ).ticket_id
        except Exception as exc:  # reported below
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(r, str) for r in results), results
    numbers = sorted(_number(demo_ctx, actors, r) for r in results)
    assert numbers == [f"KH2031{k:05d}" for k in range(1, n + 1)]
    # each record's number is its serial's sequence
    for record_id in results:
        view = views.ticket(demo_ctx, actors["admin"], record_id)
        assert view.values["customer_no"] == "KH2031" + view.serial[-5:]


def test_a_refused_create_takes_no_number(demo_ctx: ServiceContext, actors: Actors) -> None:
    demo_ctx.clock = FrozenClock(datetime(2032, 5, 1, 2, 0, tzinfo=UTC))
    first = records.create(
        demo_ctx, actor=actors["zhang.wei"], app_key="customers", values=_customer(1)
    )
    with pytest.raises(ValidationFailed):
        records.create(
            demo_ctx,
            actor=actors["zhang.wei"],
            app_key="customers",
            values={**_customer(2), "segment": "huge"},
        )
    with pytest.raises(ValidationFailed):  # nobody sends the number
        records.create(
            demo_ctx,
            actor=actors["zhang.wei"],
            app_key="customers",
            values={**_customer(2), "customer_no": "KH203299999"},
        )
    second = records.create(
        demo_ctx, actor=actors["zhang.wei"], app_key="customers", values=_customer(3)
    )
    assert [_number(demo_ctx, actors, o.ticket_id) for o in (first, second)] == [
        "KH203200001",
        "KH203200002",
    ]
    # an edit leaves the number as it was given
    records.update(
        demo_ctx, actor=actors["zhang.wei"], record_id=second.ticket_id, values={"segment": "large"}
    )
    assert _number(demo_ctx, actors, second.ticket_id) == "KH203200002"


def test_a_process_apps_ticket_is_numbered_on_submit(
    demo_ctx: ServiceContext, actors: Actors
) -> None:
    data = load_bundled_template("loan").to_dict()
    fields: list[dict[str, object]] = data["form"]["fields"]  # type: ignore[index]
    fields.append(
        {
            "key": "loan_no",
            "type": "auto_number",
            "label": {"en": "Loan number", "zh": "贷款编号"},
            "format": "DK-{YYYY}{MM}-{seq:4}",
        }
    )
    apps.publish(demo_ctx, parse_app(data))
    demo_ctx.clock = FrozenClock(datetime(2033, 7, 9, 2, 0, tzinfo=UTC))
    filed = tickets.submit(
        demo_ctx, actor=actors["zhang.wei"], app_key="loan", values=loan_values()
    )
    view = views.ticket(demo_ctx, actors["zhang.wei"], filed.ticket_id)
    assert view.serial == "LN-2033-000001" and view.values["loan_no"] == "DK-203307-0001"
