"""Who is asking: the session cookie or API token of each request, in one statement.

Every request proves who it is. The secret's row and its user are read together on
every request (store.auth_lookup), so revoking a token, ending a session, deactivating
a user or changing is_admin takes effect on the next request, in every process. Only
the role keys are kept between requests: they are valid while the org generation (bumped
by database triggers whenever memberships or roles change) stays the same, so a change
of roles is also seen at the next request.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from typing import Any

from sqlalchemy import Connection, Row

from flowdesk.engines.access import Actor
from flowdesk.kernel.errors import Unauthenticated
from flowdesk.services.auth import TOKEN_PREFIX, WebSession
from flowdesk.services.context import ServiceContext
from flowdesk.store import auth_lookup
from flowdesk.store import org as org_store
from flowdesk.store.db import Database

_MAX_ENTRIES = 50_000
_Key = tuple[str, int]  # (user id, org generation)


class RoleCache:
    def __init__(self) -> None:
        self._entries: dict[_Key, frozenset[str]] = {}
        self._generation = 0
        self._lock = threading.Lock()

    def get(self, user_id: str, generation: int) -> frozenset[str] | None:
        return self._entries.get((user_id, generation))

    def put(self, user_id: str, generation: int, roles: frozenset[str]) -> None:
        with self._lock:
            if generation > self._generation or len(self._entries) >= _MAX_ENTRIES:
                # An older generation's entries can never be asked for again.
                self._entries = {}
                self._generation = generation
            if generation == self._generation:
                self._entries[(user_id, generation)] = roles


# One cache per database (tests open many; user ids repeat across copies of one template).
_caches: weakref.WeakKeyDictionary[Database, RoleCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def roles_of(db: Database) -> RoleCache:
    cache = _caches.get(db)
    if cache is None:
        with _caches_lock:
            cache = _caches.setdefault(db, RoleCache())
    return cache


def session(ctx: ServiceContext, token: str) -> WebSession | None:
    """The browser session of a cookie value, or None (unknown, expired, user inactive)."""
    if not token or len(token) > 128:
        return None
    with ctx.db.read(snapshot=False) as conn:
        row = auth_lookup.session_holder(conn, _digest(token))
        if row is None or row.secret_expires_at <= ctx.clock.now() or not row.is_active:
            return None
        return WebSession(token, row.csrf_token, _actor(ctx, conn, row))


def token_actor(ctx: ServiceContext, token: str) -> Actor:
    """The holder of an API token; 401 when it is unknown, revoked, expired or inactive."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        raise Unauthenticated("Invalid API token", "invalid_token")
    with ctx.db.read(snapshot=False) as conn:
        row = auth_lookup.token_holder(conn, _digest(token))
        now = ctx.clock.now()
        if (
            row is None
            or row.revoked_at is not None
            or (row.secret_expires_at and row.secret_expires_at <= now)
            or not row.is_active
        ):
            raise Unauthenticated("Invalid API token", "invalid_token")
        return _actor(ctx, conn, row)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _actor(ctx: ServiceContext, conn: Connection, row: Row[Any]) -> Actor:
    cache = roles_of(ctx.db)
    roles = cache.get(row.id, row.generation)
    if roles is None:
        roles = org_store.role_keys(conn, row.id)
        cache.put(row.id, row.generation, roles)
    return Actor(
        user_id=row.id,
        username=row.username,
        display_name=row.display_name,
        is_admin=bool(row.is_admin),
        roles=roles,
        department_id=row.department_id,
        locale=row.locale,
    )
