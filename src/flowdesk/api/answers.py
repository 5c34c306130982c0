"""The public API's answers: plain data written as JSON bytes, exactly as pydantic would.

A route that returns a pydantic model has FastAPI dump it to a dict, validate that dict
again against the response model and serialize the result: three passes over the answer,
a quarter of a 20-row list's CPU (ADR 0018). The public API's routes build their
answer as plain data in the response model's field order and return `answer(data)`;
the model stays the route's `response_model`, so the OpenAPI document is unchanged.
`tests/api/test_answers.py` holds every route's bytes to the model's own serialization of
them: valid against the schema, same keys, same order, same formatting.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from fastapi.responses import Response

from flowdesk.services.task_steps import StepOutcome


def _json_value(value: object) -> str:
    # pydantic writes an aware UTC datetime with "Z", other offsets as "+08:00"
    if isinstance(value, datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON data")


_encode = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_json_value
).encode


def answer(data: object, status_code: int = 200) -> Response:
    """`data` (dicts, lists, text, numbers, UTC datetimes) as an application/json answer."""
    return Response(_encode(data).encode(), status_code=status_code, media_type="application/json")


def step_answer(outcome: StepOutcome) -> Response:
    """What every action on a ticket answers (StepOut): the ticket, its status, the tasks opened."""
    return answer(
        {
            "ticket_id": outcome.ticket_id,
            "status": outcome.status,
            "opened_task_ids": list(outcome.opened_task_ids),
        }
    )
