"""Record apps (ADR 0038): an app with a `records:` block and no `process:`.

Its tickets are records of a table (a Bitable sheet): the roles named in `editors`
create, edit and delete them, those in `readers` (and the editors) read them. A record
runs no process; the spec still carries a process, `RECORD_PROCESS` (start → end), so
code that reads `spec.process` needs no special case, but no record ever steps through it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from flowdesk.engines.process import ProcessSpec, parse_process
from flowdesk.kernel.errors import ErrorDetail

RECORD_STATUS = "record"  # a record's ticket status: never running, approved or rejected
DELETED_STATUS = "deleted"  # a deleted record: its timeline and audit stay, the grid drops it
RECORD_KEYS = ("editors", "readers")
MAX_ROLES = 20
_ROLE = re.compile(r"[a-z][a-z0-9_]{0,63}")

RECORD_PROCESS: ProcessSpec = parse_process(
    {
        "nodes": [
            {"id": "start", "type": "start", "name": {"en": "Record", "zh": "记录"}},
            {"id": "end", "type": "end", "name": {"en": "Record", "zh": "记录"}},
        ],
        "flows": [{"from": "start", "to": "end"}],
    }
)


@dataclass(frozen=True)
class RecordSettings:
    """Who works on the app's records: `editors` create, edit and delete; `readers` read."""

    editors: tuple[str, ...]
    readers: tuple[str, ...] = ()

    @property
    def reader_roles(self) -> frozenset[str]:
        return frozenset(self.editors) | frozenset(self.readers)

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"editors": list(self.editors)}
        if self.readers:
            data["readers"] = list(self.readers)
        return data


def parse_records(raw: object, errors: list[ErrorDetail]) -> RecordSettings | None:
    """`records: {editors: [role, ...], readers: [role, ...]}`; editors are required."""
    if not isinstance(raw, Mapping):
        errors.append(
            ErrorDetail("records", "invalid_type", "records is {editors: [role], readers: [role]}")
        )
        return None
    for key in raw:
        if key not in RECORD_KEYS:
            errors.append(ErrorDetail(f"records.{key}", "unknown_key", "allowed: editors, readers"))
    before = len(errors)
    editors = _roles(raw.get("editors"), "records.editors", errors, required=True)
    readers = _roles(raw.get("readers"), "records.readers", errors, required=False)
    if len(errors) > before:
        return None
    return RecordSettings(editors, readers)


def _roles(raw: object, path: str, errors: list[ErrorDetail], *, required: bool) -> tuple[str, ...]:
    if raw is None:
        if required:
            errors.append(
                ErrorDetail(path, "required", "Name the roles that create and edit records")
            )
        return ()
    if not isinstance(raw, list) or (not raw and required):
        errors.append(ErrorDetail(path, "invalid_type", "A non-empty list of role keys"))
        return ()
    if len(raw) > MAX_ROLES:
        errors.append(ErrorDetail(path, "too_many", f"At most {MAX_ROLES} roles"))
    found: list[str] = []
    for i, role in enumerate(raw):
        if not isinstance(role, str) or not _ROLE.fullmatch(role):
            errors.append(
                ErrorDetail(f"{path}[{i}]", "invalid_role", "A role key, such as auditor")
            )
        elif role in found:
            errors.append(ErrorDetail(f"{path}[{i}]", "duplicate", f"'{role}' is listed twice"))
        else:
            found.append(role)
    return tuple(found)
