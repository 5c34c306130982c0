"""A login flood cannot starve other routes: password hashing has its own bounded pool."""

from __future__ import annotations

import threading
import time
from typing import Literal

from api_client import API, Api, assert_problem
from argon2 import PasswordHasher
from sqlalchemy import select

from flowdesk.services import demo
from flowdesk.services.context import ServiceContext
from flowdesk.services.hashing import PasswordHashPool
from flowdesk.store.tables import LoginThrottle

throttle = LoginThrottle.__table__


class GatedHasher(PasswordHasher):
    """The fast test hasher; while the gate is closed every check waits at it."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.gate = threading.Event()
        self.gate.set()

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.gate.wait(timeout=30)
        return super().verify(hash, password)


def _reserved_pairs(ctx: ServiceContext) -> int:
    with ctx.db.read() as conn:
        return len(conn.execute(select(throttle).where(throttle.c.scope == "pair")).all())


def test_with_the_hash_pool_full_other_routes_answer_and_a_login_gets_503(
    api: Api, demo_ctx: ServiceContext
) -> None:
    hasher = GatedHasher()
    demo_ctx.hasher = hasher
    demo_ctx.hash_pool = PasswordHashPool(workers=1, queue=1)
    api.token("zhang.wei")  # logged in before the flood
    hasher.gate.clear()
    flood = [
        threading.Thread(
            target=api.client.post,
            args=(f"{API}/auth/token",),
            kwargs={"json": {"username": name, "password": "guess"}},
        )
        for name in ("li.na", "ma.li")
    ]
    for thread in flood:
        thread.start()
    try:
        deadline = time.monotonic() + 10
        while _reserved_pairs(demo_ctx) < 2:  # both hold a place: one hashing, one waiting
            assert time.monotonic() < deadline
            time.sleep(0.01)
        me = api.get("zhang.wei", "/me")
        assert me.status_code == 200, me.text
        busy = api.client.post(
            f"{API}/auth/token", json={"username": "sun.li", "password": demo.DEMO_PASSWORD}
        )
        assert_problem(busy, 503, "login_busy")
        assert busy.headers["Retry-After"] == "1"
    finally:
        hasher.gate.set()
        for thread in flood:
            thread.join()
    assert api.get("zhang.wei", "/me").status_code == 200
    assert api.token("sun.li")  # the pool has room again
