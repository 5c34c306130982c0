"""Per-node field permissions (ADR 0037): what the start form and each step may show and
change, and which fields a reader of a ticket does not see.

A node's `fields` map (process/spec.py) says editable, read-only or hidden for each form
field it names; an unnamed field is editable at the start and read-only at a step. A
hidden field is hidden from the people who hold (or held) that node's tasks; the
applicant, administrators, auditors and process admins see the whole ticket.
"""

from __future__ import annotations

from collections.abc import Collection

from flowdesk.engines.process import FieldAccess, Node, ProcessSpec


def start_node(process: ProcessSpec) -> Node | None:
    """The process's own start event (not one inside a sub-process)."""
    return next(
        (n for n in process.nodes.values() if n.type == "start" and not n.scope),
        None,
    )


def start_locked(process: ProcessSpec) -> frozenset[str]:
    """The fields the applicant may not fill at the start: hidden or read-only there."""
    node = start_node(process)
    return node.locked() if node is not None else frozenset()


def start_locks(process: ProcessSpec) -> dict[str, FieldAccess]:
    """Each field the start form locks and how: `hidden` or `read_only`."""
    node = start_node(process)
    if node is None:
        return {}
    return {key: access for key, access in node.fields if access != "editable"}


def start_hidden(process: ProcessSpec) -> frozenset[str]:
    """The fields the new-ticket form does not show."""
    node = start_node(process)
    return node.hidden() if node is not None else frozenset()


def hidden_from(
    process: ProcessSpec, *, sees_all: bool, held_nodes: Collection[str]
) -> frozenset[str]:
    """The fields a reader of a ticket does not see.

    `sees_all`: the applicant, administrators, auditors and process admins (decide's
    `ticket.read_hidden`) see every field. A holder of tasks sees a field unless every
    node they hold or held hides it (a field shown to them at one step is no secret at
    another). Any other reader (copied on the ticket, 抄送) sees no field any step hides.
    """
    if sees_all:
        return frozenset()
    held = [process.nodes[n] for n in held_nodes if n in process.nodes]
    if held:
        return frozenset.intersection(*(n.hidden() for n in held))
    return ever_hidden(process)


def ever_hidden(process: ProcessSpec) -> frozenset[str]:
    """The fields some step hides: what a list row shows nobody but those who see all."""
    return frozenset().union(*(n.hidden() for n in process.user_tasks()))
