"""Logging in, throttling, API tokens and browser sessions."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from flowdesk.engines.access import Actor
from flowdesk.kernel.clock import FrozenClock
from flowdesk.kernel.errors import TooManyAttempts, Unauthenticated, ValidationFailed
from flowdesk.services import auth, demo
from flowdesk.services.context import AuthPolicy, ServiceContext
from flowdesk.store.tables import ApiToken, LoginThrottle, WebSession

PASSWORD = demo.DEMO_PASSWORD


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
    assert actor.roles == frozenset({"finance_reviewer"})
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
    with demo_ctx.db.read() as conn:  # a success clears the record
        assert conn.execute(select(LoginThrottle.__table__)).all() == []


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
    assert auth.token_actor(demo_ctx, token) == actors["wang.fang"]

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
        auth.token_actor(demo_ctx, garbage)
    assert caught.value.status == 401


def test_expired_and_revoked_tokens_are_unauthenticated(
    demo_ctx: ServiceContext, actors: dict[str, Actor], clock: FrozenClock
) -> None:
    short = auth.create_token(demo_ctx, actors["ma.li"], name="short", days=1)
    revoked = auth.create_token(demo_ctx, actors["ma.li"], name="revoked", days=None)
    assert auth.token_actor(demo_ctx, short).username == "ma.li"
    assert auth.token_actor(demo_ctx, revoked).username == "ma.li"

    tokens = ApiToken.__table__
    with demo_ctx.db.write() as conn:
        conn.execute(
            update(tokens).where(tokens.c.name == "revoked").values(revoked_at=clock.now())
        )
    with pytest.raises(Unauthenticated):
        auth.token_actor(demo_ctx, revoked)

    clock.advance(timedelta(days=1) - timedelta(seconds=1))
    assert auth.token_actor(demo_ctx, short).username == "ma.li"
    clock.advance(timedelta(seconds=1))
    with pytest.raises(Unauthenticated):
        auth.token_actor(demo_ctx, short)


def test_token_names_are_checked(demo_ctx: ServiceContext, actors: dict[str, Actor]) -> None:
    for name in ("", "   ", "n" * 101):
        with pytest.raises(ValidationFailed):
            auth.create_token(demo_ctx, actors["ma.li"], name=name)


def test_browser_sessions_are_stored_hashed_and_expire(
    demo_ctx: ServiceContext, actors: dict[str, Actor], clock: FrozenClock
) -> None:
    started = auth.start_session(demo_ctx, actors["li.na"])
    found = auth.session(demo_ctx, started.token)
    assert found is not None
    assert found.actor == actors["li.na"]
    assert found.csrf_token == started.csrf_token

    with demo_ctx.db.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(WebSession.__table__))]
    assert len(rows) == 1
    assert started.token not in repr(rows)

    assert auth.session(demo_ctx, "not-a-session") is None
    assert auth.session(demo_ctx, "") is None
    assert auth.session(demo_ctx, "x" * 500) is None

    clock.advance(timedelta(hours=demo_ctx.auth.session_hours))
    assert auth.session(demo_ctx, started.token) is None


def test_ending_a_session_logs_out(demo_ctx: ServiceContext, actors: dict[str, Actor]) -> None:
    started = auth.start_session(demo_ctx, actors["li.na"])
    auth.end_session(demo_ctx, started.token)
    assert auth.session(demo_ctx, started.token) is None


def test_concurrent_guesses_are_all_counted(demo_ctx: ServiceContext, clock: FrozenClock) -> None:
    """Parallel guessing must not lose failure counts (nor crash on the first insert)."""
    guessers = 2 * demo_ctx.auth.login_max_failures
    barrier = threading.Barrier(guessers)
    outcomes: list[BaseException | None] = [None] * guessers

    def guess(index: int) -> None:
        barrier.wait()
        try:
            _login(demo_ctx, "ma.li", f"guess-{index}")
        except BaseException as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(guessers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(o, Unauthenticated | TooManyAttempts) for o in outcomes), outcomes
    with pytest.raises(TooManyAttempts):
        _login(demo_ctx, "ma.li")
