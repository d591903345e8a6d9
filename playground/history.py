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
    error: str | None = None
    logs: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


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

    def save(self, record: JobRecord) -> None:
        row = asdict(record)
        values = [json.dumps(row[c]) if c in _JSON else row[c] for c in _COLUMNS]
        marks = ", ".join("?" for _ in _COLUMNS)
        with self._lock:
            self._db.execute(f"INSERT OR REPLACE INTO jobs VALUES ({marks})", values)

    def get(self, job_id: str) -> JobRecord | None:
        rows = self._select("WHERE id = ?", (job_id,))
        return rows[0] if rows else None

    def recent(self, limit: int = 100) -> list[JobRecord]:
        return self._select("ORDER BY created DESC LIMIT ?", (limit,))

    def unfinished(self) -> list[JobRecord]:
        marks = ", ".join("?" for _ in UNFINISHED)
        return self._select(f"WHERE status IN ({marks}) ORDER BY created", UNFINISHED)

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
