"""How many jobs may be in flight: server-wide, per person, and waiting for a person's turn.

Counted by the job manager from Generate until a job ends at fal, never by the
page: Gradio frees a page's place in its queue when the page hangs up, while
the job runs on (and costs) all the same. Counted in the database, on each job's lease
(playground/leases.py): with several replicas on one database the limits hold for all of
them together, and a count and the place it allows are taken in one locked transaction.
"""

from __future__ import annotations

import asyncio
import contextlib

from playground.database import Cursor, SQLite
from playground.errors import LimitReached
from playground.history import History
from playground.leases import Leases
from playground.people import Person

# How often a job waiting its turn looks again on its own: a job that ends on another
# replica frees a turn without telling this one. Ends on this replica wake it at once.
TURN_POLL = 1.0


class Allowance:
    def __init__(self, *, max_jobs: int, per_person: int, waiting_per_person: int,
                 leases: Leases | None = None) -> None:
        self.max_jobs = max_jobs
        self.per_person = per_person
        self.waiting_per_person = waiting_per_person
        if leases is None:  # the core alone: counted in a database of its own
            leases = Leases(History(SQLite(":memory:")).db)
        self.leases = leases
        self._freed = asyncio.Event()

    @property
    def in_flight(self) -> int:
        """Every job held, running or waiting its turn, on any replica."""
        return int(self.leases.db.query("SELECT COUNT(*) FROM leases WHERE until >= ?",
                                        (self.leases.clock(),))[0][0])

    def take(self, person: Person, job_id: str) -> bool:
        """Holds a place for one job (its lease): True if it may run now, False if it must
        wait for one of the person's jobs to end. Refuses past every limit.

        Taken first and counted after, the job itself included, without a lock: replicas
        taking places at once never hold each other back. Two jobs taking the last place
        at the same moment may then both find it gone (one refused a moment early, or one
        that could have run made to wait its turn), never both get it."""
        self.leases.take(job_id, person.names, running=True)
        try:
            total = self.in_flight
            if total > self.max_jobs:
                raise LimitReached(f"The server is at its limit of {self.max_jobs} jobs "
                                   "running; try again when one finishes.")
            db = self.leases.db
            running = self._most(db, person, running=True)
            if running <= self.per_person:
                return True
            db.execute("UPDATE leases SET running = 0 WHERE job_id = ?", (job_id,))
            waiting = self._most(db, person, running=False)
            if waiting > self.waiting_per_person:
                raise LimitReached(
                    f"You have {running - 1} jobs running and {waiting - 1} waiting, the most "
                    f"one person may have here ({self.per_person} running, "
                    f"{self.waiting_per_person} waiting); try again when one finishes.")
            return False
        except BaseException:
            self.leases.release(job_id)
            raise

    async def turn(self, person: Person, job_id: str) -> None:
        """Waits until the person may run one more job, and moves it from waiting to running."""
        while True:
            freed = self._freed
            with self.leases.db.locked() as tx:
                if self._most(tx, person, running=True) < self.per_person:
                    tx.execute("UPDATE leases SET running = 1 WHERE job_id = ?", (job_id,))
                    return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(freed.wait(), TURN_POLL)

    def give_back(self, job_id: str) -> None:
        self.leases.release(job_id)
        self._freed.set()  # everyone waiting looks again; a new event for the next round
        self._freed = asyncio.Event()

    def _most(self, tx: Cursor, person: Person, *, running: bool) -> int:
        """The most jobs (running, or waiting) any of the person's names has."""
        if not person.names:
            return 0
        marks = ", ".join("?" for _ in person.names)
        rows = tx.query(
            "SELECT COUNT(*) FROM lease_names n JOIN leases l ON l.job_id = n.job_id "
            f"WHERE l.until >= ? AND l.running = ? AND n.name IN ({marks}) GROUP BY n.name",
            (self.leases.clock(), int(running), *person.names))
        return max((int(row[0]) for row in rows), default=0)
