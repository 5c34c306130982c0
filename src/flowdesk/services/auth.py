"""Logging in, sessions for the browser, API tokens for programs.

Secrets (session ids, tokens) are random, shown once, and stored only as SHA-256
hashes; passwords are argon2 hashes, checked in their own bounded pool. Logins are
throttled per (username, client address), per address and per username (ADR 0011).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from typing import Any

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Row

from flowdesk.engines.access import Actor
from flowdesk.kernel.errors import TooManyAttempts, Unauthenticated, ValidationFailed
from flowdesk.kernel.ids import new_id
from flowdesk.services.context import AuthPolicy, ServiceContext
from flowdesk.services.hashing import PasswordHashPool
from flowdesk.store import audit as audit_store
from flowdesk.store import auth as auth_store
from flowdesk.store import org as org_store

TOKEN_PREFIX = "fdk_"
_DUMMY_HASH_CACHE: dict[int, str] = {}
# The client of in-process callers (CLI, scripts), which have no network peer.
LOCAL_CLIENT = "local"
# Throttle scopes (ADR 0011).
PAIR, CLIENT, USER, KNOWN = "pair", "client", "user", "known"
PURGE_EVERY = timedelta(minutes=10)
PURGE_BATCH = 5000


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


def authenticate(
    ctx: ServiceContext, *, username: str, password: str, client: str = LOCAL_CLIENT
) -> Actor:
    """Checks a password from `client` (see `client_address`); throttled per ADR 0011.

    The attempt is counted before the password is checked, in one transaction that
    either reserves it under every limit or refuses it (429) and counts nothing, so
    parallel guesses cannot get past a limit. A success takes its reservation back.
    """
    username = username.strip().lower()
    if not username or len(username) > 64 or len(password) > 1024 or not username.isprintable():
        raise Unauthenticated("Wrong username or password", "bad_credentials")
    client = client[:64]
    pair = f"{client} {username}"
    with _hash_pool(ctx).slot():  # a full pool answers 503 at once, counting nothing
        now = ctx.clock.now()
        with ctx.db.write() as conn:
            counted_per_user = _reserve_attempt(ctx, conn, username, client, pair, now)
            row = org_store.user_by_username(conn, username)
            actor = actor_from_row(conn, row) if row is not None and row.is_active else None
        # An unknown or inactive user still costs a (dummy) hash: timing reveals nothing.
        stored = row.password_hash if actor is not None and row is not None else None
        ok = _hash_pool(ctx).run(lambda: _password_ok(ctx, stored, password))
    if actor is None or not ok:
        raise Unauthenticated("Wrong username or password", "bad_credentials")
    with ctx.db.write() as conn:
        auth_store.forget(conn, scope=PAIR, subject=pair)
        auth_store.refund_attempt(conn, scope=CLIENT, subject=client)
        if counted_per_user:
            auth_store.refund_attempt(conn, scope=USER, subject=username)
        until = now + timedelta(days=ctx.auth.login_known_client_days)
        auth_store.remember(conn, scope=KNOWN, subject=pair, until=until, now=now)
    return actor


async def authenticate_off_request_threads(
    ctx: ServiceContext, *, username: str, password: str, client: str = LOCAL_CLIENT
) -> Actor:
    """`authenticate` on the hash pool's login threads (services/hashing.py), for the
    login routes: a flood of logins then leaves the request threads to other requests."""
    return await _hash_pool(ctx).call(
        authenticate, ctx, username=username, password=password, client=client
    )


def _reserve_attempt(
    ctx: ServiceContext, conn: Connection, username: str, client: str, pair: str, now: datetime
) -> bool:
    """Counts the attempt under each limit or raises TooManyAttempts (the caller's
    transaction then rolls back: a refused attempt counts nowhere). Returns whether it
    was counted against the username's ceiling."""
    policy = ctx.auth
    lock = timedelta(seconds=policy.login_lock_seconds)
    _within(
        auth_store.reserve_attempt(conn, scope=PAIR, subject=pair, window=lock, now=now),
        policy.login_max_failures,
        now,
    )
    _within(
        auth_store.reserve_attempt(conn, scope=CLIENT, subject=client, window=lock, now=now),
        policy.login_client_max_failures,
        now,
    )
    if auth_store.is_live(conn, scope=KNOWN, subject=pair, now=now):
        return False  # the user's own address: a stranger's guessing does not lock it out
    window = timedelta(seconds=policy.login_user_window_seconds)
    _within(
        auth_store.reserve_attempt(conn, scope=USER, subject=username, window=window, now=now),
        policy.login_user_max_failures,
        now,
    )
    return True


def _within(reservation: auth_store.Reservation, limit: int, now: datetime) -> None:
    if reservation.attempts > limit:
        wait = (reservation.expires_at - now).total_seconds()
        raise TooManyAttempts(int(wait) + 1)


def _hash_pool(ctx: ServiceContext) -> PasswordHashPool:
    assert ctx.hash_pool is not None, "ServiceContext builds its pool in __post_init__"
    return ctx.hash_pool


def client_address(policy: AuthPolicy, peer: str | None, forwarded_for: Sequence[str]) -> str:
    """The address logins are throttled by: the TCP peer, or, only when the peer is a
    configured trusted proxy, the nearest untrusted hop of X-Forwarded-For (the hops a
    client wrote itself lie further left and are never believed). IPv6 counts per /64,
    the block one subscriber gets, so rotating addresses within it does not help."""
    address = _ip(peer)
    if address is None:
        return (peer or "unknown")[:64]
    if any(address in network for network in policy.trusted_proxies):
        hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
        for hop in reversed(hops):
            found = _ip(hop)
            if found is None:
                break
            address = found
            if not any(found in network for network in policy.trusted_proxies):
                break
    if isinstance(address, IPv6Address):
        return str(ip_network(f"{address}/64", strict=False))
    return str(address)


def _ip(text: str | None) -> IPv4Address | IPv6Address | None:
    if not text or len(text) > 64:
        return None
    try:
        found = ip_address(text)
    except ValueError:
        return None
    if isinstance(found, IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


def purge_expired(ctx: ServiceContext, *, batch: int = PURGE_BATCH) -> int:
    """Deletes throttle rows whose window ended and expired browser sessions (one batch
    of each); returns how many rows went."""
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        gone = auth_store.purge_expired_throttle(conn, now=now, limit=batch)
        gone += auth_store.purge_expired_sessions(conn, now=now, limit=batch)
    return gone


def purge_expired_when_due(ctx: ServiceContext) -> int:
    """`purge_expired` at most every PURGE_EVERY per process (sooner while a batch was full)."""
    now = ctx.clock.now()
    due = ctx.housekeeping_due.get("auth_purge")
    if due is not None and now < due:
        return 0
    gone = purge_expired(ctx)
    ctx.housekeeping_due["auth_purge"] = now if gone >= PURGE_BATCH else now + PURGE_EVERY
    return gone


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
