"""The form builder's publish path (services.apps.check_form / publish_form, ADR 0039) on
both databases: a form replaces the app's form, the process stays, every problem comes
back at once with its path, nothing is stored for a refused form, the result round-trips
through YAML export and import, and only administrators may do it."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from builder_forms import formula_field, loan_form_with, text_field
from flowdesk.engines.access import Actor
from flowdesk.kernel.errors import DefinitionInvalid, Forbidden, NotFound
from flowdesk.services import apps, tickets
from flowdesk.services.context import ServiceContext
from flowdesk.store import audit as audit_store


def _audit_head(ctx: ServiceContext) -> int:
    with ctx.db.read() as conn:
        return audit_store.head(conn)[0]


def loan_form(**changes: Any) -> dict[str, Any]:
    """The loan form with a formula and a field shown for large loans; `f3={...}` changes
    the settings of field 3."""
    form = loan_form_with(
        formula_field("monthly", "Monthly", "月均", "ROUND(amount / term_months, 2)"),
        text_field(
            "guarantor", "Guarantor", "担保人", visible_when="amount > 100000", required=True
        ),
    )
    for index, field in changes.items():
        form["fields"][int(index.removeprefix("f"))].update(field)
    return form


def test_a_form_publishes_a_new_version_and_tickets_use_it(
    demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    before = apps.current(demo_ctx, "loan").spec
    result = apps.publish_form(demo_ctx, "loan", loan_form(), actor=actors["admin"])
    assert (result.version, result.changed) == (2, True)
    after = apps.current(demo_ctx, "loan").spec
    assert after.process == before.process and after.summary == before.summary
    assert after.form.keys()[-2:] == ("monthly", "guarantor")
    assert after.form.field("monthly").result == "number"  # inferred
    values = {
        "applicant_name": "李雷",
        "amount": "120000.00",
        "term_months": 12,
        "credit_rating": "A",
        "region": "east",
        "purpose": "流动资金",
        "guarantor": "韩梅梅",
    }
    filed = tickets.submit(demo_ctx, actor=actors["zhang.wei"], app_key="loan", values=values)
    assert filed.ticket_id
    # the same form again publishes nothing; the YAML export imports to the same version
    assert not apps.publish_form(demo_ctx, "loan", loan_form(), actor=actors["admin"]).changed
    assert not apps.publish_yaml(demo_ctx, apps.export_yaml(demo_ctx, "loan")).changed
    exported = yaml.safe_load(apps.export_yaml(demo_ctx, "loan"))
    assert exported["form"] == after.form.to_dict()


def test_every_problem_comes_back_at_once_and_nothing_is_stored(
    demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    bad = loan_form(
        f2={"min": "abc"},
        f6={"formula": "ROUND(amount / term_months, 2"},
        f7={"visible_when": "amont > 100000"},
    )
    bad["fields"][3]["options"].append({"value": "A", "label": {"en": "again", "zh": "重复"}})
    audit_before = _audit_head(demo_ctx)
    with pytest.raises(DefinitionInvalid) as refused:
        apps.publish_form(demo_ctx, "loan", bad, actor=actors["admin"])
    paths = [e.path for e in refused.value.errors]
    assert "form.fields[2].min" in paths
    assert "form.fields[3].options[3].value" in paths
    assert "form.fields[6].formula" in paths
    assert "form.fields[7].visible_when" in paths
    assert len(paths) == 4
    [typo] = [e for e in refused.value.errors if e.path == "form.fields[7].visible_when"]
    assert "amont" in typo.message and "amount" in typo.message and "character 1" in typo.message
    assert apps.current(demo_ctx, "loan").version == 1
    # a rule reading a field that is itself refused is not a second problem
    bad["fields"][6]["formula"] = "term_months * 2"
    with pytest.raises(DefinitionInvalid) as again:
        apps.check_form(demo_ctx, actors["admin"], "loan", bad)
    assert "form.fields[6].formula" not in [e.path for e in again.value.errors]
    assert _audit_head(demo_ctx) == audit_before


def test_the_process_is_checked_against_the_new_form(
    demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    """The loan's branch condition reads the amount: a form without it is refused there;
    the list columns naming a removed field are dropped (the builder cannot edit them)."""
    form = loan_form()
    form["fields"] = [f for f in form["fields"] if f["key"] not in ("amount", "monthly")]
    form["fields"][-1]["visible_when"] = "term_months > 12"
    with pytest.raises(DefinitionInvalid) as refused:
        apps.check_form(demo_ctx, actors["admin"], "loan", form)
    assert {e.path.split(".")[0] for e in refused.value.errors} == {"process"}
    kept = loan_form()
    kept["fields"] = [f for f in kept["fields"] if f["key"] != "term_months"]
    kept["fields"][-2]["formula"] = "amount"
    spec = apps.check_form(demo_ctx, actors["admin"], "loan", kept)
    assert spec.summary == ("amount",)


def test_only_administrators_and_only_apps_that_exist(
    demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    with pytest.raises(Forbidden):
        apps.publish_form(demo_ctx, "loan", loan_form(), actor=actors["zhang.wei"])
    with pytest.raises(NotFound):
        apps.check_form(demo_ctx, actors["admin"], "no_such_app", loan_form())
    with pytest.raises(DefinitionInvalid) as refused:
        apps.check_form(demo_ctx, actors["admin"], "loan", {"fields": "none"})
    assert refused.value.errors[0].path == "form.fields"


def test_the_link_targets_are_the_published_apps_record_apps_first(
    demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    """What the builder offers a link field (ADR 0038): every published app with its
    current form's fields; a newly published form's fields are there at once."""
    targets = apps.link_targets(demo_ctx)
    assert [t.records for t in targets] == sorted((t.records for t in targets), reverse=True)
    customers = next(t for t in targets if t.key == "customers")
    assert customers.records and ("customer_name" in dict(customers.fields))
    assert dict(customers.fields)["customer_name"]["en"]
    apps.publish_form(demo_ctx, "loan", loan_form(), actor=actors["admin"])
    loan = next(t for t in apps.link_targets(demo_ctx) if t.key == "loan")
    assert not loan.records and [k for k, _label in loan.fields][-2:] == ["monthly", "guarantor"]
