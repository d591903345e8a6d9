"""The data directory kept within bounds: old jobs' files expire, and a budget caps the rest.

What grows is files: prepared inputs (named by their content, so one picture used twice is
one file, named by both jobs), videos and previews. A job's row stays in the history for
good and says why its files went. An unfinished job is never touched, and an input goes
only when no job that keeps its files still names it.

`Storage` decides and removes, blocking: run it in a thread. `Sweeper` runs it off the
event loop, one sweep at a time, and removes inputs only while no job is being prepared
(`InputGate`): a job may be about to name an input the history does not show yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from playground.errors import StorageFull
from playground.history import History, Holding

log = logging.getLogger(__name__)
GB = 1024 ** 3
DAY = 86400.0
# A file no job names is left this long: it may be an input being prepared, or a preview
# being rendered, for a job a moment away from being recorded.
ORPHAN_GRACE = 3600.0


@dataclass
class Plan:
    notes: dict[str, str] = field(default_factory=dict)  # job id -> why its files go
    files: list[Path] = field(default_factory=list)  # videos, previews, stray files
    inputs: list[Path] = field(default_factory=list)  # inputs no job keeping files names
    usage: int = 0  # bytes held now
    after: int = 0  # bytes held once the plan is carried out
    full: bool = False  # over the budget with nothing left that may go


class Storage:
    def __init__(self, history: History, data_dir: Path, *, keep_days: float | None = 30,
                 max_bytes: int | None = None, clock: Callable[[], float] = time.time) -> None:
        self.history = history
        self.keep_days = keep_days or None  # 0: keep forever
        self.max_bytes = max_bytes
        self._data_dir = data_dir
        self._inputs = data_dir / "inputs"
        self._videos = data_dir / "videos"
        self._previews = data_dir / "previews"
        self._clock = clock

    def plan(self) -> Plan:
        """What to remove, oldest first: files past their age, then until under budget."""
        now = self._clock()
        listing = self._listing()
        plan = Plan(usage=sum(size for size, _ in listing.values()) + self._history_bytes())
        plan.after = plan.usage
        holdings = self.history.holdings()
        own = {h.id: self._own_files(h, listing) for h in holdings}
        stored = {p.name for p in listing if p.parent == self._inputs}
        names = {h.id: {Path(p).name for p in h.inputs} & stored for h in holdings}
        keeping = [h for h in holdings if h.removed is None]
        named = Counter(n for h in keeping for n in names[h.id])

        def drop(paths: Iterable[Path], into: list[Path]) -> None:
            for path in paths:
                into.append(path)
                plan.after -= listing[path][0]

        def strip(h: Holding, note: str) -> None:
            plan.notes[h.id] = note
            drop(own[h.id], plan.files)
            for name in names[h.id]:
                named[name] -= 1
                if not named[name]:
                    drop([self._inputs / name], plan.inputs)

        for h in holdings:  # a sweep that stopped midway: its rows say so, its files remain
            if h.removed is not None:
                drop(own[h.id], plan.files)
        claimed = {p for files in own.values() for p in files}
        drop([p for p, (_, mtime) in listing.items()
              if p.parent == self._previews and p not in claimed
              and mtime < now - ORPHAN_GRACE], plan.files)
        drop([p for p, (_, mtime) in listing.items()
              if p.parent == self._inputs and not named[p.name]
              and mtime < now - ORPHAN_GRACE], plan.inputs)

        # Only finished jobs with files left; oldest first, as the history lists them.
        candidates = [h for h in keeping if h.finished and (own[h.id] or names[h.id])]
        if self.keep_days is not None:
            cutoff = now - self.keep_days * DAY
            for h in candidates:
                if h.created < cutoff:
                    strip(h, f"files removed after {self.keep_days:g} days")
        if self.max_bytes is not None:
            for h in candidates:
                if h.id in plan.notes:
                    continue
                if plan.after <= self.max_bytes:
                    break
                strip(h, f"files removed to keep the data under {self.max_bytes / GB:g} GB")
            plan.full = plan.after > self.max_bytes
        return plan

    def remove(self, plan: Plan, spare: Collection[str] = ()) -> None:
        """Carries out a plan, leaving the inputs named in `spare` (jobs recorded since)."""
        # Rows first: stopped midway, the history already says so, and the next sweep
        # removes what is left of those jobs' files.
        self.history.mark_removed(plan.notes)
        for path in plan.files + [p for p in plan.inputs if p.name not in spare]:
            path.unlink(missing_ok=True)
        if plan.notes or plan.full:
            log.info("storage: removed the files of %d jobs; %.1f MB held%s", len(plan.notes),
                     plan.after / 2**20, "; over budget with nothing left to remove"
                     if plan.full else "")

    def _listing(self) -> dict[Path, tuple[int, float]]:
        """Size and modification time of every file in the store."""
        listing = {}
        for folder in (self._inputs, self._videos, self._previews):
            with contextlib.suppress(FileNotFoundError), os.scandir(folder) as entries:
                for entry in entries:
                    with contextlib.suppress(FileNotFoundError):  # gone since listed
                        if entry.is_file(follow_symlinks=False):
                            stat = entry.stat(follow_symlinks=False)
                            listing[Path(entry.path)] = (stat.st_size, stat.st_mtime)
        return listing

    def _history_bytes(self) -> int:
        return sum(p.stat().st_size for p in self._data_dir.glob("history.sqlite3*")
                   if p.is_file())

    def _own_files(self, h: Holding, listing: dict[Path, tuple[int, float]]) -> list[Path]:
        """The files only this job has: its video, and its preview if one was left."""
        paths = [self._videos / f"{h.id}.mp4"]
        if h.request_id:
            paths.append(self._previews / f"{h.request_id}.mp4")
        return [p for p in paths if p in listing]


class InputGate:
    """Preparing inputs (many jobs at once) and removing them (one sweep) never overlap.

    A sweep plans from the history, and a job being prepared may be about to name an input
    the plan found unnamed; so removing waits for those under way, holds new ones back for
    the few milliseconds it takes, and spares what jobs recorded since the plan name.
    """

    def __init__(self) -> None:
        self._open = asyncio.Event()
        self._open.set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._preparing = 0
        self.recorded = 0  # jobs recorded so far
        self._named: dict[str, int] = {}  # input file name -> the last job recorded naming it

    @contextlib.asynccontextmanager
    async def preparing(self) -> AsyncIterator[None]:
        await self._open.wait()
        self._preparing += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._preparing -= 1
            if not self._preparing:
                self._idle.set()

    @property
    def holding(self) -> bool:
        """Whether a sweep is holding new preparations back."""
        return not self._open.is_set()

    def record(self, inputs: Iterable[str]) -> None:
        """A job was recorded in the history naming these inputs."""
        self.recorded += 1
        for path in inputs:
            self._named[Path(path).name] = self.recorded

    @contextlib.asynccontextmanager
    async def removing(self, since: int) -> AsyncIterator[set[str]]:
        """Yields the inputs named by jobs recorded after `since`, with none being prepared."""
        self._open.clear()
        try:
            await self._idle.wait()
            yield {name for name, n in self._named.items() if n > since}
        finally:
            # What was recorded up to `since` is in the history now: the next plan sees it.
            self._named = {name: n for name, n in self._named.items() if n > since}
            self._open.set()


class Sweeper:
    """Sweeps at start-up, then every hour (age), and after each job when there is a budget.

    Sweeps never overlap: one asked for while another runs makes that one go round again.
    """

    def __init__(self, storage: Storage, gate: InputGate, *, every: float = 3600.0) -> None:
        self.storage = storage
        self.full = False
        self._gate = gate
        self._every = every
        self._swept = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.Task[None] | None = None
        self._again = False

    def start(self) -> None:
        """Sweeps now and then every `every` seconds, on the running event loop."""
        if self._timer is None:
            self._timer = asyncio.create_task(self._every_so_often(), name="storage-sweeps")

    def after_job(self) -> None:
        if self.storage.max_bytes is not None:  # age is the timer's; growth is the budget's
            self.ask()

    def ask(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._sweeps(), name="storage-sweep")
        else:
            self._again = True

    async def check_room(self) -> None:
        """Raises StorageFull when over the budget with nothing left that may go."""
        if self.storage.max_bytes is None:
            return
        if not self._swept.is_set():  # the first sweep says whether there is room
            self.ask()
            await self._swept.wait()
        if self.full:
            raise StorageFull(
                "The server's storage is full: it keeps at most "
                f"{self.storage.max_bytes / GB:g} GB of inputs and videos, and nothing more "
                "can be removed yet. Try again later; nothing was sent to fal.")

    async def sweep(self) -> Plan:
        since = self._gate.recorded
        plan = await asyncio.to_thread(self.storage.plan)
        if plan.inputs:
            async with self._gate.removing(since) as spare:
                await asyncio.to_thread(self.storage.remove, plan, spare)
        else:
            await asyncio.to_thread(self.storage.remove, plan)
        self.full = plan.full
        return plan

    async def _sweeps(self) -> None:
        while True:
            self._again = False
            try:
                await self.sweep()
            except Exception:  # the store stays as it was; the next sweep tries again
                log.exception("storage sweep failed")
            finally:
                self._swept.set()
            if not self._again:
                return

    async def _every_so_often(self) -> None:
        while True:
            self.ask()
            await asyncio.sleep(self._every)
