"""The decision form's editable fields (ADR 0037): the fields a task's step marks
editable, shown as inputs with the ticket's values, posted as `edit.<key>` beside the
comment, and sent with an approval as the values it changes.

The service decides (tickets.complete_task → validate_edits): a field the step does not
open is refused there, whatever the browser posts.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import FormData

from flowdesk.engines.forms import FieldType, FormSpec
from flowdesk.services import views
from flowdesk.web.forms import FieldView, field_views, posted_values, stored_as_raw
from flowdesk.web.i18n import Locale

EDIT_PREFIX = "edit."


def edit_fields(
    view: views.TicketView,
    task: views.TaskView,
    locale: Locale,
    errors: Mapping[str, str] | None = None,
) -> list[FieldView]:
    """The inputs for the fields `task`'s step opens, filled with the ticket's values.
    A yes/no field is left out: an unticked box posts nothing, which cannot say "no"."""
    app = view.published
    node = app.spec.process.nodes.get(task.node_id) if app is not None else None
    if node is None or not node.editable:
        return []
    keys = set(node.editable)
    form = FormSpec(
        tuple(f for f in view.form.fields if f.key in keys and f.type is not FieldType.BOOLEAN)
    )
    return field_views(
        form, locale, stored_as_raw(form, view.values), errors, view.values, prefix=EDIT_PREFIX
    )


def is_edit(name: str) -> bool:
    return name.startswith(EDIT_PREFIX)


def posted_edits(data: FormData) -> dict[str, object]:
    """The `edit.<key>` values of a posted decision form, by field key."""
    values = posted_values(data, frozenset())
    return {k.removeprefix(EDIT_PREFIX): v for k, v in values.items() if is_edit(k)}
