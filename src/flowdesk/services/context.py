"""What every use case needs, built once by the composition root and passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass, field

from argon2 import PasswordHasher

from flowdesk.kernel.clock import Clock, SystemClock
from flowdesk.services.process_context import AssigneeCache
from flowdesk.services.registry import AppRegistry
from flowdesk.store.db import Database


@dataclass(frozen=True)
class AuthPolicy:
    session_hours: int = 12
    login_max_failures: int = 5
    login_lock_seconds: int = 300


@dataclass
class ServiceContext:
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    hasher: PasswordHasher = field(default_factory=PasswordHasher)
    auth: AuthPolicy = field(default_factory=AuthPolicy)
    apps: AppRegistry = field(default_factory=AppRegistry)
    assignees: AssigneeCache = field(default_factory=AssigneeCache)
    # The hash of a new audit chain (sha256 or sm3); a chain keeps the one it started with.
    audit_algorithm: str = "sha256"


def fast_hasher() -> PasswordHasher:
    """Cheap argon2 parameters for tests and demo data only; never for real passwords."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
