"""Which form fields a reader of a ticket sees (ADR 0037): the per-node `hidden` fields
taken out of the values, the form, the timeline's value changes and the list rows.

The rule is the app engine's (`engines/apps/field_access.py`); this module gathers what
it needs from the rows a read already has (the tasks and their assignees) and applies
the answer to what the read returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flowdesk.engines.access import Actor, ResourceFacts, decide
from flowdesk.engines.apps import ever_hidden, hidden_from
from flowdesk.engines.forms import FormSpec
from flowdesk.engines.process import ProcessSpec


def sees_all(actor: Actor, requester_id: str | None) -> bool:
    """The applicant, administrators, auditors and process admins see every field."""
    return bool(decide(actor, "ticket.read_hidden", ResourceFacts(requester_id=requester_id)))


def hidden_for(
    actor: Actor,
    process: ProcessSpec,
    requester_id: str | None,
    held_nodes: Iterable[str],
) -> frozenset[str]:
    """The fields `actor` does not see on a ticket where they hold or held tasks at
    `held_nodes`."""
    return hidden_from(
        process, sees_all=sees_all(actor, requester_id), held_nodes=frozenset(held_nodes)
    )


def hidden_in_lists(actor: Actor, process: ProcessSpec, requester_id: str | None) -> frozenset[str]:
    """The fields a list row (my tickets, handled, exports) does not show: those any step
    hides, unless the reader sees all."""
    return frozenset() if sees_all(actor, requester_id) else ever_hidden(process)


def without(values: Mapping[str, Any], hidden: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in hidden} if hidden else dict(values)


def visible_form(form: FormSpec, hidden: frozenset[str]) -> FormSpec:
    if not hidden:
        return form
    return FormSpec(tuple(f for f in form.fields if f.key not in hidden))


def event_data(data: dict[str, Any] | None, hidden: frozenset[str]) -> dict[str, Any] | None:
    """A timeline event's data without the hidden fields' changes (old and new values)."""
    if not hidden or not data or "changes" not in data:
        return data
    return {
        **data,
        "fields": [f for f in data.get("fields", ()) if f not in hidden],
        "changes": [c for c in data.get("changes", ()) if c.get("field") not in hidden],
    }
