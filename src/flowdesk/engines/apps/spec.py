"""An app definition as one immutable value: what a builder publishes and tickets run on.

An app bundles a form and a process under a key; `to_dict()` is the portable
(YAML) form that `parse_app` reads back into an equal spec.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowdesk.engines.forms import FormSpec, LocalText
from flowdesk.engines.process import ProcessSpec
from flowdesk.engines.process.bpmn import Diagram
from flowdesk.kernel.serials import default_prefix

from .records import RecordSettings


@dataclass(frozen=True)
class WithdrawSettings:
    """撤回/撤销 by the applicant (ADR 0019): `applicant` lets them withdraw a ticket nobody
    has acted on yet back to themselves, `cancel` lets them cancel a running ticket. Both
    on by default (app YAML `withdraw: {applicant: false, cancel: false}` turns them off).
    `revoke_days` lets the applicant revoke an approved ticket within that many days of
    its approval, with the consent of everyone who approved it (通过后撤销, ADR 0042); 0,
    the default, is off. The value in force when a ticket is approved is kept with it."""

    applicant: bool = True
    cancel: bool = True
    revoke_days: int = 0

    def to_dict(self) -> dict[str, bool | int]:
        data: dict[str, bool | int] = {"applicant": self.applicant, "cancel": self.cancel}
        if self.revoke_days:
            data["revoke_days"] = self.revoke_days
        return data


@dataclass(frozen=True)
class AppSpec:
    key: str
    name: LocalText
    form: FormSpec
    process: ProcessSpec
    description: LocalText | None = None
    category: str | None = None
    # LN in LN-2026-000123; None: the key in capitals (`serial_prefix` below).
    prefix: str | None = None
    # Fields shown in list rows beside the serial and title, such as the amount.
    summary: tuple[str, ...] = ()
    # The process as drawn (BPMNDI coordinates), kept so a BPMN export shows a diagram
    # the way its builder laid it out; cosmetic, never read by a running ticket.
    diagram: Diagram | None = None
    withdraw: WithdrawSettings = WithdrawSettings()
    # A returned (or withdrawn) ticket's values may be changed when its applicant
    # resubmits it; `edit_on_resubmit: false` has it go back exactly as filed (ADR 0034).
    edit_on_resubmit: bool = True
    # A record app (ADR 0038): no process of its own (`process` is records.RECORD_PROCESS)
    records: RecordSettings | None = None

    @property
    def is_records(self) -> bool:
        return self.records is not None

    @property
    def serial_prefix(self) -> str:
        return self.prefix or default_prefix(self.key)

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"key": self.key, "name": self.name.to_dict()}
        if self.description is not None:
            data["description"] = self.description.to_dict()
        if self.category is not None:
            data["category"] = self.category
        if self.prefix is not None:
            data["serial_prefix"] = self.prefix
        if self.summary:
            data["summary"] = list(self.summary)
        data["form"] = self.form.to_dict()
        if self.records is not None:
            data["records"] = self.records.to_dict()
        else:
            data["process"] = self.process.to_dict()
        if self.diagram:
            data["diagram"] = self.diagram.to_dict()
        if self.withdraw != WithdrawSettings():
            data["withdraw"] = self.withdraw.to_dict()
        if not self.edit_on_resubmit:
            data["edit_on_resubmit"] = False
        return data
