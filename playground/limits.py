"""How many jobs may be in flight: server-wide, per person, and waiting for a person's turn.

Counted by the job manager from Generate until a job ends at fal, never by the
page: Gradio frees a page's place in its queue when the page hangs up, while
the job runs on (and costs) all the same.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from playground.errors import LimitReached
from playground.people import Person


class Allowance:
    def __init__(self, *, max_jobs: int, per_person: int, waiting_per_person: int) -> None:
        self.max_jobs = max_jobs
        self.per_person = per_person
        self.waiting_per_person = waiting_per_person
        self.in_flight = 0  # every job held, running or waiting its turn
        self._running: Counter[str] = Counter()  # a person's name -> their jobs running
        self._waiting: Counter[str] = Counter()
        self._freed = asyncio.Event()

    def take(self, person: Person) -> bool:
        """Holds a place for one job: True if it may run now, False if it must wait for
        one of the person's jobs to end. Refuses past every limit."""
        if self.in_flight >= self.max_jobs:
            raise LimitReached(f"The server is at its limit of {self.max_jobs} jobs running; "
                               "try again when one finishes.")
        running = self._most(self._running, person)
        if running < self.per_person:
            self.in_flight += 1
            self._running.update(person.names)
            return True
        waiting = self._most(self._waiting, person)
        if waiting >= self.waiting_per_person:
            raise LimitReached(
                f"You have {running} jobs running and {waiting} waiting, the most one person "
                f"may have here ({self.per_person} running, {self.waiting_per_person} "
                "waiting); try again when one finishes.")
        self.in_flight += 1
        self._waiting.update(person.names)
        return False

    async def turn(self, person: Person) -> None:
        """Waits until the person may run one more job, and moves it from waiting to running."""
        while self._most(self._running, person) >= self.per_person:
            freed = self._freed
            await freed.wait()
        self._drop(self._waiting, person)
        self._running.update(person.names)

    def adopt(self) -> None:
        """Holds a place for a job fal already runs for us (one resumed after a restart)."""
        self.in_flight += 1

    def give_back(self, person: Person, *, waiting: bool) -> None:
        self.in_flight -= 1
        self._drop(self._waiting if waiting else self._running, person)
        self._freed.set()  # everyone waiting looks again; a new event for the next round
        self._freed = asyncio.Event()

    @staticmethod
    def _most(counts: Counter[str], person: Person) -> int:
        return max((counts[name] for name in person.names), default=0)

    @staticmethod
    def _drop(counts: Counter[str], person: Person) -> None:
        counts.subtract(person.names)
        for name in person.names:
            if counts[name] <= 0:
                del counts[name]
