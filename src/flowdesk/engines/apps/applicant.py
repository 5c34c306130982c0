"""What conditions may read about the ticket's applicant (issue 8: "conditions on the applicant").

Branch conditions, gateway expressions and automatic decisions read the form's fields
and, under the `applicant.` namespace, these attributes of the person who filed the
ticket:

    applicant.job_level    text   their job level (职级) as the org chart holds it, e.g. 'M3'
    applicant.department   text   the code of their department, e.g. 'branch-bj'

    auto: {when: "applicant.job_level in ('M3', 'M4')", action: approve}
    - {from: amount_check, to: deputy, condition: "amount > 300000 and applicant.job_level != 'M4'"}

They are typed at publish like form fields (a misspelt attribute is `unknown_field`
with a suggestion), and read from the org chart when a step evaluates a condition that
uses them, so the answer is the applicant's level at that step (as every assignee rule
on the applicant is resolved then). A person without a job level or department reads
null: a comparison with null is false, `applicant.job_level = null` tests for it.
Conditions that do not name the applicant never look the applicant up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from flowdesk.engines.expr import ExprType

APPLICANT_PREFIX = "applicant."


class Applicant(NamedTuple):
    """The applicant's attributes a condition may read; None where the org has none."""

    job_level: str | None = None
    department: str | None = None


NOBODY_KNOWN = Applicant()

# every attribute, as the expression engine types it (the keys conditions spell)
APPLICANT_FIELDS: Mapping[str, ExprType] = {
    f"{APPLICANT_PREFIX}{name}": ExprType.TEXT for name in Applicant._fields
}


def reads_applicant(fields_used: Iterable[str]) -> bool:
    """Whether an expression reading `fields_used` needs the applicant looked up."""
    return any(name.startswith(APPLICANT_PREFIX) for name in fields_used)


def applicant_values(applicant: Applicant) -> dict[str, object]:
    """The applicant's attributes as expression values, keyed as conditions spell them."""
    return {
        f"{APPLICANT_PREFIX}{name}": value
        for name, value in zip(Applicant._fields, applicant, strict=True)
    }
