"""`record`: an immutable value class that is cheap to build.

A pure step builds a command and a handful of effects for every approval. On CPython
3.11 a `@dataclass(frozen=True)` instance costs about five times a plain one to build
(each field goes through `object.__setattr__`), which was a sixth of the pure engine's
time on a 会签 (bench/countersign.py). `record` makes a slotted, hashable dataclass that
type checkers treat as frozen (PEP 681 `frozen_default`): an assignment to a field is a
mypy error, as it is for a frozen dataclass, without the run-time price.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar, dataclass_transform

__all__ = ["record"]

_T = TypeVar("_T")


@dataclass_transform(frozen_default=True)
def record(cls: type[_T]) -> type[_T]:
    """`cls` as a slotted dataclass with value equality and a hash of its fields."""
    return dataclass(slots=True, unsafe_hash=True)(cls)
