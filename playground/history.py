"""Every job, what was asked and what came back, in SQLite beside the data directory.

A row is written before a job is submitted and updated as it moves, so a
restart finds every job that fal may be running for us (by request id and
the URLs fal returned) and can follow it to the end. Keys are never stored.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from playground.database import Cursor, Database, SQLite
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


_TYPES = {"id": "TEXT PRIMARY KEY", "created": "DOUBLE PRECISION", "seed": "BIGINT",
          "price": "DOUBLE PRECISION", "price_estimated": "BOOLEAN"}  # the rest: TEXT
_TABLES = [
    "CREATE TABLE IF NOT EXISTS jobs ("
    + ", ".join(f"{c} {_TYPES.get(c, 'TEXT')}" for c in _COLUMNS) + ")",
    "CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created)",
    "CREATE TABLE IF NOT EXISTS shares (token TEXT PRIMARY KEY, job_id TEXT, "
    "created DOUBLE PRECISION, revoked DOUBLE PRECISION)",
    "CREATE INDEX IF NOT EXISTS shares_job ON shares (job_id)",
    # Which owner a browser last acted as (by the digest of its cookie): a file request
    # carries nothing else to say who asks.
    "CREATE TABLE IF NOT EXISTS browsers (browser TEXT PRIMARY KEY, owner TEXT, "
    "seen DOUBLE PRECISION)",
    # Which browsers were handed each uploaded file (by upload or Remix): a file's path is
    # its content's hash, so two people may hold the same one.
    "CREATE TABLE IF NOT EXISTS uploads (path TEXT, browser TEXT, PRIMARY KEY (path, browser))",
    # Who follows each job in flight, until when (playground/leases.py), and what the limits
    # and budgets count of it (playground/limits.py, JobManager._within_budget).
    "CREATE TABLE IF NOT EXISTS leases (job_id TEXT PRIMARY KEY, holder TEXT NOT NULL, "
    "until DOUBLE PRECISION NOT NULL, running INTEGER NOT NULL DEFAULT 1, "
    "hold DOUBLE PRECISION, hold_owner TEXT, stop INTEGER NOT NULL DEFAULT 0)",
    "CREATE INDEX IF NOT EXISTS leases_holder ON leases (holder)",
    "CREATE TABLE IF NOT EXISTS lease_names (job_id TEXT, name TEXT, "
    "PRIMARY KEY (job_id, name))",
    "CREATE INDEX IF NOT EXISTS lease_names_name ON lease_names (name)",
]
_UPSERT = (f"INSERT INTO jobs ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)}) "
           f"ON CONFLICT (id) DO UPDATE SET "
           + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c != "id"))
# A replica writes a job it follows only while it holds the job's lease: one that lost it
# (stalled past its expiry, and another replica took the job over) writes nothing more.
_FENCED = _UPSERT + (" WHERE EXISTS (SELECT 1 FROM leases WHERE leases.job_id = excluded.id "
                     "AND leases.holder = ?)")


class History:
    def __init__(self, where: Path | Database) -> None:
        self.db = where if isinstance(where, Database) else SQLite(where)
        # Every replica runs this at start; the lock lets one at a time create or migrate.
        with self.db.locked() as tx:
            for statement in _TABLES:
                tx.execute(statement)
            # A history written by an older version lacks the newer fields: add them, empty.
            have = self.db.columns("jobs", tx)
            for column in _COLUMNS:
                if column not in have:
                    tx.execute(f"ALTER TABLE jobs ADD COLUMN {column} "
                               f"{_TYPES.get(column, 'TEXT')}")
            tx.execute("CREATE INDEX IF NOT EXISTS jobs_owner ON jobs (owner, created)")
            # Each replica looks for orphans (unfinished jobs nobody holds) every few seconds.
            tx.execute("CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status)")

    def save(self, record: JobRecord, *, holder: str | None = None) -> bool:
        """Writes the job's row. With `holder`, only while that replica holds the job's
        lease: False when it no longer does, and nothing was written."""
        row = asdict(record)
        values = [json.dumps(row[c]) if c in _JSON else row[c] for c in _COLUMNS]
        if holder is None:
            self.db.execute(_UPSERT, values)
            return True
        return self.db.execute(_FENCED, [*values, holder]) > 0

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
        rows = self.db.query(
            "SELECT owner, key_source, status, request_id, price, price_estimated, created "
            f"FROM jobs WHERE {clause}", params)
        return [Charge(owner, key, status, request_id, usd, bool(estimated), created)
                for owner, key, status, request_id, usd, estimated, created in rows]

    def server_charges(self, tx: Cursor, since: float, now: float) -> list[Charge]:
        """What the day's budgets count on the server's key, on every replica: the jobs
        recorded since then, and the prices held for jobs admitted but not yet recorded
        (on their leases). One statement, so one snapshot: a job recorded meanwhile is
        counted once, as its row or as its hold."""
        rows = tx.query(
            "SELECT owner, status, request_id, price, price_estimated, created FROM jobs "
            "WHERE created >= ? AND key_source = 'server' UNION ALL "
            "SELECT hold_owner, 'preparing', NULL, hold, ?, ? FROM leases l "
            "WHERE hold IS NOT NULL AND until >= ? "
            "AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = l.job_id)",
            (since, False, now, now))
        return [Charge(owner, "server", status, request_id, usd, bool(estimated), created)
                for owner, status, request_id, usd, estimated, created in rows]

    # -- share links -------------------------------------------------------------

    def share(self, job_id: str, token: str) -> str:
        """The job's live share token: the one it has, else `token`, stored from now on."""
        with self.db.locked() as tx:  # two clicks on two replicas make one link
            row = tx.query("SELECT token FROM shares WHERE job_id = ? AND revoked IS NULL",
                           (job_id,))
            if row:
                return str(row[0][0])
            tx.execute("INSERT INTO shares VALUES (?, ?, ?, NULL)", (token, job_id, time.time()))
        return token

    def share_of(self, job_id: str) -> str | None:
        rows = self.db.query("SELECT token FROM shares WHERE job_id = ? AND revoked IS NULL",
                             (job_id,))
        return str(rows[0][0]) if rows else None

    def revoke(self, job_id: str) -> bool:
        return self.db.execute("UPDATE shares SET revoked = ? WHERE job_id = ? AND "
                               "revoked IS NULL", (time.time(), job_id)) > 0

    def shared(self, token: str) -> tuple[JobRecord | None, bool]:
        """The job a share token opens, and whether its owner revoked it (then no job)."""
        rows = self.db.query("SELECT job_id, revoked FROM shares WHERE token = ?", (token,))
        if not rows:
            return None, False
        if rows[0][1] is not None:
            return None, True
        return self.get(rows[0][0]), False

    # -- browsers ----------------------------------------------------------------

    def bind(self, browser: str, owner: str) -> None:
        self.db.execute("INSERT INTO browsers VALUES (?, ?, ?) ON CONFLICT (browser) DO "
                        "UPDATE SET owner = excluded.owner, seen = excluded.seen",
                        (browser, owner, time.time()))

    def bound(self, browser: str) -> str | None:
        rows = self.db.query("SELECT owner FROM browsers WHERE browser = ?", (browser,))
        return str(rows[0][0]) if rows else None

    def hand(self, paths: list[str], browser: str) -> None:
        if paths:
            self.db.executemany("INSERT INTO uploads VALUES (?, ?) ON CONFLICT DO NOTHING",
                                [(path, browser) for path in paths])

    def holders(self, path: str) -> set[str]:
        rows = self.db.query("SELECT browser FROM uploads WHERE path = ?", (path,))
        return {str(row[0]) for row in rows}

    def unfinished(self) -> list[JobRecord]:
        marks = ", ".join("?" for _ in UNFINISHED)
        return self._select(f"WHERE status IN ({marks}) ORDER BY created", UNFINISHED)

    def holdings(self) -> list[Holding]:
        """Every job, oldest first, with only what deciding on its files needs."""
        rows = self.db.query("SELECT id, status, created, request_id, form, removed "
                             "FROM jobs ORDER BY created")
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
        if notes:  # one write for all: a sweep may mark thousands
            self.db.executemany("UPDATE jobs SET removed = ? WHERE id = ?",
                                [(note, job_id) for job_id, note in notes.items()])

    def _select(self, clause: str, params: tuple[Any, ...]) -> list[JobRecord]:
        rows = self.db.query(f"SELECT {', '.join(_COLUMNS)} FROM jobs {clause}", params)
        return [
            JobRecord(**{c: json.loads(v) if c in _JSON else v
                         for c, v in zip(_COLUMNS, row, strict=True)})
            for row in rows
        ]

    def close(self) -> None:
        self.db.close()
