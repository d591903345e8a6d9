"""A job's life: validate, prepare inputs, upload, submit, follow, download, record.

A job belongs to the server. It runs as an asyncio task of the manager and is
recorded before it is submitted; a page only follows its events, so a closed
tab, a reload or a second viewer changes nothing about it. Only an explicit
`stop` asks fal to cancel, and only while the job is still queued there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playground import catalog, media, spend
from playground.backends import Backend, Submission
from playground.errors import (
    MAYBE_QUEUED,
    FalError,
    InputError,
    LimitReached,
    PlaygroundError,
    reason,
)
from playground.events import Done, Event, Failed, Queued, Running, Stage
from playground.history import MEDIA_FIELDS, UNFINISHED, History, JobRecord
from playground.identity import Identity
from playground.leases import Leases
from playground.limits import Allowance
from playground.people import Person
from playground.requests import Request, build_request
from playground.storage import InputGate, Storage, Sweeper

log = logging.getLogger(__name__)
ANYONE = Person()  # a caller the limits know nothing of (resumed jobs, the core alone)
SAVING_NOTICE = 0.5  # seconds of downloading before the page says it is saving the video
MB = 1024 * 1024  # as Gradio counts its upload limit
STOPPING = "The server is stopping; how this job ends will be in the history."
STOPPED_EARLY = ("The server stopped before this job reached fal: nothing was charged. "
                 "Run it again.")
TAKEN_OVER = "Another server follows this job now; its progress goes on here."
WATCH_EVERY = 0.5  # seconds between looks at the row of a job another replica follows


class LeaseLost(Exception):
    """This replica no longer holds the job's lease: another one follows it now."""


@dataclass
class Job:
    record: JobRecord
    backend: Backend
    arguments: dict[str, Any]  # local paths until uploaded
    person: Person = ANYONE
    release: Callable[[], None] = lambda: None  # lets go of the backend when the job ends
    waiting: bool = False  # for the person's turn: they have the most jobs running already
    events: list[Event] = field(default_factory=list)
    submission: Submission | None = None
    task: asyncio.Task[None] | None = None
    cancel_sent: bool = False
    stop_requested: bool = False
    followers: int = 0  # pages iterating `JobManager.follow` now
    lost: bool = False  # another replica took it over: this one writes nothing more of it
    logs_saved: float = 0.0  # when its log lines were last written to its row (monotonic)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def finished(self) -> bool:
        return bool(self.events) and isinstance(self.events[-1], Done | Failed)

    def publish(self, event: Event) -> None:
        self.events.append(event)
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()


BackendChooser = Callable[[str | None, bool], tuple[Backend, str, Callable[[], None]]]


class JobManager:
    def __init__(self, history: History, data_dir: Path, choose_backend: BackendChooser,
                 server_backend: Callable[[], Backend | None] = lambda: None, *,
                 input_dirs: Sequence[Path] = (), allowance: Allowance | None = None,
                 max_image_mb: int = 20, max_video_mb: int = 100,
                 storage: Storage | None = None, budgets: spend.Budgets | None = None
                 ) -> None:
        self.history = history
        self.budgets = budgets or spend.Budgets()
        # Each job in flight holds a lease (playground/leases.py): what the limits count, and
        # what lets one replica of several follow it.
        self.allowance = allowance or Allowance(max_jobs=64, per_person=3,
                                                waiting_per_person=0,
                                                leases=Leases(history.db))
        self.leases = self.allowance.leases
        self._keeper: asyncio.Task[None] | None = None
        self._renewed = 0.0  # when the leases were last renewed (monotonic)
        self._gate = InputGate()
        self._sweeper = Sweeper(storage, self._gate) if storage else None
        self._max_mb = {"image": max_image_mb, "video": max_video_mb}
        self._inputs = data_dir / "inputs"
        self._videos = data_dir / "videos"
        self._data_dir = data_dir
        for folder in (self._inputs, self._videos):
            folder.mkdir(parents=True, exist_ok=True)
        # Where input files may come from: the web server's upload folder, our presets.
        # Never our own store, which holds other people's inputs and results.
        self._input_dirs = [d.resolve() for d in input_dirs]
        self._store_dirs = [d.resolve() for d in (self._inputs, self._videos,
                                                  data_dir / "previews")]
        self._choose_backend = choose_backend
        self._server_backend = server_backend
        self._jobs: dict[str, Job] = {}
        self._closing = False

    # -- starting --------------------------------------------------------------

    async def start(self, mode: str, version: str, values: dict[str, Any], *,
                    session_key: str | None = None, logged_in: bool = False,
                    person: Person = ANYONE, owner: Identity | None = None) -> Job:
        """Validates and prepares everything, records the job, and starts it.

        Raises InputError or LimitReached before anything is recorded or sent.
        """
        if self._closing:
            raise LimitReached("The server is stopping; try again in a minute.")
        try:
            endpoint = catalog.lookup(mode, version)
        except KeyError as exc:
            raise InputError("version", str(exc.args[0])) from None
        request = build_request(endpoint, values)
        if self._sweeper:
            await self._sweeper.check_room()
        # Held from here: preparing takes a while, and others start meanwhile. The place is
        # the job's lease, taken before its row exists, so no replica takes it for an orphan.
        job_id = uuid.uuid4().hex[:16]
        waits = not await self._take(person, job_id)
        release = None
        try:
            backend, key_source, release = self._choose_backend(session_key, logged_in)
            price = (catalog.job_price(endpoint, request.arguments) if key_source != "none"
                     else catalog.JobPrice(0.0))  # a local preview is free
            if key_source == "server":  # before preparing: a refusal costs nothing at all
                # In a thread: with replicas it may wait on another's lock, never the loop.
                await asyncio.to_thread(self._within_budget, job_id, price.usd, owner)
            async with self._gate.preparing():  # a sweep removes no input meanwhile
                arguments = await self._prepare_inputs(request)
                inputs = {k: arguments[k] for k in request.media_fields()}
                # What was asked, with this version's defaults where nothing was given, so a
                # Remix puts back what ran (an API caller leaves most fields out).
                given = {k: v for k, v in values.items() if v is not None}
                form = {**request.arguments, **given, **inputs, "seed": request.seed}
                record = JobRecord(id=job_id, mode=mode, version=version,
                                   endpoint=endpoint.id, backend=backend.name,
                                   key_source=key_source, form=form, arguments=arguments,
                                   seed=request.seed, owner=owner.owner if owner else None,
                                   owner_name=owner.name if owner else None, price=price.usd,
                                   price_estimated=price.estimated)
                record.timings["created"] = time.time()
                if waits:
                    record.status = "waiting"
                self.history.save(record)
                self._gate.record(p for v in inputs.values()
                                  for p in (v if isinstance(v, list) else [v]))
        except BaseException:
            self.allowance.give_back(job_id)
            if release:
                release()
            raise
        job = Job(record, backend, arguments, person, release, waiting=waits)
        self._launch(job, self._run(job))  # what take() held goes with the task
        return job

    async def _take(self, person: Person, job_id: str) -> bool:
        """Allowance.take in a thread (with replicas it may wait on another's lock, and the
        event loop must not). A caller gone meanwhile gives back what was taken."""
        taking = asyncio.ensure_future(asyncio.to_thread(self.allowance.take, person, job_id))
        try:
            return await asyncio.shield(taking)
        except asyncio.CancelledError:
            def undo(task: asyncio.Future[bool]) -> None:
                if not task.cancelled() and task.exception() is None:
                    self.allowance.give_back(job_id)

            taking.add_done_callback(undo)
            raise

    def _end(self, job: Job) -> None:
        if not job.finished and not self._closing:  # a Stop came before its first step
            self._finish(job, "cancelled", Failed(
                "Stopped before it was sent to fal: nothing was charged.", cancelled=True))
        if not job.lost:
            self.allowance.give_back(job.record.id)
        job.release()
        self._forget(job)
        if self._sweeper:
            self._sweeper.after_job()

    def _forget(self, job: Job) -> None:
        """A finished job leaves memory once no page follows it: the history keeps it."""
        if ((job.finished or job.lost) and not job.followers
                and self._jobs.get(job.record.id) is job):
            del self._jobs[job.record.id]

    def _within_budget(self, job_id: str, usd: float, owner: Identity | None) -> None:
        """Refuses a job on the server's key that would pass a day's budget, else holds its
        price on its lease as spent until its record is written. One locked transaction:
        no other job, on any replica, is checked between this one's check and its hold."""
        if not self.budgets.any:
            return
        with self.history.db.locked() as tx:
            self._check_budget(tx, usd, owner)
            tx.execute("UPDATE leases SET hold = ?, hold_owner = ? WHERE job_id = ?",
                       (usd, owner.owner if owner else None, job_id))

    def _check_budget(self, tx: Any, usd: float, owner: Identity | None,
                      what: str = "This job") -> None:
        now = time.time()
        since = spend.day_start(now)
        today = self.history.server_charges(tx, since, now)
        mine = [c for c in today if owner and c.owner == owner.owner]
        self.budgets.check(usd, person_today=spend.spent(mine, since) if owner else None,
                           server_today=spend.spent(today, since), what=what)

    async def affordable(self, usd: float, owner: Identity | None, *, session_key: str | None,
                         logged_in: bool, what: str) -> None:
        """Refuses (OverBudget) jobs of `usd` together that the day's budgets cannot take,
        for jobs that would run on the server's key; holds nothing: each job still holds
        its own price as it starts."""
        if session_key or not self.budgets.any:  # a pasted key wins: no budget holds it
            return
        # Without a pasted key the choice opens nothing (the server's key, or the preview).
        _, key_source, _ = self._choose_backend(None, logged_in)
        if key_source != "server":
            return

        def check() -> None:
            with self.history.db.locked() as tx:
                self._check_budget(tx, usd, owner, what)

        await asyncio.to_thread(check)

    async def _prepare_inputs(self, request: Request) -> dict[str, Any]:
        """Images oriented, scaled and re-encoded, videos checked: all at once, in threads."""
        arguments = dict(request.arguments)
        max_side = media.MAX_SIDE_FOR_RESOLUTION.get(
            arguments.get("resolution", ""), media.DEFAULT_MAX_SIDE)

        def prepare(name: str, kind: str, src: Path) -> str:
            if kind == "video":
                info = media.probe_video(src, field=name)
                return str(self._keep(info.path))
            return str(media.prepare_image(src, field=name, max_side=max_side,
                                           out_dir=self._inputs).path)

        kinds = request.media_fields()
        files = {name: arguments[name] if isinstance(arguments[name], list)
                 else [arguments[name]] for name in kinds}
        # Every file is admitted before any is opened: one too big, or not an upload, costs
        # nothing but a stat, however many others came with it.
        admitted = await asyncio.to_thread(lambda: {
            name: [self._admit(name, kinds[name], src) for src in srcs]
            for name, srcs in files.items()})
        for name, paths in admitted.items():
            prepared = await asyncio.gather(
                *(asyncio.to_thread(prepare, name, kinds[name], p) for p in paths))
            arguments[name] = prepared if isinstance(arguments[name], list) else prepared[0]
        return arguments

    def _admit(self, field: str, kind: str, src: str) -> Path:
        """The file a client named, if it is one it may name (a path arrives from the page
        or the API as plain text, and could otherwise point at any file on this server),
        and no bigger than its kind allows."""
        path = Path(src).resolve()  # symlinks followed: where it really is
        inside = any(path.is_relative_to(d) for d in self._input_dirs)
        if not inside or any(path.is_relative_to(d) for d in self._store_dirs):
            raise InputError(field, "this file was not uploaded to this page (only files "
                                    "uploaded here can be used); upload it again.")
        limit = self._max_mb[kind]
        size = path.stat().st_size if path.is_file() else 0  # a missing one is media's to name
        if size > limit * MB:
            advice = ("Trim or compress it" if kind == "video"
                      else "Save it smaller (a JPEG of a few MB is plenty)")
            raise InputError(field, f"the {kind} is {size / MB:.1f} MB; the limit for "
                                    f"{kind}s is {limit} MB. {advice} and upload it again.")
        return path

    def _keep(self, path: Path) -> Path:
        """A copy of an input video in our store: Gradio's upload cache is not forever."""
        dest = self._inputs / f"{uuid.uuid4().hex[:12]}{path.suffix.lower() or '.mp4'}"
        part = dest.with_name(f".{dest.name}.part")  # the store may be shared: whole or none
        shutil.copyfile(path, part)
        part.replace(dest)
        return dest

    def _launch(self, job: Job, work: Any) -> None:
        """Runs the job's task, which holds one slot until it ends, however it ends."""
        self._jobs[job.record.id] = job
        job.task = asyncio.create_task(work, name=f"job-{job.record.id}")
        job.task.add_done_callback(lambda _task: self._end(job))

    # -- running ---------------------------------------------------------------

    def _update(self, job: Job, **changes: Any) -> None:
        """Writes the job's row, while this replica holds its lease; else LeaseLost."""
        for name, value in changes.items():
            setattr(job.record, name, value)
        if job.lost or not self.history.save(job.record, holder=self.leases.holder):
            self._lose(job)
            raise LeaseLost(job.record.id)

    def _lose(self, job: Job) -> None:
        """Another replica took the job over: this one lets go without another word to
        fal or the history, and its pages go on following it from the history."""
        if not job.lost:
            job.lost = True
            log.warning("job %s is followed by another server now", job.record.id)
            job.publish(Stage(TAKEN_OVER))

    async def _run(self, job: Job) -> None:
        t0 = time.monotonic()
        try:
            if job.waiting:
                job.publish(Stage(f"Waiting: you have {self.allowance.per_person} jobs "
                                  "running, the most at once; this one starts when one ends"))
                await self.allowance.turn(job.person, job.record.id)
                job.waiting = False
                self._update(job, status="preparing")
            await self._upload(job)
            if job.stop_requested or self._closing:
                raise asyncio.CancelledError
            job.publish(Stage("Sending to fal" if job.backend.name == "fal" else "Starting"))
            self._update(job, status="submitting")
            endpoint = catalog.by_id(job.record.endpoint)
            job.submission = await job.backend.submit(endpoint, job.arguments)
        except LeaseLost:
            return
        except asyncio.CancelledError:
            if job.record.status == "submitting":  # only a server shutdown cancels a submit
                self._finish(job, "unknown", Failed(
                    f"The server stopped while sending this job to fal. {MAYBE_QUEUED}"))
                raise
            if self._closing:
                self._finish(job, "failed", Failed(STOPPED_EARLY, retryable=True))
                return
            self._finish(job, "cancelled", Failed(
                "Stopped before it was sent to fal: nothing was charged.", cancelled=True))
            return
        except PlaygroundError as exc:
            self._fail(job, exc)
            return
        except Exception as exc:  # a bug, or a reply nobody foresaw: the job still ends
            log.exception("job %s failed before fal accepted it", job.record.id)
            if job.record.status == "submitting":
                self._fail(job, FalError(f"Unexpected error while sending the job to fal "
                                         f"({type(exc).__name__}). {MAYBE_QUEUED}",
                                         maybe_queued=True))
            else:
                self._fail(job, FalError(f"Unexpected error while preparing the job "
                                         f"({type(exc).__name__}); nothing was sent to fal, "
                                         "so nothing was charged. Run it again.",
                                         retryable=True))
            return
        sub = job.submission
        try:
            self._update(job, status="queued", request_id=sub.request_id,
                         status_url=sub.status_url, response_url=sub.response_url,
                         cancel_url=sub.cancel_url)
        except LeaseLost:
            return
        job.record.timings["prepare"] = round(time.monotonic() - t0, 3)
        if job.stop_requested:
            await self._cancel_at_fal(job)
        await self._follow(job)

    async def _upload(self, job: Job) -> None:
        fields = [n for n in job.arguments if n in MEDIA_FIELDS]
        count = sum(len(v) if isinstance(v, list) else 1
                    for n, v in job.arguments.items() if n in fields)
        if not count:
            return
        job.publish(Stage(f"Uploading {count} file{'s' * (count > 1)}"))
        for name in fields:
            value = job.arguments[name]
            paths = value if isinstance(value, list) else [value]
            urls = await asyncio.gather(*(job.backend.upload(Path(p)) for p in paths))
            job.arguments[name] = list(urls) if isinstance(value, list) else urls[0]
        self._update(job, arguments=job.arguments)

    async def _follow(self, job: Job) -> None:
        assert job.submission is not None
        endpoint = job.record.endpoint
        t_sub = time.monotonic()
        t_run: float | None = None
        try:
            async for event in job.backend.follow(job.submission, endpoint=endpoint):
                if isinstance(event, Running):
                    if t_run is None:  # the page hears of it even when it has no log lines
                        t_run = time.monotonic()
                        job.record.timings["queue"] = round(t_run - t_sub, 3)
                        self._update(job, status="running")
                    elif not event.lines:
                        continue
                    job.record.logs.extend(event.lines)
                    if event.lines:
                        self._save_logs(job)
                job.publish(event)
            t_done = time.monotonic()
            job.record.timings["run"] = round(t_done - (t_run or t_sub), 3)
            self._update(job, status="downloading")
            # Said only when saving is slow enough to notice: a crowd's jobs finish together,
            # and an update each that is gone 50 ms later only delays everyone's video.
            saving = asyncio.get_running_loop().call_later(
                SAVING_NOTICE, job.publish, Stage("Saving the video"))
            try:
                url = await job.backend.result_url(job.submission, endpoint=endpoint)
                dest = self._videos / f"{job.record.id}.mp4"
                await job.backend.fetch(url, dest)
            finally:
                saving.cancel()
            job.record.timings["download"] = round(time.monotonic() - t_done, 3)
            width, height, seconds = await asyncio.to_thread(media.describe_video, dest)
        except LeaseLost:
            return
        except FalError as exc:
            if job.cancel_sent or exc.cancelled:
                self._finish(job, "cancelled", Failed(
                    "Cancelled at fal before it started: nothing was charged.", cancelled=True))
            else:
                self._fail(job, exc)
            return
        except Exception as exc:  # keep the request id on record whatever broke
            log.exception("job %s failed after submit", job.record.id)
            self._fail(job, FalError(f"Unexpected error after fal accepted the job "
                                     f"({reason(exc)}); request id "
                                     f"{job.submission.request_id}."))
            return
        rel = dest.relative_to(self._data_dir).as_posix()
        done = Done(dest, job.submission.request_id, job.record.seed or 0, width, height,
                    seconds, dict(job.record.timings))
        # fal's own URL is public and lasts as fal keeps it; a local preview's is a path here.
        self._finish(job, "done", done, video=rel,
                     video_url=url if url.startswith("https://") else None)

    def _save_logs(self, job: Job) -> None:
        """Writes the job's new log lines for pages on other replicas, which read its row
        every WATCH_EVERY seconds: at most that often, the last of a burst a moment later."""
        now = time.monotonic()
        if now >= job.logs_saved + WATCH_EVERY:
            job.logs_saved = now
            self._update(job)
        elif job.logs_saved <= now:  # none pending: one goes out when the interval is up
            job.logs_saved += WATCH_EVERY  # marks it pending, and when it will be written

            def flush() -> None:
                with contextlib.suppress(LeaseLost):
                    if not job.finished:
                        self._update(job)

            asyncio.get_running_loop().call_at(
                asyncio.get_running_loop().time() + job.logs_saved - now, flush)

    def _fail(self, job: Job, exc: PlaygroundError) -> None:
        status = "unknown" if isinstance(exc, FalError) and exc.maybe_queued else "failed"
        self._finish(job, status, Failed(str(exc), retryable=exc.retryable, fields=exc.fields))

    def _finish(self, job: Job, status: str, event: Done | Failed, **changes: Any) -> None:
        error = event.message if isinstance(event, Failed) else None
        try:
            self._update(job, status=status, error=error, **changes)
        except LeaseLost:
            return  # the replica that has it now says how it ends
        job.publish(event)

    # -- following and stopping -----------------------------------------------

    def get(self, job_id: str) -> Job | None:
        """The job while it is in memory: unfinished, or finished and still followed by a
        page. Otherwise None, and its history record says how it ended."""
        return self._jobs.get(job_id)

    async def follow(self, job_id: str) -> AsyncIterator[Event]:
        """Every event of the job so far, then the new ones, until it ends.

        A job that has already left memory (finished, and nobody followed it to the end)
        gets one event, its outcome, rebuilt from its history record; one that another
        replica follows is followed through its row. KeyError when no job has that id.
        """
        job = self._jobs.get(job_id)
        if job is None:
            record = self.history.get(job_id)
            if record is None:
                raise KeyError(job_id)
            async for event in self._watch(record):
                yield event
            return
        job.followers += 1
        try:
            seen = 0
            while True:
                waiter = job._changed
                while seen < len(job.events):
                    yield job.events[seen]
                    seen += 1
                if job.finished or job.lost or self._closing:
                    break
                await waiter.wait()
        finally:
            job.followers -= 1
            self._forget(job)
        if job.lost and not self._closing:
            lines = len(job.record.logs)
            record = self.history.get(job_id) or job.record
            async for event in self._watch(record, lines=lines):
                yield event

    async def _watch(self, record: JobRecord, *, lines: int = 0) -> AsyncIterator[Event]:
        """A job followed from its row: by another replica, or already ended. Its status
        and new log lines as they are written, then its outcome. `lines`: already shown."""
        if record.status not in UNFINISHED:  # ended already: its outcome says it all
            yield await self._outcome(record)
            return
        said = None
        while record.status in UNFINISHED and not self._closing:
            job = self._jobs.get(record.id)
            if job is not None and not job.lost:  # this replica adopted it meanwhile
                async for event in self.follow(record.id):
                    if isinstance(event, Running) and lines:
                        event, lines = Running(event.lines[lines:]), max(
                            lines - len(event.lines), 0)
                    yield event
                return
            if record.status != said:
                said = record.status
                yield _as_event(record)
            if len(record.logs) > lines:
                yield Running(tuple(record.logs[lines:]))
                lines = len(record.logs)
            await asyncio.sleep(WATCH_EVERY)
            record = self.history.get(record.id) or record
        if len(record.logs) > lines:
            yield Running(tuple(record.logs[lines:]))
        if record.status not in UNFINISHED:
            yield await self._outcome(record)

    async def _outcome(self, record: JobRecord) -> Event:
        """A job's last event, as its history record tells it."""
        video = self._data_dir / record.video if record.video else None
        if record.status == "done" and video and video.is_file():
            width, height, seconds = await asyncio.to_thread(media.describe_video, video)
            return Done(video, record.request_id or "", record.seed or 0, width, height,
                        seconds, dict(record.timings))
        return Failed(record.error or record.removed or f"It ended: {record.status}.",
                      cancelled=record.status == "cancelled")

    async def stop(self, job_id: str) -> str:
        job = self._jobs.get(job_id)
        if job is None or job.lost:
            record = self.history.get(job_id)
            if record and record.status in UNFINISHED and self.leases.ask_stop(job_id):
                return ("Stopping: the server following this job stops it; this page shows "
                        "how it ends.")
            return "Nothing to stop."
        if job.finished:
            return "Nothing to stop."
        if job.submission is None:
            job.stop_requested = True
            if job.record.status != "submitting" and job.task is not None:
                job.task.cancel()
                return "Stopped before it was sent to fal: nothing was charged."
            return "Stopping: it will be cancelled as soon as fal confirms it."
        if job.record.status == "queued":
            return await self._cancel_at_fal(job)
        return ("fal cannot stop a job once it is running: it will finish, it is charged, "
                "and it lands in the history.")

    async def _cancel_at_fal(self, job: Job) -> str:
        assert job.submission is not None
        try:
            job.cancel_sent = await job.backend.cancel(job.submission)
        except Exception as exc:  # a failed cancel must not end the job we still follow
            log.warning("cancel of %s failed: %s", job.submission.request_id, exc)
        if job.cancel_sent:
            return "Asked fal to cancel the queued job."
        return ("fal had already started it, so it cannot be stopped: it will finish, it is "
                "charged, and it lands in the history.")

    # -- stopping, restarts and housekeeping --------------------------------------

    def start_sweeping(self) -> None:
        """Keeps the data directory to its age and budget from now on (needs a running loop)."""
        if self._sweeper:
            self._sweeper.start()

    def close(self) -> None:
        """The server is stopping (call on the event loop): nothing new is sent to fal from
        now on, and the pages following a job hear so and are let go, so that their streams
        end before the server does. The jobs are cancelled with the event loop: those fal has
        accepted stay unfinished in the history, for the next start (or another replica,
        which may take them at once) to follow."""
        self._closing = True
        if self._keeper:
            self._keeper.cancel()
        for job in self._jobs.values():
            if not job.finished:
                job.publish(Stage(STOPPING))
        if self.history.db.shared:
            self.leases.release_all()

    def resumable(self) -> list[JobRecord]:
        """The unfinished jobs the next start will follow."""
        return [r for r in self.history.unfinished() if resumable(r)]

    def resume(self) -> int:
        """Follows every job a previous run left unfinished, and from now on (with a running
        loop) renews this replica's leases and adopts the jobs of replicas that died.
        Returns how many resumed now."""
        if not self.history.db.shared:  # one server: what its previous process held is free
            self.leases.expire_all()
        resumed = self.adopt_orphans()
        if self._keeper is None:
            with contextlib.suppress(RuntimeError):  # no running loop: the core alone
                self._keeper = asyncio.get_running_loop().create_task(
                    self._keep_leases(), name="leases")
        return resumed

    def adopt_orphans(self) -> int:
        """Claims the unfinished jobs nobody holds, and follows each by its request id."""
        resumed = 0
        for job_id in self.leases.orphans():
            if job_id in self._jobs or not self.leases.claim(job_id):
                continue
            record = self.history.get(job_id)
            if record is None or record.status not in UNFINISHED:  # it ended meanwhile
                self.leases.release(job_id)
                continue
            if self._adopt(record):
                resumed += 1
        if resumed:
            log.info("following %d unfinished job%s again", resumed, "s" * (resumed > 1))
        return resumed

    def _adopt(self, record: JobRecord) -> bool:
        server = self._server_backend()
        if record.request_id is None and record.status == "submitting":
            record.status, record.error = "unknown", (
                f"The server stopped while sending this job to fal. {MAYBE_QUEUED}")
        elif record.request_id is None:
            record.status, record.error = "failed", STOPPED_EARLY
        elif resumable(record) and server:
            job = Job(record, server, record.arguments)
            job.submission = Submission(record.request_id, record.status_url or "",
                                        record.response_url or "", record.cancel_url or "")
            job.publish(Stage("Resumed after a restart"))
            self._launch(job, self._follow(job))
            return True
        elif record.backend == "local":
            record.status, record.error = "failed", (
                "A restart interrupted this local preview; run it again (previews are free).")
        else:
            record.status, record.error = "failed", (
                f"The server restarted while this job ran at fal (request id "
                f"{record.request_id}) on a key pasted in a page, which is never stored, so "
                "its result could not be fetched here.")
        self.history.save(record, holder=self.leases.holder)
        self.leases.release(record.id)
        return False

    async def _keep_leases(self) -> None:
        """Renews this replica's leases, lets go of jobs another replica took over, stops
        the jobs a page on another replica asked to stop, and adopts orphans."""
        while not self._closing:
            await asyncio.sleep(min(self.leases.every, 1.0))
            try:
                now = time.monotonic()
                if now >= self._renewed + self.leases.every:
                    self._renewed = now
                    held = await asyncio.to_thread(self.leases.renew)
                    for job in list(self._jobs.values()):
                        if not job.finished and not job.lost and job.record.id not in held:
                            self._lose(job)
                            if job.task is not None:
                                job.task.cancel()
                    self.adopt_orphans()
                for job_id in await asyncio.to_thread(self.leases.stops):
                    if job_id not in self._jobs:
                        continue
                    said = await self.stop(job_id)
                    log.info("job %s stopped for a page on another server: %s", job_id, said)
            except Exception:  # the database may be away a moment: try again next round
                log.exception("keeping the job leases failed")


def _as_event(record: JobRecord) -> Event:
    """What a page following a job from its row sees of its status."""
    if record.status == "queued" and record.request_id:
        return Queued(record.request_id, None)
    if record.status == "running":
        return Running(())
    return Stage({"waiting": "Waiting for your turn", "preparing": "Preparing",
                  "submitting": "Sending to fal", "downloading": "Saving the video",
                  }.get(record.status, record.status))


def resumable(record: JobRecord) -> bool:
    """fal has the job, and on the server's key: pasted keys are never stored."""
    return bool(record.request_id) and record.backend == "fal" and record.key_source == "server"
