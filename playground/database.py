"""Where the history lives: an SQLite file in the data directory (one server), or PostgreSQL
(`PIKA_DATABASE_URL`) shared by several replicas of the playground.

One small interface for both, with the SQL written once: `?` placeholders (turned into
psycopg's `%s`), and only what both dialects speak (`INSERT ... ON CONFLICT`, `||`).
psycopg 3 is imported only when PostgreSQL is asked for, so a single server loads nothing
more than it did. psycopg and its pool rather than SQLAlchemy Core: the history's SQL is a
few dozen short statements both dialects already share as written, and SQLAlchemy would
add its import time to every start (the start-up benchmark's budget), SQLite included,
to translate what needs no translating.

`locked()` is a transaction that no other replica's `locked()` overlaps: an advisory lock
in PostgreSQL, the write lock (`BEGIN IMMEDIATE`) in SQLite. Checks that must count and
then take where being wrong costs money (budgets, share links, a waiting job's turn) run
in one; the job limits count after taking instead (playground/limits.py).
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

# Any number will do, as long as nothing else in the same database uses it.
_ADVISORY_KEY = 0x70696B61  # "pika"


class Cursor(Protocol):
    """What a transaction offers: the same calls as the database itself."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...


class Database:
    """One of the two below; `dialect` says which ("sqlite" or "postgresql")."""

    dialect: str
    shared: bool  # other processes may use it at once (replicas)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Runs one statement on its own; the number of rows it changed."""
        raise NotImplementedError

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raise NotImplementedError

    def locked(self) -> contextlib.AbstractContextManager[Cursor]:
        raise NotImplementedError

    def transaction(self) -> contextlib.AbstractContextManager[Cursor]:
        """All or nothing, without holding other replicas back."""
        raise NotImplementedError

    def columns(self, table: str, tx: Cursor | None = None) -> set[str]:
        """The table's columns, as seen by `tx` (a transaction that may have just made it)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


class SQLite(Database):
    dialect = "sqlite"
    shared = False

    def __init__(self, path: Path | str) -> None:
        if isinstance(path, Path):
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # One connection shared by the event loop and worker threads, guarded by a lock;
        # writes are tiny, so holding it never stalls the loop noticeably.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._lock:
            return self._db.execute(sql, params).rowcount

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.locked():
            self._db.executemany(sql, rows)

    @contextlib.contextmanager
    def locked(self) -> Iterator[Cursor]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def transaction(self) -> contextlib.AbstractContextManager[Cursor]:
        return self.locked()  # one process: the same thing

    def columns(self, table: str, tx: Cursor | None = None) -> set[str]:
        return {str(row[1]) for row in (tx or self).query(f"PRAGMA table_info({table})")}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def describe(self) -> str:
        return f"history in {self.path}"


@functools.lru_cache(maxsize=512)
def _pg(sql: str) -> str:
    """`?` placeholders as psycopg's; none of our SQL has a `?` or `%` of its own."""
    return sql.replace("?", "%s")


class _PgCursor:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._conn.execute(_pg(sql), params).fetchall())

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return int(self._conn.execute(_pg(sql), params).rowcount)


class PostgreSQL(Database):
    dialect = "postgresql"
    shared = True

    def __init__(self, url: str, *, max_connections: int = 8) -> None:
        import psycopg_pool  # only a deployment with PostgreSQL needs psycopg

        # Autocommit: each statement is its own transaction unless `locked()` or
        # `transaction()` opens one, as SQLite runs here. A few connections: the event loop
        # uses one at a time, worker threads (sweeps, limits, budgets) others.
        self._pool = psycopg_pool.ConnectionPool(
            url, min_size=1, max_size=max_connections, kwargs={"autocommit": True},
            open=True, name="pika-history")
        self._pool.wait(timeout=30)
        self._where = redacted(url)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._pool.connection() as conn:
            return list(conn.execute(_pg(sql), params).fetchall())

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._pool.connection() as conn:
            return int(conn.execute(_pg(sql), params).rowcount)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            cursor.executemany(_pg(sql), rows)

    @contextlib.contextmanager
    def locked(self) -> Iterator[Cursor]:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_ADVISORY_KEY,))
            yield _PgCursor(conn)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self._pool.connection() as conn, conn.transaction():
            yield _PgCursor(conn)

    def columns(self, table: str, tx: Cursor | None = None) -> set[str]:
        rows = (tx or self).query("SELECT column_name FROM information_schema.columns WHERE "
                          "table_schema = current_schema() AND table_name = ?", (table,))
        return {str(row[0]) for row in rows}

    def close(self) -> None:
        self._pool.close()

    def describe(self) -> str:
        return f"history in PostgreSQL at {self._where}"


def redacted(url: str) -> str:
    """The database's address without its password, for the start-up line."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme.startswith("postgres") and parts.hostname:
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.hostname}{port}{parts.path}"
    return "the configured server"  # a key=value string: no telling what it holds


def connect(url: str | None, data_dir: Path) -> Database:
    """PostgreSQL when given its URL; else the SQLite file in the data directory."""
    if url:
        if not url.startswith(("postgresql://", "postgres://")):
            raise ValueError("PIKA_DATABASE_URL must start with postgresql:// (or leave it "
                             "unset for the SQLite file in the data directory)")
        return PostgreSQL(url)
    return SQLite(data_dir / "history.sqlite3")
