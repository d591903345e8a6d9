"""Which replica follows each job: a lease in the database, with an expiry.

A job's lease is taken when the job is admitted (before its row is written, so no
unfinished row is ever without one), renewed by its replica while it follows the job,
and released when the job ends. The replica writes the job's row only while it holds the
lease (`History.save(holder=...)`). A replica that dies stops renewing; once its leases
expire, any other replica claims the jobs (one claim wins) and follows them by request id,
as a restart does. What the limits and budgets count of a job lives on its lease too
(playground/limits.py), so they are counted across replicas, and a dead replica's jobs stop
counting until someone adopts them.

One server on SQLite is the same thing with one replica: at start it expires whatever
its previous process held, since that process is gone.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence

from playground.database import Cursor, Database
from playground.history import UNFINISHED

LEASE_SECONDS = 30.0  # a dead replica's jobs are followed again within about this long


def replica_name() -> str:
    """Unique per process: the host and pid say where, the random part tells restarts apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Leases:
    def __init__(self, db: Database, *, seconds: float = LEASE_SECONDS,
                 holder: str | None = None, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.seconds = seconds
        self.holder = holder or replica_name()
        self.clock = clock

    @property
    def every(self) -> float:
        """How often to renew, and to look for orphans: a lease survives two missed renewals."""
        return self.seconds / 3

    def take(self, job_id: str, names: Sequence[str], *, running: bool) -> None:
        """A new job's lease, with the names its person's limits count it under."""
        with self.db.transaction() as tx:
            self._take(tx, job_id, names, running=running)

    def _take(self, tx: Cursor, job_id: str, names: Sequence[str], *, running: bool) -> None:
        tx.execute("INSERT INTO leases (job_id, holder, until, running) VALUES (?, ?, ?, ?)",
                   (job_id, self.holder, self.clock() + self.seconds, int(running)))
        for name in dict.fromkeys(names):
            tx.execute("INSERT INTO lease_names VALUES (?, ?)", (job_id, name))

    def release(self, job_id: str) -> None:
        """The job ended here (or never started): nothing of it counts any more."""
        with self.db.transaction() as tx:
            if tx.execute("DELETE FROM leases WHERE job_id = ? AND holder = ?",
                          (job_id, self.holder)):
                tx.execute("DELETE FROM lease_names WHERE job_id = ?", (job_id,))

    def renew(self) -> set[str]:
        """Extends every lease this replica holds; answers the jobs it still holds (a job
        it follows that is not among them was taken over: it must let go of it)."""
        self.db.execute("UPDATE leases SET until = ? WHERE holder = ?",
                        (self.clock() + self.seconds, self.holder))
        return {str(row[0]) for row in
                self.db.query("SELECT job_id FROM leases WHERE holder = ?", (self.holder,))}

    def orphans(self) -> list[str]:
        """Unfinished jobs nobody holds: their replica died, or they predate leases."""
        marks = ", ".join("?" for _ in UNFINISHED)
        rows = self.db.query(
            "SELECT j.id FROM jobs j LEFT JOIN leases l ON l.job_id = j.id "
            f"WHERE j.status IN ({marks}) AND (l.job_id IS NULL OR l.until < ?) "
            "ORDER BY j.created", (*UNFINISHED, self.clock()))
        return [str(row[0]) for row in rows]

    def claim(self, job_id: str) -> bool:
        """Takes over an orphan's lease; False when another replica was first (or its own
        replica came back and renewed it). Its names are dropped: an adopted job counts
        toward the server's limit only, never refused (fal runs it already)."""
        now = self.clock()
        with self.db.locked() as tx:
            won = tx.execute(
                "INSERT INTO leases (job_id, holder, until, running) VALUES (?, ?, ?, 1) "
                "ON CONFLICT (job_id) DO UPDATE SET holder = excluded.holder, "
                "until = excluded.until, running = 1, hold = NULL WHERE leases.until < ?",
                (job_id, self.holder, now + self.seconds, now)) > 0
            if won:
                tx.execute("DELETE FROM lease_names WHERE job_id = ?", (job_id,))
        return won

    def expire_all(self) -> None:
        """Every lease ends now: for a lone server at start, whose previous process is gone."""
        self.db.execute("UPDATE leases SET until = 0")

    def release_all(self) -> None:
        """This replica stops: the others may take its jobs at once instead of after expiry."""
        self.db.execute("UPDATE leases SET until = 0 WHERE holder = ?", (self.holder,))

    def ask_stop(self, job_id: str) -> bool:
        """Asks the replica following a job to stop it; False when nobody follows it."""
        return self.db.execute("UPDATE leases SET stop = 1 WHERE job_id = ? AND until >= ?",
                               (job_id, self.clock())) > 0

    def stops(self) -> list[str]:
        """The jobs this replica holds that a page on another replica asked to stop; each
        is answered once."""
        rows = self.db.query("UPDATE leases SET stop = 0 WHERE holder = ? AND stop = 1 "
                             "RETURNING job_id", (self.holder,))
        return [str(row[0]) for row in rows]

    def holder_of(self, job_id: str) -> str | None:
        rows = self.db.query("SELECT holder FROM leases WHERE job_id = ? AND until >= ?",
                             (job_id, self.clock()))
        return str(rows[0][0]) if rows else None
