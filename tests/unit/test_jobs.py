"""The job manager on an in-memory backend: a job's events, its record, and how long the
manager holds it."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from playground.backends import Backend, Submission
from playground.catalog import Endpoint
from playground.database import Database
from playground.errors import FalError, InputError
from playground.events import Done, Event, Failed, Queued, Running, Stage
from playground.history import History
from playground.jobs import JobManager

MEDIA = Path(__file__).resolve().parents[2] / "presets" / "media"
VIDEO = MEDIA / "street.mp4"


class MemoryBackend:
    """A backend whose uploads and jobs wait until the test says `go`, then end as told."""

    name = "memory"

    def __init__(self, *, fails: str | None = None) -> None:
        self.fails = fails
        self.go = asyncio.Event()
        self.submitted: list[dict[str, Any]] = []

    async def upload(self, path: Path) -> str:
        await self.go.wait()
        return f"memory://{path.name}"

    async def submit(self, endpoint: Endpoint, arguments: dict[str, Any]) -> Submission:
        self.submitted.append(arguments)
        return Submission(f"mem-{len(self.submitted)}", "", "", "")

    async def follow(self, submission: Submission, *, endpoint: str = "memory"
                     ) -> AsyncIterator[Queued | Running]:
        yield Queued(submission.request_id, 1)
        await self.go.wait()
        yield Running(("working",))
        if self.fails:
            raise FalError(f"[{endpoint}] the job failed at fal: {self.fails}")

    async def result_url(self, submission: Submission, *, endpoint: str = "memory") -> str:
        return str(VIDEO)

    async def fetch(self, url: str, dest: Path) -> None:
        shutil.copyfile(url, dest)

    async def cancel(self, submission: Submission) -> bool:
        return False

    async def aclose(self) -> None:
        pass


@pytest.fixture
def history(database: Database) -> History:
    """On SQLite and on PostgreSQL (tests/unit/conftest.py)."""
    return History(database)


def manager_for(backend: Backend, history: History, data_dir: Path) -> JobManager:
    return JobManager(history, data_dir, lambda key, logged_in: (backend, "none", lambda: None),
                      input_dirs=[MEDIA])


async def start(manager: JobManager, prompt: str = "a sailboat at dawn") -> str:
    job = await manager.start("text-to-video", "v2.2", {"prompt": prompt})
    return job.record.id


async def events_of(manager: JobManager, job_id: str) -> list[Event]:
    return [event async for event in manager.follow(job_id)]


async def test_a_job_runs_to_its_video_and_the_history_keeps_it(history, tmp_path) -> None:
    backend = MemoryBackend()
    backend.go.set()
    manager = manager_for(backend, history, tmp_path)
    job_id = await start(manager)
    events = await events_of(manager, job_id)
    assert events[:3] == [Stage("Starting"), Queued("mem-1", 1), Running(("working",))]
    done = events[-1]
    assert isinstance(done, Done) and done.request_id == "mem-1"
    assert (done.width, done.height) == (640, 360) and done.video.read_bytes()
    record = history.get(job_id)
    assert record is not None and record.status == "done"
    assert record.video == f"videos/{job_id}.mp4" and record.logs == ["working"]
    assert backend.submitted[0]["prompt"] == "a sailboat at dawn"


async def test_a_finished_job_leaves_memory_once_no_page_follows_it(history, tmp_path) -> None:
    backend = MemoryBackend()
    manager = manager_for(backend, history, tmp_path)
    job_id = await start(manager)
    job = manager.get(job_id)
    assert job is not None and job.task is not None
    page = manager.follow(job_id)
    assert isinstance(await anext(page), Stage)
    backend.go.set()
    await job.task
    assert manager.get(job_id) is job, "a page still reads its events"
    rest = [event async for event in page]
    assert isinstance(rest[-1], Done)
    assert manager.get(job_id) is None


async def test_a_job_nobody_follows_leaves_memory_when_it_ends(history, tmp_path) -> None:
    backend = MemoryBackend(fails="CUDA out of memory")
    backend.go.set()
    manager = manager_for(backend, history, tmp_path)
    ids = [await start(manager, f"job {n}") for n in range(3)]
    tasks = [job.task for job in map(manager.get, ids) if job and job.task]
    await asyncio.gather(*tasks)
    await asyncio.sleep(0)  # the tasks' done callbacks
    assert [manager.get(i) for i in ids] == [None, None, None]
    assert [r.status for r in map(history.get, ids) if r] == ["failed"] * 3


async def test_a_page_that_comes_late_gets_the_outcome_from_the_history(history,
                                                                         tmp_path) -> None:
    backend = MemoryBackend()
    backend.go.set()
    manager = manager_for(backend, history, tmp_path)
    job_id = await start(manager)
    first = await events_of(manager, job_id)
    assert manager.get(job_id) is None
    (late,) = await events_of(manager, job_id)
    assert late == first[-1]  # the same video, size, seed and timings


async def test_a_late_page_hears_how_a_job_failed(history, tmp_path) -> None:
    backend = MemoryBackend(fails="CUDA out of memory")
    backend.go.set()
    manager = manager_for(backend, history, tmp_path)
    job_id = await start(manager)
    *_, failed = await events_of(manager, job_id)
    assert isinstance(failed, Failed) and "CUDA out of memory" in failed.message
    assert await events_of(manager, job_id) == [Failed(failed.message)]


async def test_following_a_job_that_never_was_is_a_key_error(history, tmp_path) -> None:
    manager = manager_for(MemoryBackend(), history, tmp_path)
    with pytest.raises(KeyError):
        await events_of(manager, "no-such-job")


async def test_bad_input_is_refused_before_anything_is_recorded_or_sent(history,
                                                                         tmp_path) -> None:
    backend = MemoryBackend()
    manager = manager_for(backend, history, tmp_path)
    with pytest.raises(InputError) as refused:
        await start(manager, prompt="   ")
    assert refused.value.field == "prompt"
    assert history.recent() == [] and backend.submitted == []


async def test_stop_while_uploading_ends_the_job_with_nothing_sent(history, tmp_path) -> None:
    backend = MemoryBackend()
    manager = manager_for(backend, history, tmp_path)
    job = await manager.start("image-to-video", "v2.2",
                              {"image_url": str(MEDIA / "sailboat.jpg"), "prompt": "sails"})
    job_id = job.record.id
    page = manager.follow(job_id)
    assert await anext(page) == Stage("Uploading 1 file")
    said = await manager.stop(job_id)
    assert "nothing was charged" in said
    *_, last = [event async for event in page]
    assert isinstance(last, Failed) and last.cancelled
    record = history.get(job_id)
    assert record is not None and record.status == "cancelled" and backend.submitted == []


async def test_a_stop_before_the_job_took_a_step_still_ends_it(history: History,
                                                               tmp_path: Path) -> None:
    # An API caller can ask before the job's task ever ran: the task is cancelled then
    # before `_run` could say anything, and the job must still end, as free.
    manager = manager_for(MemoryBackend(), history, tmp_path)
    job_id = await start(manager)
    assert await manager.stop(job_id) == ("Stopped before it was sent to fal: nothing was "
                                          "charged.")

    async def heard() -> list[Event]:
        return [event async for event in manager.follow(job_id)]

    events = await asyncio.wait_for(heard(), 5)  # it never ended, before
    assert isinstance(events[-1], Failed) and events[-1].cancelled
    assert history.get(job_id).status == "cancelled"


class CancelledAtFal(MemoryBackend):
    """fal's stream says the job was cancelled before the page's Stop has heard back from
    its cancel call (the order a busy server sees it in)."""

    async def follow(self, submission: Submission, *, endpoint: str = "memory"
                     ) -> AsyncIterator[Queued | Running]:
        yield Queued(submission.request_id, 3)
        raise FalError(f"[{endpoint}] the job failed at fal: Request was cancelled by the "
                       "user", cancelled=True)


async def test_a_job_fal_ends_as_cancelled_is_stopped_not_failed(history, tmp_path) -> None:
    manager = manager_for(CancelledAtFal(), history, tmp_path)
    job_id = await start(manager)
    last = (await events_of(manager, job_id))[-1]
    assert isinstance(last, Failed) and last.cancelled
    assert "nothing was charged" in last.message
    record = history.get(job_id)
    assert record is not None and record.status == "cancelled"
