"""fal backends for keys pasted in pages, alive only while a job runs on one.

A backend holds the key and pooled connections to fal. Kept per key for the
life of the process, every key ever pasted stayed in memory, with its
connections, long after "Forget my key" or the end of its session. Here a
backend opens for the first job on its key and closes after the last, so
the number alive is bounded by the jobs in flight, and a key the page has
let go of is gone from the server once its jobs end.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable

from playground.backends import Backend


class PastedKeys:
    def __init__(self, make: Callable[[str], Backend]) -> None:
        self._make = make
        self._live: dict[str, Backend] = {}
        self._jobs: Counter[str] = Counter()
        self._closing: set[asyncio.Task[None]] = set()  # held, or the loop may drop them

    def __len__(self) -> int:
        return len(self._live)

    def acquire(self, key: str) -> tuple[Backend, Callable[[], None]]:
        """The key's backend for one job, and the call that lets go of it when it ends."""
        if key not in self._live:
            self._live[key] = self._make(key)
        self._jobs[key] += 1
        return self._live[key], lambda: self._release(key)

    def _release(self, key: str) -> None:
        self._jobs[key] -= 1
        if self._jobs[key] > 0:
            return
        del self._jobs[key]
        backend = self._live.pop(key)
        task = asyncio.get_running_loop().create_task(backend.aclose())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
