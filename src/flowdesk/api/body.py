"""Strict JSON request bodies: right content type, UTF-8, no duplicate keys, no unknown fields.

FastAPI's default parsing lets duplicate keys silently overwrite each other; money
decisions deserve a refusal instead. Every body that cannot be read is a 400 with a
precise code, never a 500: the limits below are checked before the standard library's
own (its recursion limit at ~1,000 levels, its 4,300-digit integer limit) can trip.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from flowdesk.api.problems import validation_details
from flowdesk.kernel.errors import FlowdeskError, ValidationFailed

Model = TypeVar("Model", bound=BaseModel)

# Far beyond any form (values are one level under the top; a table field adds two).
MAX_DEPTH = 32
# A money amount has at most ~20 digits; a number longer than this is no amount.
MAX_NUMBER_CHARS = 100
# The longest text any field accepts is well below this (the body limit caps the rest).
MAX_STRING_CHARS = 100_000
MAX_KEY_CHARS = 256

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class BadRequest(FlowdeskError):
    def __init__(self, message: str, code: str, status: int = 400) -> None:
        super().__init__(message, code, [], status)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            # The key itself is not echoed: it may be a value (a resident ID used as a key).
            raise BadRequest("A key appears twice in the same JSON object", "duplicate_key")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    """NaN and Infinity are not JSON, though Python's parser accepts them."""
    raise BadRequest(f"{name} is not valid JSON", "malformed_json")


def _integer(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise BadRequest(
            f"A number is longer than {MAX_NUMBER_CHARS} characters", "number_too_long"
        )
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise BadRequest(
            f"A number is longer than {MAX_NUMBER_CHARS} characters", "number_too_long"
        )
    value = float(text)
    if not math.isfinite(value):  # 1e999 overflows to infinity
        raise BadRequest("A number is out of range", "number_out_of_range")
    return value


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting of a JSON text, brackets inside strings not counted.

    Linear and without recursion, so it is safe on any input (a malformed text gives
    some number; the parser then says what is wrong with it)."""
    outside_strings = _STRING.sub("", text)
    steps = (_DEPTH_STEP[m.group()] for m in _BRACKET.finditer(outside_strings))
    return max(itertools.accumulate(steps, initial=0))


def _check_strings(node: Any) -> None:
    """No NUL (PostgreSQL refuses it in text) and no oversized string or key, anywhere.

    Recursion is bounded: the depth was checked before parsing."""
    if isinstance(node, str):
        if len(node) > MAX_STRING_CHARS:
            raise BadRequest(
                f"A string is longer than {MAX_STRING_CHARS} characters", "string_too_long"
            )
        if "\x00" in node:
            raise BadRequest("The body contains NUL characters", "invalid_characters")
    elif isinstance(node, dict):
        for key, value in node.items():
            if len(key) > MAX_KEY_CHARS:
                raise BadRequest(f"A key is longer than {MAX_KEY_CHARS} characters", "key_too_long")
            _check_strings(key)
            _check_strings(value)
    elif isinstance(node, list):
        for item in node:
            _check_strings(item)


def utf8_text(raw: bytes) -> str:
    """A body as text: 400 unless it is UTF-8 without NUL (PostgreSQL refuses NUL in text)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The body is not valid UTF-8", "invalid_utf8") from None
    if "\x00" in text:
        raise BadRequest("The body contains NUL characters", "invalid_characters")
    return text


def loads(raw: bytes) -> Any:
    """Parses a request body under the limits above; BadRequest (400) for anything else."""
    text = utf8_text(raw)
    if nesting_depth(text) > MAX_DEPTH:
        raise BadRequest(f"JSON is nested deeper than {MAX_DEPTH} levels", "too_deep")
    try:
        data = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constant,
            parse_int=_integer,
            parse_float=_float,
        )
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"Malformed JSON at line {exc.lineno} column {exc.colno}", "malformed_json"
        ) from None
    except (RecursionError, ValueError):  # a last resort: the checks above come first
        raise BadRequest("The body is not readable JSON", "malformed_json") from None
    _check_strings(data)
    return data


async def parse(request: Request, model: type[Model]) -> Model:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise BadRequest("Send application/json", "unsupported_media_type", 415)
    data = loads(await request.body())
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
