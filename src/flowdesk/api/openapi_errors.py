"""The OpenAPI document declares the error answers the server really sends.

Applied once to the generated document, so every route (those of routes.py, admin.py
and any added later) is covered without declaring anything itself. Each operation
gets the statuses its shape can produce, all as `application/problem+json` with the
one Problem schema; FastAPI's default 422 (HTTPValidationError) is replaced, because
flowdesk never sends that shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from flowdesk.kernel.problem_body import MAX_ERRORS, PROBLEM

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
DESCRIPTIONS = {
    400: "The request cannot be read (malformed JSON, NUL characters, a limit exceeded)",
    401: "No valid credentials",
    403: "The caller may not do this",
    404: "No such resource, or the caller may not see it",
    409: "Someone else acted first, or the target no longer allows this",
    413: "The request body is too large",
    415: "The request body is not of a supported media type",
    422: "The request is well-formed but its values are invalid",
    429: "Too many attempts; retry after the Retry-After header's seconds",
    500: "Internal error; the operation was not applied",
    503: "The server is too busy to check credentials now; retry shortly",
}
_FRAMEWORK_SCHEMAS = ("HTTPValidationError", "ValidationError")

SCHEMAS: dict[str, Any] = {
    "ProblemError": {
        "type": "object",
        "title": "ProblemError",
        "description": "What is wrong at one place of the request.",
        "required": ["path", "code", "message"],
        "properties": {
            "path": {
                "type": "string",
                "description": "Where, as dotted keys; '(unknown)' for a key that is not one",
            },
            "code": {"type": "string", "description": "Stable code for programs"},
            "message": {"type": "string", "description": "Short explanation for people"},
        },
    },
    "Problem": {
        "type": "object",
        "title": "Problem",
        "description": "An error answer (RFC 9457 problem details) with a stable `code`.",
        "required": ["type", "title", "status", "code"],
        "properties": {
            "type": {"type": "string", "description": "A URI naming the kind of problem"},
            "title": {"type": "string", "description": "Short explanation for people"},
            "status": {"type": "integer", "description": "The HTTP status"},
            "code": {"type": "string", "description": "Stable code for programs"},
            "errors": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/ProblemError"},
                "maxItems": MAX_ERRORS + 1,
                "description": f"Details; at most {MAX_ERRORS} and one saying how many more",
            },
            "request_id": {
                "type": "string",
                "description": "The request's id, as in the X-Request-ID header and the logs",
            },
        },
    },
}


def statuses_of(method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation of this shape can answer with."""
    statuses = {400, 500}  # an unreadable URL (NUL), and the failure nobody planned
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    if parameters or has_body:
        statuses.add(422)
    if operation.get("security"):
        statuses |= {401, 403}
    elif has_body:  # an open operation with a body exchanges credentials (auth/token)
        statuses |= {401, 429, 503}
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    if has_body:
        statuses |= {413, 415}
    if method != "get":
        statuses.add(409)
    return statuses


def _name_request_bodies(operation: dict[str, Any], components: dict[str, Any]) -> None:
    """A body schema given inline (api/body.py's `openapi_body`) becomes a named component,
    so generated clients get `TokenRequest`, not a name made from the operation."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    body = content.get("schema")
    if not isinstance(body, dict) or "title" not in body or "$ref" in body:
        return
    named = json.loads(json.dumps(body).replace('"#/$defs/', '"#/components/schemas/'))
    definitions = named.pop("$defs", {})
    for name, schema in {**definitions, body["title"]: named}.items():
        if components.get(name, schema) != schema:
            return  # another schema has this name: this body stays inline
    components.update(definitions)
    components[body["title"]] = named
    content["schema"] = {"$ref": f"#/components/schemas/{body['title']}"}


def declare_problems(schema: dict[str, Any]) -> None:
    """Adds the Problem schema and every operation's error answers to `schema`, in place."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(SCHEMAS)
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict):
                _name_request_bodies(operation, components)
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status in statuses_of(method, operation):
                responses[str(status)] = {
                    "description": DESCRIPTIONS[status],
                    "content": {PROBLEM: {"schema": PROBLEM_REF}},
                }
            for status, response in responses.items():  # and those a route declared itself
                if str(status).startswith(("4", "5")):
                    response["content"] = {PROBLEM: {"schema": PROBLEM_REF}}
    for name in _FRAMEWORK_SCHEMAS:
        components.pop(name, None)


def install(app: FastAPI) -> None:
    """Makes `app.openapi()` return the document with the problems declared."""
    generate: Callable[[], dict[str, Any]] = app.openapi
    declared: list[bool] = []

    def openapi() -> dict[str, Any]:
        schema = generate()
        if not declared:
            declare_problems(schema)
            declared.append(True)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
