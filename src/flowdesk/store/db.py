"""Engine creation and the unit-of-work boundary the services open.

SQLite is configured the way RELIABILITY.md promise 5 asks: WAL, busy_timeout,
foreign keys, and write transactions that start with BEGIN IMMEDIATE so two
writers queue on the lock instead of failing later with "database is locked".
Writers queue in turn: threads of a process on `WriterQueue`, processes on the
database file's writer lock (`ProcessWriterLock`), so SQLite's lock is free when a
writer reaches it and busy_timeout polling is left to programs other than flowdesk.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import NullPool

from flowdesk.store.audit import register_sqlite_functions
from flowdesk.store.sql import commit_queued, drop_queued

READ_ONLY = "flowdesk_read_only"
STATEMENT_AT_A_TIME = "flowdesk_statement_at_a_time"  # Database.read(snapshot=False)
IDLE_PING_SECONDS = 5.0
_LAST_USED = "flowdesk_last_used"
# A request checkpoints only past ~160 MB of WAL: under a burst of writes (one approval
# writes ~18 pages) the worker's checkpoint twice a second, in its own thread, comes
# first, and the copying stays off the request path. The WAL file is reused from its
# start after a checkpoint (overwriting is cheaper than growing a file); it is cut back
# only when it grew past 256 MB, which takes a reader holding off checkpoints.
WAL_AUTOCHECKPOINT_PAGES = 40_000
WAL_SIZE_LIMIT_BYTES = 256 * 1024 * 1024


class Database:
    """Owns the SQLAlchemy engine; `write()` and `read()` are the only ways in."""

    def __init__(
        self,
        url: str,
        *,
        sqlite_synchronous: str = "NORMAL",
        pool_size: int = 10,
        echo: bool = False,
        ping_after_idle_s: float = IDLE_PING_SECONDS,
        sqlite_busy_timeout_ms: int = 10_000,
    ) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # SQLite has one writer. Threads of this process queue here for it, first come
        # first served; without this they would poll SQLite's lock, sleeping up to
        # 100 ms between tries (busy_timeout, which stays for other processes such as
        # a CLI command).
        self._writer: AbstractContextManager[Any] = (
            WriterQueue() if self.is_sqlite else nullcontext()
        )
        self._process_writer: AbstractContextManager[Any] = nullcontext()
        database_file = sqlite_file(url)
        if database_file is not None:
            self._process_writer = ProcessWriterLock(database_file + "-writer.lock")
        # The one writer keeps its connection between transactions (no pool checkout,
        # reset and checkin per step); used only while holding the writer queue.
        self._writer_conn: Connection | None = None
        if self.is_sqlite:
            self.engine = _sqlite_engine(
                url, sqlite_synchronous, echo, sqlite_busy_timeout_ms, pool_size
            )
        else:
            self.engine = create_engine(  # hide_parameters: see _sqlite_engine
                url, pool_size=pool_size, max_overflow=pool_size, echo=echo, hide_parameters=True
            )
            _ping_connections_after_idle(self.engine, ping_after_idle_s)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: commits when the block ends, rolls back on any error."""
        if self.is_sqlite:  # nothing is queued on SQLite (no round trip to save)
            with self._writer, self._process_writer, self._sqlite_writer_transaction() as conn:
                yield conn
            return
        with self.engine.begin() as conn:
            try:
                yield conn
            except BaseException:
                drop_queued(conn)
                raise
            commit_queued(conn)

    @contextmanager
    def _sqlite_writer_transaction(self) -> Iterator[Connection]:
        conn = self._writer_conn
        if conn is None or conn.closed or conn.invalidated:
            if conn is not None:
                conn.close()  # broken: the pool discards its driver connection
            conn = self._writer_conn = self.engine.connect()
        if conn.in_transaction():
            # A write nested in another in the same thread: its own connection, which
            # waits on SQLite's lock and fails as any second writer would.
            with self.engine.begin() as nested:
                yield nested
            return
        with conn.begin():
            yield conn

    @contextmanager
    def read(self, *, snapshot: bool = True) -> Iterator[Connection]:
        """One read transaction that sees a single snapshot across all its statements.

        SQLite (WAL) keeps the snapshot of the first read; PostgreSQL needs REPEATABLE
        READ for that (read-only transactions there never fail on serialization), so a
        page or `audit verify` never mixes data from before and after a concurrent commit.

        `snapshot=False` is for reads of one statement (every request's session or token
        lookup, the badges), which sees one moment anyway: it runs without BEGIN and
        COMMIT, two round trips on PostgreSQL.
        """
        with self.engine.connect() as raw:
            options: dict[str, Any] = {READ_ONLY: True}
            if not snapshot:
                options[STATEMENT_AT_A_TIME] = True
                if not self.is_sqlite:
                    options["isolation_level"] = "AUTOCOMMIT"
            elif not self.is_sqlite:
                options["isolation_level"] = "REPEATABLE READ"
            conn = raw.execution_options(**options)
            with conn.begin():
                yield conn

    def checkpoint(self) -> None:
        """Copies the SQLite WAL into the database file off the request path (a no-op on
        PostgreSQL). Request connections only checkpoint when the WAL passes ~160 MB, so
        approvals do not pay for the fsyncs; the worker calls this twice a second."""
        if self.is_sqlite:
            with self.engine.connect() as conn:
                driver = conn.connection.driver_connection
                assert driver is not None
                driver.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def dispose(self) -> None:
        with self._writer:
            if self._writer_conn is not None:
                self._writer_conn.close()
                self._writer_conn = None
        self.engine.dispose()


class WriterQueue:
    """A first-come-first-served lock that hands itself to the longest waiter: with
    `threading.Lock` the thread that just released it can take it again before the
    waiting ones wake, so under load some writers would wait many turns. Re-entrant,
    so a nested write transaction fails on SQLite's own lock as it would without
    this, instead of hanging here."""

    _new_turn = threading.Event

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Event] = deque()
        self._owner: int | None = None
        self._depth = 0

    def __enter__(self) -> None:
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                self._depth += 1
                return
            if self._owner is None:
                self._owner, self._depth = me, 1
                return
            turn = self._new_turn()
            self._waiters.append(turn)
        try:
            turn.wait()  # the releasing thread hands the turn to us
        except BaseException:  # interrupted while queuing: leave the line cleanly
            with self._mutex:
                if turn.is_set():
                    self._hand_on()
                else:
                    self._waiters.remove(turn)
            raise
        with self._mutex:
            self._owner, self._depth = me, 1

    def __exit__(self, *_exc: object) -> None:
        with self._mutex:
            self._depth -= 1
            if not self._depth:
                self._hand_on()

    def _hand_on(self) -> None:
        """Gives the turn to the longest waiter, if any (called holding the mutex)."""
        if self._waiters:
            self._owner = _HANDED_OVER
            self._waiters.popleft().set()
        else:
            self._owner = None


_HANDED_OVER = -1


class ProcessWriterLock:
    """SQLite's one writer, between processes (`serve --workers N`, `flowdesk worker`,
    the CLI): an exclusive flock of a file beside the database. The kernel wakes a
    waiter the moment the lock is released, where SQLite's busy_timeout polls with
    sleeps of up to 100 ms: with two server processes approving, that put the p99 of an
    approval at 500 ms (bench/RESULTS.md). Taken holding `WriterQueue`, so one thread of
    a process at a time; re-entrant like it. Each process opens the file itself: a
    descriptor inherited across fork would share its lock with the parent."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None
        self._pid = 0
        self._depth = 0

    def __enter__(self) -> None:
        if not self._depth:
            fcntl.flock(self._descriptor(), fcntl.LOCK_EX)
        self._depth += 1

    def __exit__(self, *_exc: object) -> None:
        self._depth -= 1
        if not self._depth and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _descriptor(self) -> int:
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd


def sqlite_file(url: str) -> str | None:
    """The database file of an SQLite URL; None for other databases and in-memory ones."""
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    return None if not path or ":memory:" in path else path


def _ping_connections_after_idle(engine: Engine, idle_s: float) -> None:
    """Checks a pooled connection before reuse only when it sat idle for `idle_s`: a
    server restart or a dropped idle connection is then found before a request uses
    it, while connections in steady use skip the round trip that SQLAlchemy's
    pool_pre_ping would add to every transaction. A dead connection is replaced by the
    pool (DisconnectionError), invisibly to the caller."""

    @event.listens_for(engine, "checkin")
    def _stamp(_dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_LAST_USED, 0.0) < idle_s:
            return
        try:
            dbapi_connection.execute("SELECT 1")
            dbapi_connection.rollback()
        except Exception as exc:
            raise DisconnectionError(f"pooled connection is gone: {exc}") from exc


def _sqlite_engine(
    url: str, synchronous: str, echo: bool, busy_timeout_ms: int, pool_size: int = 10
) -> Engine:
    memory = url in ("sqlite://", "sqlite:///:memory:")
    # hide_parameters: bound values (token hashes, personal data) never reach a log line
    # or an exception's text, even with echo on.
    kwargs: dict[str, Any] = {
        "echo": echo,
        "hide_parameters": True,
        "connect_args": {"check_same_thread": False},
    }
    if memory:
        from sqlalchemy.pool import StaticPool

        kwargs["poolclass"] = StaticPool
    elif synchronous == "FULL":
        kwargs["poolclass"] = NullPool
    else:
        # Keep a connection per busy request thread: past the pool, every checkout opened
        # a new connection and ran its six PRAGMAs (7% of a loaded /me's samples), and
        # every checkin closed it. An idle SQLite connection costs a file handle.
        kwargs["pool_size"] = 2 * pool_size
        kwargs["max_overflow"] = 2 * pool_size
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite, whose implicit BEGIN is DEFERRED.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
            cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'FULL' else 'NORMAL'}")
        cursor.close()
        register_sqlite_functions(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get(STATEMENT_AT_A_TIME, False):
            return  # each statement its own transaction, as SQLite runs them by default
        read_only = options.get(READ_ONLY, False)
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
