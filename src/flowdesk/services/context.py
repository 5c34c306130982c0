"""What every use case needs, built once by the composition root and passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from ipaddress import IPv4Network, IPv6Network

from argon2 import PasswordHasher

from flowdesk.kernel.clock import Clock, SystemClock
from flowdesk.services.attachment_storage import AttachmentStorage
from flowdesk.services.calendar_cache import CalendarCache
from flowdesk.services.hashing import PasswordHashPool
from flowdesk.services.process_context import AssigneeCache
from flowdesk.services.registry import AppRegistry
from flowdesk.services.stand_ins import DelegationCache
from flowdesk.services.webhook_policy import WebhookPolicy
from flowdesk.store.db import Database

Network = IPv4Network | IPv6Network


@dataclass(frozen=True)
class AuthPolicy:
    """Sessions and login throttling (ADR 0011); windows in seconds."""

    session_hours: int = 12
    # Attempts per (username, client address) in one window of `login_lock_seconds`.
    login_max_failures: int = 5
    login_lock_seconds: int = 300
    # Failed attempts per client address, any usernames (an office behind one NAT).
    login_client_max_failures: int = 50
    # Failed attempts per username from addresses it has not logged in from.
    login_user_max_failures: int = 30
    login_user_window_seconds: int = 3600
    # How long a successful login exempts its address from the per-username ceiling.
    login_known_client_days: int = 30
    # Peers whose X-Forwarded-For is believed; empty: the header is ignored.
    trusted_proxies: tuple[Network, ...] = ()
    # Password hashes at once, and how many more may wait (beyond: 503 login_busy).
    hash_workers: int = 2
    hash_queue: int = 8


@dataclass
class ServiceContext:
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    hasher: PasswordHasher = field(default_factory=PasswordHasher)
    auth: AuthPolicy = field(default_factory=AuthPolicy)
    apps: AppRegistry = field(default_factory=AppRegistry)
    assignees: AssigneeCache = field(default_factory=AssigneeCache)
    # 代理: the out-of-office rules of the org generation (services/delegations.py).
    delegations: DelegationCache = field(default_factory=DelegationCache)
    # The business calendar: settings' zone and hours, rebuilt per calendar generation.
    calendar: CalendarCache = field(default_factory=CalendarCache)
    # The hash of a new audit chain (sha256 or sm3); a chain keeps the one it started with.
    audit_algorithm: str = "sha256"
    # Built from `auth` unless given: where password hashes run (services/hashing.py).
    hash_pool: PasswordHashPool | None = None
    # 催办: how long after an urge a ticket may be urged again (ADR 0017).
    urge_interval: timedelta = timedelta(hours=4)
    # 加签: how deep add-signs nest (1: an added signer cannot add again; ADR 0020).
    add_sign_depth: int = 1
    # When each periodic housekeeping task is next due in this process (jobs.maintain).
    housekeeping_due: dict[str, datetime] = field(default_factory=dict)
    # Service tasks' webhooks: secrets by name, allowed networks, limits (ADR 0024).
    webhooks: WebhookPolicy = field(default_factory=WebhookPolicy)
    # Attachments' blob store and policy (ADR 0028); None until the composition root
    # (or a test) sets one: uploads are then refused as a configuration error.
    attachments: AttachmentStorage | None = None

    def __post_init__(self) -> None:
        if self.hash_pool is None:
            self.hash_pool = PasswordHashPool(
                workers=self.auth.hash_workers, queue=self.auth.hash_queue
            )


def fast_hasher() -> PasswordHasher:
    """Cheap argon2 parameters for tests and demo data only; never for real passwords."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
