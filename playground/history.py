"""Every job, what was asked and what came back, in SQLite beside the data directory.

A row is written before a job is submitted and updated as it moves, so a
restart finds every job that fal may be running for us (by request id and
the URLs fal returned) and can follow it to the end. Keys are never stored.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from playground.identity import TEAM_KINDS, Identity
from playground.spend import Charge

UNFINISHED = ("waiting", "preparing", "submitting", "queued", "running", "downloading")


@dataclass
class JobRecord:
    id: str
    mode: str
    version: str
    endpoint: str
    backend: str  # "fal" or "local"
    key_source: str  # "server", "session" or "none": whose key paid, never the key
    form: dict[str, Any]  # the values as entered, for remix
    arguments: dict[str, Any] = field(default_factory=dict)  # as sent (file URLs)
    status: str = "preparing"
    created: float = field(default_factory=time.time)
    seed: int | None = None
    request_id: str | None = None
    status_url: str | None = None
    response_url: str | None = None
    cancel_url: str | None = None
    video: str | None = None  # path relative to the data directory
    # Where fal serves the video (its public CDN URL), for API and MCP callers; None for a
    # local preview and for jobs from before it was kept.
    video_url: str | None = None
    error: str | None = None
    logs: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    # Why this job's files (inputs, video, preview) were removed, when they were: its age
    # or the storage budget. The row itself stays: what was asked, paid and answered.
    removed: str | None = None
    # Whose job it is (playground/identity.py): only they see it. None for rows written
    # before jobs had owners: nobody's, shown to nobody but a team that shares its history.
    owner: str | None = None
    owner_name: str | None = None  # the login name, for a team's history; never a visitor's
    # What fal charges for it, in USD, from the catalog when it was recorded (0 for a local
    # preview); estimated where fal publishes no price. None on rows from before prices.
    price: float | None = None
    price_estimated: bool = False

    def __post_init__(self) -> None:
        self.price_estimated = bool(self.price_estimated)  # SQLite keeps a bool as 0 or 1


@dataclass(frozen=True)
class Holding:
    """What the store holds for a job: enough to decide whether its files may go."""

    id: str
    status: str
    created: float
    request_id: str | None
    inputs: tuple[str, ...]  # paths of the prepared inputs, as the form recorded them
    removed: str | None

    @property
    def finished(self) -> bool:
        return self.status not in UNFINISHED


MEDIA_FIELDS = ("image_url", "image_urls", "video_url")
_JSON = {"form", "arguments", "logs", "timings"}
_COLUMNS = [f.name for f in fields(JobRecord)]


class History:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the event loop and worker threads, guarded by a lock;
        # writes are tiny, so holding it never stalls the loop noticeably.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                f"CREATE TABLE IF NOT EXISTS jobs ({', '.join(_COLUMNS)}, PRIMARY KEY (id))"
            )
            self._db.execute("CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created)")
            self._db.execute("CREATE TABLE IF NOT EXISTS shares (token PRIMARY KEY, job_id, "
                             "created, revoked)")
            self._db.execute("CREATE INDEX IF NOT EXISTS shares_job ON shares (job_id)")
            # Which owner a browser last acted as (by the digest of its cookie): a file
            # request carries nothing else to say who asks.
            self._db.execute("CREATE TABLE IF NOT EXISTS browsers (browser PRIMARY KEY, "
                             "owner, seen)")
            # Which browsers were handed each uploaded file (by upload or Remix): a file's
            # path is its content's hash, so two people may hold the same one.
            self._db.execute("CREATE TABLE IF NOT EXISTS uploads (path, browser, "
                             "PRIMARY KEY (path, browser))")
            # A history written by an older version lacks the newer fields: add them, empty.
            have = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
            for column in _COLUMNS:
                if column not in have:
                    self._db.execute(f"ALTER TABLE jobs ADD COLUMN {column}")
            self._db.execute("CREATE INDEX IF NOT EXISTS jobs_owner ON jobs (owner, created)")

    def save(self, record: JobRecord) -> None:
        row = asdict(record)
        values = [json.dumps(row[c]) if c in _JSON else row[c] for c in _COLUMNS]
        marks = ", ".join("?" for _ in _COLUMNS)
        with self._lock:
            self._db.execute(f"INSERT OR REPLACE INTO jobs ({', '.join(_COLUMNS)}) "
                             f"VALUES ({marks})", values)

    def get(self, job_id: str) -> JobRecord | None:
        rows = self._select("WHERE id = ?", (job_id,))
        return rows[0] if rows else None

    def recent(self, limit: int = 100) -> list[JobRecord]:
        """Everyone's newest jobs: for the server itself, never for a page."""
        return self._select("ORDER BY created DESC LIMIT ?", (limit,))

    def seen_by(self, viewer: Identity, *, team: bool = False, limit: int = 100
                ) -> list[JobRecord]:
        """The newest jobs this person may see (identity.may_see, in SQL)."""
        clause, params = "owner = ?", [viewer.owner]
        if team and viewer.logged_in:
            clause += " OR owner IS NULL" + "".join(" OR owner LIKE ?" for _ in TEAM_KINDS)
            params += [f"{kind}:%" for kind in TEAM_KINDS]
        return self._select(f"WHERE {clause} ORDER BY created DESC LIMIT ?",
                            (*params, limit))

    def charges(self, since: float, *, owner: str | None = None,
                key_source: str | None = None) -> list[Charge]:
        """What spend counts of the jobs recorded since then: one person's, or on one key."""
        clause, params = "created >= ?", list[Any]([since])
        for column, value in (("owner", owner), ("key_source", key_source)):
            if value is not None:
                clause += f" AND {column} = ?"
                params.append(value)
        with self._lock:
            rows = self._db.execute(
                "SELECT owner, key_source, status, request_id, price, price_estimated, created "
                f"FROM jobs WHERE {clause}", params).fetchall()
        return [Charge(owner, key, status, request_id, usd, bool(estimated), created)
                for owner, key, status, request_id, usd, estimated, created in rows]

    # -- share links -------------------------------------------------------------

    def share(self, job_id: str, token: str) -> str:
        """The job's live share token: the one it has, else `token`, stored from now on."""
        with self._lock:
            row = self._db.execute("SELECT token FROM shares WHERE job_id = ? AND revoked IS "
                                   "NULL", (job_id,)).fetchone()
            if row:
                return str(row[0])
            self._db.execute("INSERT INTO shares VALUES (?, ?, ?, NULL)",
                             (token, job_id, time.time()))
        return token

    def share_of(self, job_id: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT token FROM shares WHERE job_id = ? AND revoked IS "
                                   "NULL", (job_id,)).fetchone()
        return str(row[0]) if row else None

    def revoke(self, job_id: str) -> bool:
        with self._lock:
            cursor = self._db.execute("UPDATE shares SET revoked = ? WHERE job_id = ? AND "
                                      "revoked IS NULL", (time.time(), job_id))
        return cursor.rowcount > 0

    def shared(self, token: str) -> tuple[JobRecord | None, bool]:
        """The job a share token opens, and whether its owner revoked it (then no job)."""
        with self._lock:
            row = self._db.execute("SELECT job_id, revoked FROM shares WHERE token = ?",
                                   (token,)).fetchone()
        if row is None:
            return None, False
        if row[1] is not None:
            return None, True
        return self.get(row[0]), False

    # -- browsers ----------------------------------------------------------------

    def bind(self, browser: str, owner: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO browsers VALUES (?, ?, ?)",
                             (browser, owner, time.time()))

    def bound(self, browser: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT owner FROM browsers WHERE browser = ?",
                                   (browser,)).fetchone()
        return str(row[0]) if row else None

    def hand(self, paths: list[str], browser: str) -> None:
        with self._lock:
            self._db.executemany("INSERT OR IGNORE INTO uploads VALUES (?, ?)",
                                 [(path, browser) for path in paths])

    def holders(self, path: str) -> set[str]:
        with self._lock:
            rows = self._db.execute("SELECT browser FROM uploads WHERE path = ?",
                                    (path,)).fetchall()
        return {str(row[0]) for row in rows}

    def unfinished(self) -> list[JobRecord]:
        marks = ", ".join("?" for _ in UNFINISHED)
        return self._select(f"WHERE status IN ({marks}) ORDER BY created", UNFINISHED)

    def holdings(self) -> list[Holding]:
        """Every job, oldest first, with only what deciding on its files needs."""
        with self._lock:
            rows = self._db.execute("SELECT id, status, created, request_id, form, removed "
                                    "FROM jobs ORDER BY created").fetchall()
        holdings = []
        for job_id, status, created, request_id, form, removed in rows:
            values = json.loads(form)
            inputs = []
            for name in MEDIA_FIELDS:
                value = values.get(name)
                inputs += [v for v in (value if isinstance(value, list) else [value])
                           if isinstance(v, str) and v]
            holdings.append(Holding(job_id, status, created, request_id, tuple(inputs),
                                    removed))
        return holdings

    def mark_removed(self, notes: dict[str, str]) -> None:
        """Says on each job's row why its files are gone (job id -> why)."""
        with self._lock:
            self._db.execute("BEGIN")  # one write for all: a sweep may mark thousands
            try:
                self._db.executemany("UPDATE jobs SET removed = ? WHERE id = ?",
                                     [(note, job_id) for job_id, note in notes.items()])
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _select(self, clause: str, params: tuple[Any, ...]) -> list[JobRecord]:
        with self._lock:
            cursor = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM jobs {clause}", params)
            rows = cursor.fetchall()
        return [
            JobRecord(**{c: json.loads(v) if c in _JSON else v
                         for c, v in zip(_COLUMNS, row, strict=True)})
            for row in rows
        ]

    def close(self) -> None:
        with self._lock:
            self._db.close()
