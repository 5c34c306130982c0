"""Logging in, throttling, API tokens and browser sessions."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from ipaddress import ip_network
from typing import Literal

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from flowdesk.engines.access import Actor
from flowdesk.kernel.clock import FrozenClock
from flowdesk.kernel.errors import TooManyAttempts, Unauthenticated, ValidationFailed
from flowdesk.services import auth, demo, jobs, request_auth
from flowdesk.services.context import AuthPolicy, ServiceContext
from flowdesk.services.hashing import LoginBusy, PasswordHashPool
from flowdesk.store.tables import ApiToken, LoginThrottle, WebSession

PASSWORD = demo.DEMO_PASSWORD
A = "10.20.30.40"  # the user's own address
STRANGER = "203.0.113.9"
throttle = LoginThrottle.__table__


@pytest.fixture
def clock(demo_ctx: ServiceContext) -> FrozenClock:
    frozen = FrozenClock()
    demo_ctx.clock = frozen
    return frozen


def _login(ctx: ServiceContext, username: str, password: str = PASSWORD) -> Actor:
    return auth.authenticate(ctx, username=username, password=password)


def test_login_returns_the_person_with_roles_and_department(
    demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    actor = _login(demo_ctx, "liu.yang")
    assert actor == actors["liu.yang"]
    assert actor.roles == frozenset({"finance_reviewer", "contract_reviewer"})
    assert actor.display_name == "刘洋"
    assert not actor.is_admin
    assert _login(demo_ctx, "admin").is_admin
    # Usernames are case- and space-insensitive.
    assert _login(demo_ctx, "  Liu.Yang ").user_id == actor.user_id


@pytest.mark.parametrize(
    "username, password",
    [
        ("liu.yang", "wrong-password"),
        ("liu.yang", PASSWORD.lower()),
        ("nobody.here", PASSWORD),
        ("", PASSWORD),
        ("x" * 65, PASSWORD),
        ("liu.yang", "p" * 1025),
        ("liu.yang", ""),
    ],
)
def test_bad_logins_all_fail_the_same_way(
    demo_ctx: ServiceContext, username: str, password: str
) -> None:
    with pytest.raises(Unauthenticated) as caught:
        _login(demo_ctx, username, password)
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        401,
        "bad_credentials",
        "Wrong username or password",
    )


def test_repeated_failures_lock_the_username_then_it_unlocks(
    demo_ctx: ServiceContext, clock: FrozenClock
) -> None:
    policy = demo_ctx.auth
    assert policy == AuthPolicy()
    for _ in range(policy.login_max_failures):
        with pytest.raises(Unauthenticated):
            _login(demo_ctx, "ma.li", "guess")
    # Locked now: even the right password is refused, with the time to wait.
    with pytest.raises(TooManyAttempts) as caught:
        _login(demo_ctx, "ma.li")
    assert caught.value.status == 429
    assert caught.value.retry_after_seconds == policy.login_lock_seconds + 1
    clock.advance(timedelta(seconds=120))
    with pytest.raises(TooManyAttempts) as caught:
        _login(demo_ctx, "ma.li")
    assert caught.value.retry_after_seconds == policy.login_lock_seconds - 120 + 1
    # Other people are not affected.
    assert _login(demo_ctx, "liu.yang").username == "liu.yang"

    clock.advance(timedelta(seconds=policy.login_lock_seconds - 120))
    assert _login(demo_ctx, "ma.li").username == "ma.li"
    with demo_ctx.db.read() as conn:  # a success clears the pair's count, remembers the address
        rows = conn.execute(select(throttle.c.scope, throttle.c.subject)).all()
    assert ("pair", "local ma.li") not in rows
    assert ("known", "local ma.li") in rows


def test_failures_below_the_limit_are_forgiven_by_a_success(
    demo_ctx: ServiceContext, clock: FrozenClock
) -> None:
    for _ in range(3):
        for _ in range(demo_ctx.auth.login_max_failures - 1):
            with pytest.raises(Unauthenticated):
                _login(demo_ctx, "ma.li", "guess")
        _login(demo_ctx, "ma.li")  # never locked: each success resets the count


def test_unknown_usernames_are_throttled_too(demo_ctx: ServiceContext, clock: FrozenClock) -> None:
    """Otherwise the 429 would tell an attacker which usernames exist."""
    for _ in range(demo_ctx.auth.login_max_failures):
        with pytest.raises(Unauthenticated):
            _login(demo_ctx, "ghost.user", "guess")
    with pytest.raises(TooManyAttempts):
        _login(demo_ctx, "ghost.user", "guess")


def test_an_api_token_acts_as_its_owner_and_is_stored_only_hashed(
    demo_ctx: ServiceContext, actors: dict[str, Actor]
) -> None:
    token = auth.create_token(demo_ctx, actors["wang.fang"], name="ci pipeline")
    assert token.startswith(auth.TOKEN_PREFIX)
    assert len(token) > 40
    assert request_auth.token_actor(demo_ctx, token) == actors["wang.fang"]

    with demo_ctx.db.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(ApiToken.__table__))]
    assert len(rows) == 1
    stored = repr(rows)
    assert token not in stored
    assert token[len(auth.TOKEN_PREFIX) :] not in stored
    assert token[-20:] not in stored
    assert rows[0]["name"] == "ci pipeline"
    assert len(rows[0]["token_hash"]) == 64

    other = auth.create_token(demo_ctx, actors["wang.fang"], name="laptop")
    assert other != token


@pytest.mark.parametrize(
    "garbage",
    ["", "fdk_", "fdk_not-a-real-token", "Bearer fdk_x", "ghp_abcdef", "fdk_" + "a" * 200, "\x00"],
)
def test_garbage_tokens_are_unauthenticated(demo_ctx: ServiceContext, garbage: str) -> None:
    with pytest.raises(Unauthenticated) as caught:
        request_auth.token_actor(demo_ctx, garbage)
    assert caught.value.status == 401


def test_expired_and_revoked_tokens_are_unauthenticated(
    demo_ctx: ServiceContext, actors: dict[str, Actor], clock: FrozenClock
) -> None:
    short = auth.create_token(demo_ctx, actors["ma.li"], name="short", days=1)
    revoked = auth.create_token(demo_ctx, actors["ma.li"], name="revoked", days=None)
    assert request_auth.token_actor(demo_ctx, short).username == "ma.li"
    assert request_auth.token_actor(demo_ctx, revoked).username == "ma.li"

    tokens = ApiToken.__table__
    with demo_ctx.db.write() as conn:
        conn.execute(
            update(tokens).where(tokens.c.name == "revoked").values(revoked_at=clock.now())
        )
    with pytest.raises(Unauthenticated):
        request_auth.token_actor(demo_ctx, revoked)

    clock.advance(timedelta(days=1) - timedelta(seconds=1))
    assert request_auth.token_actor(demo_ctx, short).username == "ma.li"
    clock.advance(timedelta(seconds=1))
    with pytest.raises(Unauthenticated):
        request_auth.token_actor(demo_ctx, short)


def test_token_names_are_checked(demo_ctx: ServiceContext, actors: dict[str, Actor]) -> None:
    for name in ("", "   ", "n" * 101):
        with pytest.raises(ValidationFailed):
            auth.create_token(demo_ctx, actors["ma.li"], name=name)


def test_browser_sessions_are_stored_hashed_and_expire(
    demo_ctx: ServiceContext, actors: dict[str, Actor], clock: FrozenClock
) -> None:
    started = auth.start_session(demo_ctx, actors["li.na"])
    found = request_auth.session(demo_ctx, started.token)
    assert found is not None
    assert found.actor == actors["li.na"]
    assert found.csrf_token == started.csrf_token

    with demo_ctx.db.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(WebSession.__table__))]
    assert len(rows) == 1
    assert started.token not in repr(rows)

    assert request_auth.session(demo_ctx, "not-a-session") is None
    assert request_auth.session(demo_ctx, "") is None
    assert request_auth.session(demo_ctx, "x" * 500) is None

    clock.advance(timedelta(hours=demo_ctx.auth.session_hours))
    assert request_auth.session(demo_ctx, started.token) is None


def test_ending_a_session_logs_out(demo_ctx: ServiceContext, actors: dict[str, Actor]) -> None:
    started = auth.start_session(demo_ctx, actors["li.na"])
    auth.end_session(demo_ctx, started.token)
    assert request_auth.session(demo_ctx, started.token) is None


class CountingHasher(PasswordHasher):
    """The fast test hasher, counting the passwords it checks (optionally held at a gate)."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.checks = 0
        self.started = threading.Semaphore(0)
        self._gate = gate
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        with self._lock:
            self.checks += 1
        self.started.release()
        if self._gate is not None:
            self._gate.wait(timeout=30)
        return super().verify(hash, password)


def _in_parallel(count: int, attempt: Callable[[int], object]) -> list[object]:
    """Runs `attempt(i)` on `count` real threads released together; returns results/errors."""
    barrier = threading.Barrier(count)
    outcomes: list[object] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = attempt(index)
        except BaseException as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_thirty_parallel_wrong_guesses_get_at_most_five_password_checks(
    demo_ctx: ServiceContext, clock: FrozenClock
) -> None:
    """Check-then-act let all 30 through and a right password still got in afterwards."""
    hasher = CountingHasher()
    demo_ctx.hasher = hasher
    demo_ctx.hash_pool = PasswordHashPool(workers=2, queue=40)  # no 503s in this test
    limit = demo_ctx.auth.login_max_failures
    outcomes = _in_parallel(
        30, lambda i: auth.authenticate(demo_ctx, username="ma.li", password=f"g{i}", client=A)
    )
    refused = [o for o in outcomes if isinstance(o, TooManyAttempts)]
    wrong = [o for o in outcomes if isinstance(o, Unauthenticated)]
    assert (len(wrong), len(refused)) == (limit, 30 - limit), outcomes
    assert hasher.checks == limit
    assert all(1 <= o.retry_after_seconds <= demo_ctx.auth.login_lock_seconds + 1 for o in refused)
    with pytest.raises(TooManyAttempts):  # the right password does not get in now
        auth.authenticate(demo_ctx, username="ma.li", password=PASSWORD, client=A)
    assert hasher.checks == limit


def test_a_stranger_cannot_lock_a_user_out(demo_ctx: ServiceContext, clock: FrozenClock) -> None:
    for _ in range(demo_ctx.auth.login_max_failures):
        with pytest.raises(Unauthenticated):
            auth.authenticate(demo_ctx, username="admin", password="guess", client=STRANGER)
    with pytest.raises(TooManyAttempts):
        auth.authenticate(demo_ctx, username="admin", password=PASSWORD, client=STRANGER)
    # admin, from their own address (never used before), is not affected.
    assert auth.authenticate(demo_ctx, username="admin", password=PASSWORD, client=A).is_admin


def test_guessing_one_username_from_many_addresses_is_bounded(
    demo_ctx: ServiceContext, clock: FrozenClock
) -> None:
    policy = demo_ctx.auth
    # admin has logged in from A before: that address stays exempt from the ceiling.
    assert auth.authenticate(demo_ctx, username="admin", password=PASSWORD, client=A).is_admin
    for index in range(policy.login_user_max_failures):
        with pytest.raises(Unauthenticated):
            auth.authenticate(
                demo_ctx, username="admin", password="guess", client=f"198.51.100.{index}"
            )
    # The username's ceiling: a new address is refused, even with the right password...
    with pytest.raises(TooManyAttempts) as caught:
        auth.authenticate(demo_ctx, username="admin", password=PASSWORD, client="192.0.2.77")
    assert caught.value.retry_after_seconds == policy.login_user_window_seconds + 1
    # ...while admin's own address still gets in, and the window ends.
    assert auth.authenticate(demo_ctx, username="admin", password=PASSWORD, client=A).is_admin
    clock.advance(timedelta(seconds=policy.login_user_window_seconds))
    assert auth.authenticate(demo_ctx, username="admin", password=PASSWORD, client="192.0.2.77")


def test_one_address_trying_many_usernames_is_bounded(
    demo_ctx: ServiceContext, clock: FrozenClock
) -> None:
    demo_ctx.auth = AuthPolicy(login_client_max_failures=3)
    for name in ("ma.li", "li.na", "admin"):
        with pytest.raises(Unauthenticated):
            auth.authenticate(demo_ctx, username=name, password="guess", client=STRANGER)
    with pytest.raises(TooManyAttempts):
        auth.authenticate(demo_ctx, username="sun.li", password=PASSWORD, client=STRANGER)
    # Successes are not guesses: a shared office address is not used up by people logging in.
    for _ in range(5):
        auth.authenticate(demo_ctx, username="sun.li", password=PASSWORD, client=A)


def test_a_full_hash_pool_answers_busy_at_once_and_counts_nothing(
    demo_ctx: ServiceContext, clock: FrozenClock
) -> None:
    gate = threading.Event()
    hasher = CountingHasher(gate)
    demo_ctx.hasher = hasher
    demo_ctx.hash_pool = PasswordHashPool(workers=1, queue=1)
    busy = [
        threading.Thread(target=_login_quietly, args=(demo_ctx, name))
        for name in ("li.na", "ma.li")
    ]
    for thread in busy:
        thread.start()
    assert hasher.started.acquire(timeout=10)  # one hash running...
    _wait_for(lambda: _count_pairs(demo_ctx) == 2)  # ...and the other login reserved, waiting
    try:
        with pytest.raises(LoginBusy) as caught:
            auth.authenticate(demo_ctx, username="sun.li", password=PASSWORD, client=STRANGER)
        assert (caught.value.status, caught.value.code) == (503, "login_busy")
        assert caught.value.retry_after_seconds >= 1
        with demo_ctx.db.read() as conn:
            assert not conn.execute(
                select(throttle).where(throttle.c.subject.like("%sun.li"))
            ).all()
    finally:
        gate.set()
        for thread in busy:
            thread.join()
    assert hasher.checks == 2
    assert auth.authenticate(demo_ctx, username="sun.li", password=PASSWORD, client=STRANGER)


def _login_quietly(ctx: ServiceContext, username: str) -> None:
    auth.authenticate(ctx, username=username, password=PASSWORD, client=A)


def _count_pairs(ctx: ServiceContext) -> int:
    with ctx.db.read() as conn:
        return len(conn.execute(select(throttle).where(throttle.c.scope == "pair")).all())


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.01)


@pytest.mark.parametrize(
    "peer, forwarded, trusted, expected",
    [
        ("203.0.113.9", [], (), "203.0.113.9"),
        # Off by default: a client cannot choose its address with the header.
        ("203.0.113.9", ["10.1.1.1"], (), "203.0.113.9"),
        # From a trusted proxy: the nearest hop it did not add itself.
        ("10.0.0.2", ["198.51.100.7"], ("10.0.0.0/8",), "198.51.100.7"),
        ("10.0.0.2", ["6.6.6.6, 198.51.100.7, 10.0.0.3"], ("10.0.0.0/8",), "198.51.100.7"),
        ("10.0.0.2", ["6.6.6.6", "198.51.100.7"], ("10.0.0.0/8",), "198.51.100.7"),
        ("10.0.0.2", ["junk"], ("10.0.0.0/8",), "10.0.0.2"),
        ("10.0.0.2", [], ("10.0.0.0/8",), "10.0.0.2"),
        # An untrusted peer's header is ignored even when proxies are configured.
        ("203.0.113.9", ["198.51.100.7"], ("10.0.0.0/8",), "203.0.113.9"),
        # IPv6 counts per /64; IPv4-mapped addresses are IPv4.
        ("2001:db8:1:2:aaaa::1", [], (), "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.1", [], (), "192.0.2.1"),
        (None, [], (), "unknown"),
        ("testclient", [], (), "testclient"),
    ],
)
def test_client_address(
    peer: str | None, forwarded: list[str], trusted: tuple[str, ...], expected: str
) -> None:
    policy = AuthPolicy(trusted_proxies=tuple(ip_network(net) for net in trusted))
    assert auth.client_address(policy, peer, forwarded) == expected


def test_expired_throttle_rows_and_sessions_are_purged_periodically(
    demo_ctx: ServiceContext, actors: dict[str, Actor], clock: FrozenClock
) -> None:
    old = auth.start_session(demo_ctx, actors["li.na"])
    with pytest.raises(Unauthenticated):
        auth.authenticate(demo_ctx, username="ma.li", password="guess", client=STRANGER)
    clock.advance(timedelta(hours=demo_ctx.auth.session_hours))
    fresh = auth.start_session(demo_ctx, actors["li.na"])
    with pytest.raises(Unauthenticated):
        auth.authenticate(demo_ctx, username="li.na", password="guess", client=STRANGER)

    jobs.maintain(demo_ctx)
    with demo_ctx.db.read() as conn:
        sessions = conn.execute(select(WebSession.__table__.c.id_hash)).scalars().all()
        subjects = set(conn.execute(select(throttle.c.subject)).scalars())
    assert len(sessions) == 1
    assert request_auth.session(demo_ctx, fresh.token) is not None
    assert request_auth.session(demo_ctx, old.token) is None
    assert f"{STRANGER} li.na" in subjects and f"{STRANGER} ma.li" not in subjects
    assert {"li.na", STRANGER} <= subjects  # the live per-user and per-address windows stay

    # Not on every worker pass: the next purge waits for its interval.
    clock.advance(auth.PURGE_EVERY - timedelta(seconds=1))
    with demo_ctx.db.write() as conn:
        conn.execute(
            update(WebSession.__table__).values(expires_at=clock.now() - timedelta(seconds=1))
        )
    jobs.maintain(demo_ctx)
    with demo_ctx.db.read() as conn:
        assert conn.execute(select(WebSession.__table__)).all() != []
    clock.advance(timedelta(seconds=1))
    jobs.maintain(demo_ctx)
    with demo_ctx.db.read() as conn:
        assert conn.execute(select(WebSession.__table__)).all() == []
    clock.advance(timedelta(hours=2))  # the last per-user window (1 h) ends
    jobs.maintain(demo_ctx)
    with demo_ctx.db.read() as conn:
        assert conn.execute(select(throttle)).all() == []
