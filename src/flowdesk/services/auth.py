"""Logging in, sessions for the browser, API tokens for programs.

Secrets (session ids, tokens) are random, shown once, and stored only as SHA-256
hashes; passwords are argon2 hashes. Failed logins are throttled per username.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Row

from flowdesk.engines.access import Actor
from flowdesk.kernel.errors import TooManyAttempts, Unauthenticated, ValidationFailed
from flowdesk.kernel.ids import new_id
from flowdesk.services.context import ServiceContext
from flowdesk.store import audit as audit_store
from flowdesk.store import auth as auth_store
from flowdesk.store import org as org_store

TOKEN_PREFIX = "fdk_"
_DUMMY_HASH_CACHE: dict[int, str] = {}


@dataclass(frozen=True)
class WebSession:
    token: str
    csrf_token: str
    actor: Actor


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def actor_from_row(conn: Connection, row: Row[Any]) -> Actor:
    return Actor(
        user_id=row.id,
        username=row.username,
        display_name=row.display_name,
        is_admin=bool(row.is_admin),
        roles=org_store.role_keys(conn, row.id),
        department_id=row.department_id,
        locale=row.locale,
    )


def authenticate(ctx: ServiceContext, *, username: str, password: str) -> Actor:
    """Checks a password; too many failures lock the username for a while (429)."""
    now = ctx.clock.now()
    username = username.strip().lower()
    if not username or len(username) > 64 or len(password) > 1024:
        raise Unauthenticated("Wrong username or password", "bad_credentials")
    # Read, then hash outside any transaction (argon2 is slow on purpose), then write:
    # a login rush must not hold SQLite's write lock while approvals wait.
    with ctx.db.read() as conn:
        throttled = auth_store.throttle_row(conn, username)
        if throttled is not None and throttled.locked_until and throttled.locked_until > now:
            raise TooManyAttempts(int((throttled.locked_until - now).total_seconds()) + 1)
        row = org_store.user_by_username(conn, username)
        actor = actor_from_row(conn, row) if row is not None and row.is_active else None
    if actor is not None and _password_ok(ctx, row.password_hash if row else None, password):
        if throttled is not None:
            with ctx.db.write() as conn:
                auth_store.clear_failures(conn, username)
        return actor
    if actor is None:
        _password_ok(ctx, None, password)
    with ctx.db.write() as conn:
        failures = auth_store.record_failure(conn, username=username, now=now)
        if failures >= ctx.auth.login_max_failures:
            auth_store.lock_username(
                conn,
                username=username,
                until=now + timedelta(seconds=ctx.auth.login_lock_seconds),
                now=now,
            )
    raise Unauthenticated("Wrong username or password", "bad_credentials")


def _password_ok(ctx: ServiceContext, stored: str | None, password: str) -> bool:
    if not stored:
        # Spend the same time as a real check so unknown users are not revealed by timing.
        key = id(ctx.hasher)
        if key not in _DUMMY_HASH_CACHE:
            _DUMMY_HASH_CACHE[key] = ctx.hasher.hash(secrets.token_hex(8))
        stored = _DUMMY_HASH_CACHE[key]
        password = password + "\x00never"
    try:
        return bool(ctx.hasher.verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


def start_session(ctx: ServiceContext, actor: Actor) -> WebSession:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        auth_store.insert_session(
            conn,
            id_hash=_digest(token),
            user_id=actor.user_id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + timedelta(hours=ctx.auth.session_hours),
        )
    return WebSession(token, csrf, actor)


def session(ctx: ServiceContext, token: str) -> WebSession | None:
    if not token or len(token) > 128:
        return None
    with ctx.db.read() as conn:
        row = auth_store.session_by_hash(conn, _digest(token))
        if row is None or row.expires_at <= ctx.clock.now():
            return None
        user = org_store.user_by_id(conn, row.user_id)
        if user is None or not user.is_active:
            return None
        return WebSession(token, row.csrf_token, actor_from_row(conn, user))


def end_session(ctx: ServiceContext, token: str) -> None:
    with ctx.db.write() as conn:
        auth_store.delete_session(conn, _digest(token))


def create_token(ctx: ServiceContext, actor: Actor, *, name: str, days: int | None = 90) -> str:
    """Returns the token text once; only its hash is kept."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationFailed("Token name must be 1-100 characters", code="invalid_token_name")
    secret = secrets.token_urlsafe(32)
    token = f"{TOKEN_PREFIX}{secret}"
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        auth_store.insert_token(
            conn,
            id=new_id(),
            user_id=actor.user_id,
            name=name,
            token_hash=_digest(token),
            prefix=token[:12],
            created_at=now,
            expires_at=now + timedelta(days=days) if days else None,
        )
    return token


def token_actor(ctx: ServiceContext, token: str) -> Actor:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        raise Unauthenticated("Invalid API token", "invalid_token")
    with ctx.db.read() as conn:
        row = auth_store.token_by_hash(conn, _digest(token))
        now = ctx.clock.now()
        if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at <= now):
            raise Unauthenticated("Invalid API token", "invalid_token")
        user = org_store.user_by_id(conn, row.user_id)
        if user is None or not user.is_active:
            raise Unauthenticated("Invalid API token", "invalid_token")
        return actor_from_row(conn, user)


def revoke_token(ctx: ServiceContext, actor: Actor, token: str) -> None:
    """Revokes the presented token at once (a leaked token must be stoppable); audited."""
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        if auth_store.revoke_token(conn, _digest(token), now):
            audit_store.append(
                conn,
                at=now,
                actor=actor.username,
                action="token.revoke",
                target_type="user",
                target_id=actor.user_id,
                details={"prefix": token[:12]},
            )
