"""A small, bounded pool for password hashing, apart from the threads every route shares.

argon2 costs ~64 MiB and tens of milliseconds of a core per check, on purpose. Run in
the server's shared threadpool, a flood of logins takes every thread and every core,
and `/me` waits seconds. Here at most `workers` hashes run at once and at most `queue`
more wait; any login beyond that is answered at once with 503 `login_busy` and
Retry-After, before it is counted or hashed.

Logins also run on threads of their own (`call`), not on the few request threads a
server process has (settings.request_threads): a login waiting for its hash must not
hold up the requests behind it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import Any, TypeVar

from anyio import CapacityLimiter, to_thread

from flowdesk.kernel.errors import TooManyAttempts

T = TypeVar("T")
BUSY_RETRY_SECONDS = 1


class LoginBusy(TooManyAttempts):
    """Too many logins are being checked right now; not the caller's fault (503)."""

    def __init__(self) -> None:
        super().__init__(BUSY_RETRY_SECONDS)
        self.message = "Too many logins at once; try again in a moment"
        self.code = "login_busy"
        self.status = 503


class PasswordHashPool:
    def __init__(self, *, workers: int, queue: int) -> None:
        self.capacity = workers + queue
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fd-hash")
        self._slots = threading.BoundedSemaphore(self.capacity)
        # One thread more than there are places, so a login beyond them reaches `slot()`
        # and is refused at once instead of waiting for a thread.
        self._login_threads = CapacityLimiter(self.capacity + 1)

    async def call(self, login: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Runs `login` (which takes a `slot()`) on the login threads."""
        return await to_thread.run_sync(
            partial(login, *args, **kwargs), limiter=self._login_threads
        )

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Holds one place (running or waiting) for the block; LoginBusy when none is free."""
        if not self._slots.acquire(blocking=False):
            raise LoginBusy()
        try:
            yield
        finally:
            self._slots.release()

    def run(self, work: Callable[[], T]) -> T:
        """Runs `work` on a pool thread and waits for it; call inside `slot()`."""
        return self._executor.submit(work).result()
