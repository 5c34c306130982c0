"""The per-request session/token check: one statement, roles cached per org generation,
and every revocation, deactivation and role change seen at the very next request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, event, insert, select, update

from flowdesk.engines.access import Actor
from flowdesk.kernel.clock import FrozenClock
from flowdesk.kernel.errors import Unauthenticated
from flowdesk.services import auth, request_auth
from flowdesk.services.context import ServiceContext
from flowdesk.store.tables import Role, User, UserRole


@pytest.fixture
def clock(demo_ctx: ServiceContext) -> FrozenClock:
    frozen = FrozenClock()
    demo_ctx.clock = frozen
    return frozen


def _set_user(ctx: ServiceContext, username: str, **values: object) -> None:
    with ctx.db.write() as conn:
        conn.execute(update(User).where(User.username == username).values(**values))


def test_token_and_session_give_the_same_actor_as_login(
    demo_ctx: ServiceContext, actors: dict[str, Actor], clock: FrozenClock
) -> None:
    token = auth.create_token(demo_ctx, actors["liu.yang"], name="ci")
    assert request_auth.token_actor(demo_ctx, token) == actors["liu.yang"]
    web = auth.start_session(demo_ctx, actors["admin"])
    found = request_auth.session(demo_ctx, web.token)
    assert found == web


def test_revoked_token_and_ended_session_stop_at_the_next_request(
    demo_ctx: ServiceContext, actors: dict[str, Actor], clock: FrozenClock
) -> None:
    token = auth.create_token(demo_ctx, actors["liu.yang"], name="ci")
    request_auth.token_actor(demo_ctx, token)  # roles now cached
    auth.revoke_token(demo_ctx, actors["liu.yang"], token)
    with pytest.raises(Unauthenticated):
        request_auth.token_actor(demo_ctx, token)
    web = auth.start_session(demo_ctx, actors["liu.yang"])
    assert request_auth.session(demo_ctx, web.token) is not None
    auth.end_session(demo_ctx, web.token)
    assert request_auth.session(demo_ctx, web.token) is None


def test_expiry_is_read_on_every_request(
    demo_ctx: ServiceContext, actors: dict[str, Actor], clock: FrozenClock
) -> None:
    token = auth.create_token(demo_ctx, actors["liu.yang"], name="ci", days=1)
    web = auth.start_session(demo_ctx, actors["liu.yang"])
    assert request_auth.token_actor(demo_ctx, token).username == "liu.yang"
    assert request_auth.session(demo_ctx, web.token) is not None
    clock.advance(timedelta(days=2))
    with pytest.raises(Unauthenticated):
        request_auth.token_actor(demo_ctx, token)
    assert request_auth.session(demo_ctx, web.token) is None


def test_deactivation_and_admin_flag_are_seen_at_once(
    demo_ctx: ServiceContext, actors: dict[str, Actor], clock: FrozenClock
) -> None:
    token = auth.create_token(demo_ctx, actors["liu.yang"], name="ci")
    web = auth.start_session(demo_ctx, actors["liu.yang"])
    assert not request_auth.token_actor(demo_ctx, token).is_admin
    # is_admin and display_name do not bump the org generation; they are read anyway.
    _set_user(demo_ctx, "liu.yang", is_admin=True, display_name="刘洋 (admin)")
    changed = request_auth.token_actor(demo_ctx, token)
    assert changed.is_admin and changed.display_name == "刘洋 (admin)"
    _set_user(demo_ctx, "liu.yang", is_active=False)
    with pytest.raises(Unauthenticated):
        request_auth.token_actor(demo_ctx, token)
    assert request_auth.session(demo_ctx, web.token) is None


def test_a_role_change_is_seen_at_the_next_request(
    demo_ctx: ServiceContext, actors: dict[str, Actor], clock: FrozenClock
) -> None:
    token = auth.create_token(demo_ctx, actors["liu.yang"], name="ci")
    web = auth.start_session(demo_ctx, actors["liu.yang"])
    assert request_auth.token_actor(demo_ctx, token).roles == {
        "finance_reviewer",
        "contract_reviewer",
    }
    user_id = actors["liu.yang"].user_id
    with demo_ctx.db.write() as conn:
        conn.execute(delete(UserRole).where(UserRole.user_id == user_id))
    assert request_auth.token_actor(demo_ctx, token).roles == frozenset()
    found = request_auth.session(demo_ctx, web.token)
    assert found is not None and found.actor.roles == frozenset()
    with demo_ctx.db.write() as conn:
        committee = conn.execute(select(Role.id).where(Role.key == "credit_committee")).scalar()
        conn.execute(insert(UserRole).values(user_id=user_id, role_id=committee))
    assert request_auth.token_actor(demo_ctx, token).roles == {"credit_committee"}


def test_one_statement_per_request_once_roles_are_cached(
    demo_ctx: ServiceContext, actors: dict[str, Actor], clock: FrozenClock
) -> None:
    token = auth.create_token(demo_ctx, actors["liu.yang"], name="ci")
    request_auth.token_actor(demo_ctx, token)
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(demo_ctx.db.engine, "before_cursor_execute", count)
    try:
        request_auth.token_actor(demo_ctx, token)
    finally:
        event.remove(demo_ctx.db.engine, "before_cursor_execute", count)
    assert len(statements) == 1, statements
