"""A list's query parameters read as one pydantic model, without FastAPI's per-field work.

Declared as `Annotated[Model, Query()]`, FastAPI re-inspects every field's annotation on
every request (about a fifth of the CPU of `GET /tasks`, bench/RESULTS.md). The lists
read the raw query themselves anyway (routes._list_query), so here the model is only
validated once, in C, and the OpenAPI document gets exactly the parameters FastAPI would
have written: they are taken, once, from a throwaway app that declares the model so.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


def query_model(model: type[Model]) -> Callable[[Request], Coroutine[Any, Any, Model]]:
    """A dependency giving `model` validated from the request's query string; a bad value
    is the same RequestValidationError (422 `invalid_query`) FastAPI would raise."""

    async def read(request: Request) -> Model:
        try:
            return model.model_validate(dict(request.query_params))
        except ValidationError as exc:
            errors = [{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]
            raise RequestValidationError(errors) from None

    return read


def query_parameters(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` for a route reading `model` with `query_model`: the parameters (and
    the validation-error answer) FastAPI documents for `Annotated[model, Query()]`."""

    def declared(params: BaseModel) -> None:
        del params

    # Set at run time: this module's annotations are strings (postponed evaluation).
    declared.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                "params",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=Annotated[model, Query()],
            )
        ]
    )
    probe = FastAPI()
    probe.get("/probe")(declared)
    operation = probe.openapi()["paths"]["/probe"]["get"]
    return {"parameters": operation["parameters"]}
