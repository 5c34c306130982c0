"""Strict JSON request bodies: right content type, UTF-8, no duplicate keys, no unknown fields.

FastAPI's default parsing lets duplicate keys silently overwrite each other; money
decisions deserve a refusal instead.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from flowdesk.api.problems import validation_details
from flowdesk.kernel.errors import FlowdeskError, ValidationFailed

Model = TypeVar("Model", bound=BaseModel)


class BadRequest(FlowdeskError):
    def __init__(self, message: str, code: str, status: int = 400) -> None:
        super().__init__(message, code, [], status)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise BadRequest(f"Duplicate key {key!r} in JSON", "duplicate_key")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    """NaN and Infinity are not JSON, though Python's parser accepts them."""
    raise BadRequest(f"{name} is not valid JSON", "malformed_json")


async def parse(request: Request, model: type[Model]) -> Model:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise BadRequest("Send application/json", "unsupported_media_type", 415)
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The body is not valid UTF-8", "invalid_utf8") from None
    if "\x00" in text:
        raise BadRequest("The body contains NUL characters", "invalid_characters")
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"Malformed JSON at line {exc.lineno} column {exc.colno}", "malformed_json"
        ) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(
            "The request is invalid", validation_details(list(exc.errors()))
        ) from None


def openapi_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` for a route that parses its body with `parse`."""
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}
