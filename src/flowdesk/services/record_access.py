"""Who reads and writes a record app's records (ADR 0038), as facts for `decide`."""

from __future__ import annotations

from flowdesk.engines.access import Actor, ResourceFacts, decide
from flowdesk.services.registry import PublishedApp


def record_facts(
    app: PublishedApp,
    requester_id: str | None = None,
    participant_ids: frozenset[str] = frozenset(),
) -> ResourceFacts:
    """A ticket's facts, with the app's editor and reader roles when it is a record app."""
    records = app.spec.records
    if records is None:
        return ResourceFacts(requester_id=requester_id, participant_ids=participant_ids)
    return ResourceFacts(
        requester_id=requester_id,
        participant_ids=participant_ids,
        editor_roles=frozenset(records.editors),
        reader_roles=records.reader_roles,
    )


def may_write(actor: Actor, app: PublishedApp) -> bool:
    return app.spec.is_records and bool(decide(actor, "record.write", record_facts(app)))


def may_list(actor: Actor, app: PublishedApp) -> bool:
    """Who sees the grid: the app's readers and editors, administrators and auditors."""
    return app.spec.is_records and bool(decide(actor, "ticket.read", record_facts(app)))
