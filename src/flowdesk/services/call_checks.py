"""What publishing checks of a process's call activities (ADR 0033), beside the app's own
checks: the called app is published (`unknown_app`), each mapping names fields that
exist on both sides (`unknown_field`) with compatible types (`incompatible_field`), and
no chain of calls comes back to the app being published (`call_cycle`: A calls B calls
A would file tickets forever). Every problem is reported at once, with its path."""

from __future__ import annotations

from sqlalchemy import Connection

from flowdesk.engines.apps.spec import AppSpec
from flowdesk.engines.forms.spec import TEXT_TYPES, FieldType, FormSpec
from flowdesk.kernel.errors import DefinitionInvalid, ErrorDetail, NotFound
from flowdesk.services.context import ServiceContext
from flowdesk.services.registry import PublishedApp


def _types(form: FormSpec) -> dict[str, FieldType]:
    return {f.key: f.type for f in form.fields}


def _compatible(a: FieldType, b: FieldType) -> bool:
    return a == b or (a in TEXT_TYPES and b in TEXT_TYPES)


def _current(ctx: ServiceContext, conn: Connection, key: str) -> PublishedApp | None:
    try:
        return ctx.apps.current_and_org_generation(conn, key)[0]
    except NotFound:
        return None


def _calls_back(ctx: ServiceContext, conn: Connection, start: str, target: str) -> list[str]:
    """The chain of app keys from `start` to `target` through current versions' calls
    (empty: none)."""
    todo: list[list[str]] = [[start]]
    seen: set[str] = set()
    while todo:
        chain = todo.pop()
        key = chain[-1]
        if key == target:
            return chain
        if key in seen:
            continue
        seen.add(key)
        app = _current(ctx, conn, key)
        if app is None:
            continue
        todo.extend([*chain, n.call.app] for n in app.spec.process.calls() if n.call is not None)
    return []


def check_calls(ctx: ServiceContext, conn: Connection, spec: AppSpec) -> None:
    """Raise DefinitionInvalid listing every problem of `spec`'s call activities."""
    calls = spec.process.calls()
    if not calls:
        return
    errors: list[ErrorDetail] = []
    positions = {node_id: i for i, node_id in enumerate(spec.process.nodes)}
    mine = _types(spec.form)
    for node in calls:
        call = node.call
        assert call is not None
        at = f"process.nodes[{positions[node.id]}].call"
        if call.app == spec.key:
            errors.append(ErrorDetail(f"{at}.app", "call_cycle", "An app cannot call itself"))
            continue
        called = _current(ctx, conn, call.app)
        if called is None:
            errors.append(ErrorDetail(f"{at}.app", "unknown_app", f"No published app '{call.app}'"))
            continue
        if call.version:  # pinned (ADR 0035): that version's form is the one mapped
            try:
                called = ctx.apps.called(conn, call.app, call.version)[0]
            except NotFound:
                errors.append(
                    ErrorDetail(
                        f"{at}.version",
                        "unknown_app_version",
                        f"'{call.app}' has no published version {call.version}",
                    )
                )
                continue
        chain = _calls_back(ctx, conn, call.app, spec.key)
        if chain:
            errors.append(
                ErrorDetail(
                    f"{at}.app",
                    "call_cycle",
                    f"The calls come back: {' -> '.join([spec.key, *chain])}",
                )
            )
        theirs = _types(called.spec.form)
        if call.each:  # a multi-instance call (ADR 0035): a list in, an item field out
            if mine.get(call.each) not in (FieldType.USERS, FieldType.MULTI_CHOICE):
                errors.append(
                    ErrorDetail(
                        f"{at}.each",
                        "each_not_a_list",
                        f"'{call.each}' is no users or multi-choice field of this form",
                    )
                )
            if call.item_field not in theirs:
                errors.append(
                    ErrorDetail(
                        f"{at}.as",
                        "unknown_field",
                        f"'{call.app}' has no field '{call.item_field}'",
                    )
                )
        for child_field, source in call.inputs:
            path = f"{at}.inputs.{child_field}"
            if child_field not in theirs:
                errors.append(
                    ErrorDetail(path, "unknown_field", f"'{call.app}' has no field '{child_field}'")
                )
            elif source.startswith("="):
                if theirs[child_field] not in TEXT_TYPES | {FieldType.CHOICE}:
                    errors.append(
                        ErrorDetail(path, "incompatible_field", "A literal fills a text field")
                    )
            elif source not in mine:
                errors.append(ErrorDetail(path, "unknown_field", f"No form field '{source}'"))
            elif not _compatible(mine[source], theirs[child_field]):
                errors.append(
                    ErrorDetail(
                        path,
                        "incompatible_field",
                        f"'{source}' is {mine[source].value}, '{call.app}'.'{child_field}' "
                        f"is {theirs[child_field].value}",
                    )
                )
        for parent_field, child_field in call.outputs:
            path = f"{at}.outputs.{parent_field}"
            if parent_field not in mine:
                errors.append(ErrorDetail(path, "unknown_field", f"No form field '{parent_field}'"))
            elif child_field not in theirs:
                errors.append(
                    ErrorDetail(path, "unknown_field", f"'{call.app}' has no field '{child_field}'")
                )
            elif not _compatible(theirs[child_field], mine[parent_field]):
                errors.append(
                    ErrorDetail(
                        path,
                        "incompatible_field",
                        f"'{call.app}'.'{child_field}' is {theirs[child_field].value}, "
                        f"'{parent_field}' is {mine[parent_field].value}",
                    )
                )
    if errors:
        raise DefinitionInvalid(errors)
