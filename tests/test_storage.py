"""The store's age and budget, decided by the core on a history and files made here, with a
clock the tests set."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from playground.history import History, JobRecord
from playground.storage import DAY, GB, InputGate, Storage, Sweeper

NOW = 1_900_000_000.0


class Store:
    """A data directory with jobs in its history and their files on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.history = History(root / "history.sqlite3")
        for folder in ("inputs", "videos", "previews"):
            (root / folder).mkdir(exist_ok=True)

    def file(self, relative: str, size: int = 1000, age_days: float = 0) -> Path:
        path = self.root / relative
        path.write_bytes(b"x" * size)
        os.utime(path, (NOW - age_days * DAY, NOW - age_days * DAY))
        return path

    def job(self, job_id: str, *, age_days: float, status: str = "done",
            inputs: tuple[str, ...] = (), video: int | None = 1000) -> JobRecord:
        record = JobRecord(id=job_id, mode="image-to-video", version="v2.2",
                           endpoint="fal-ai/pika/v2.2/image-to-video", backend="fal",
                           key_source="server", created=NOW - age_days * DAY, status=status,
                           form={"prompt": job_id, "image_url": None})
        for name in inputs:
            self.file(f"inputs/{name}", age_days=age_days)
        if len(inputs) == 1:
            record.form["image_url"] = str(self.root / "inputs" / inputs[0])
        elif inputs:
            record.form["image_urls"] = [str(self.root / "inputs" / n) for n in inputs]
        if video is not None:
            self.file(f"videos/{job_id}.mp4", size=video, age_days=age_days)
            record.video = f"videos/{job_id}.mp4"
        self.history.save(record)
        return record

    def storage(self, **limits: float | int | None) -> Storage:
        return Storage(self.history, self.root, clock=lambda: NOW, **limits)  # type: ignore[arg-type]

    def removed(self, job_id: str) -> str | None:
        record = self.history.get(job_id)
        assert record is not None
        return record.removed

    def has(self, relative: str) -> bool:
        return (self.root / relative).exists()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path)


def sweep(storage: Storage) -> None:
    storage.remove(storage.plan())


async def until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


def test_files_of_finished_jobs_past_their_age_go_and_their_rows_say_so(store: Store) -> None:
    store.job("old", age_days=31, inputs=("a.jpg",))
    store.job("new", age_days=29, inputs=("b.jpg",))
    sweep(store.storage(keep_days=30))
    assert not store.has("videos/old.mp4") and not store.has("inputs/a.jpg")
    assert store.removed("old") == "files removed after 30 days"
    assert store.history.get("old").status == "done"  # what it was stays on record
    assert store.has("videos/new.mp4") and store.has("inputs/b.jpg")
    assert store.removed("new") is None


def test_an_unfinished_job_is_never_touched(store: Store) -> None:
    store.job("waiting", age_days=90, status="queued", inputs=("a.jpg",), video=None)
    store.job("saving", age_days=90, status="downloading", inputs=("b.jpg",))
    sweep(store.storage(keep_days=30, max_bytes=1))
    assert store.has("inputs/a.jpg") and store.has("inputs/b.jpg")
    assert store.has("videos/saving.mp4")
    assert store.removed("waiting") is None and store.removed("saving") is None


def test_an_input_a_newer_job_names_stays(store: Store) -> None:
    store.job("old", age_days=40, inputs=("shared.jpg", "only-old.jpg"))
    store.job("new", age_days=1, inputs=("shared.jpg",))
    sweep(store.storage(keep_days=30))
    assert store.removed("old") == "files removed after 30 days"
    assert not store.has("videos/old.mp4") and not store.has("inputs/only-old.jpg")
    assert store.has("inputs/shared.jpg")
    # Once no job keeping its files names it, it goes too.
    sweep(store.storage(keep_days=0.5))
    assert not store.has("inputs/shared.jpg")


def test_an_input_an_unfinished_job_names_stays(store: Store) -> None:
    store.job("old", age_days=40, inputs=("shared.jpg",))
    store.job("running", age_days=40, status="running", inputs=("shared.jpg",), video=None)
    sweep(store.storage(keep_days=30))
    assert store.removed("old") and store.has("inputs/shared.jpg")


def test_the_budget_takes_the_oldest_finished_jobs_first(store: Store) -> None:
    for days in (5, 4, 3, 2, 1):
        store.job(f"job-{days}", age_days=days, video=100_000)
    store.job("running", age_days=9, status="running", video=None, inputs=("a.jpg",))
    history = sum(p.stat().st_size for p in store.root.glob("history.sqlite3*"))
    budget = history + 1000 + 250_000  # room for two and a half videos
    storage = store.storage(max_bytes=budget)
    plan = storage.plan()
    storage.remove(plan)
    gone = [d for d in (5, 4, 3, 2, 1) if not store.has(f"videos/job-{d}.mp4")]
    assert gone == [5, 4, 3]
    assert store.removed("job-5") == f"files removed to keep the data under {budget / GB:g} GB"
    assert store.removed("job-2") is None and store.has("inputs/a.jpg")
    assert plan.after <= budget < plan.usage and not plan.full


def test_full_when_nothing_left_may_go(store: Store) -> None:
    store.job("done", age_days=1)
    store.job("running", age_days=2, status="running", video=None, inputs=("a.jpg",))
    plan = store.storage(max_bytes=10).plan()
    assert plan.full and plan.notes == {"done": plan.notes["done"]}
    assert not store.storage().plan().full  # no budget, never full


def test_stray_files_go_once_nobody_can_be_making_them(store: Store) -> None:
    store.file("inputs/stray.jpg", age_days=1)
    store.file("inputs/fresh.jpg")  # maybe a job being prepared right now
    store.file("previews/local-stray.mp4", age_days=1)
    store.file("videos/no-row.mp4", age_days=400)  # not ours to judge: counted, left
    sweep(store.storage(keep_days=30))
    assert not store.has("inputs/stray.jpg") and not store.has("previews/local-stray.mp4")
    assert store.has("inputs/fresh.jpg") and store.has("videos/no-row.mp4")


def test_a_history_from_before_the_removed_field_opens(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "history.sqlite3")
    db.execute("CREATE TABLE jobs (id, mode, version, endpoint, backend, key_source, form, "
               "arguments, status, created, seed, request_id, status_url, response_url, "
               "cancel_url, video, error, logs, timings, PRIMARY KEY (id))")
    db.execute("INSERT INTO jobs VALUES ('old', 'text-to-video', 'v2.2', 'e', 'fal', 'server',"
               " '{}', '{}', 'done', 1.0, 1, 'r', '', '', '', NULL, NULL, '[]', '{}')")
    db.commit()
    db.close()
    history = History(tmp_path / "history.sqlite3")
    history.mark_removed({"old": "files removed after 30 days"})
    history.save(JobRecord(id="new", mode="m", version="v", endpoint="e", backend="fal",
                           key_source="server", form={}))
    assert history.get("old").removed == "files removed after 30 days"
    assert [r.id for r in history.recent()] == ["new", "old"]


async def test_inputs_are_removed_only_while_no_job_is_being_prepared(store: Store) -> None:
    store.job("old", age_days=40, inputs=("shared.jpg",))
    gate = InputGate()
    sweeper = Sweeper(store.storage(keep_days=30), gate)
    preparing = gate.preparing()
    await preparing.__aenter__()  # a job is preparing the same picture, not yet recorded
    sweep_task = asyncio.create_task(sweeper.sweep())
    await until(lambda: gate.holding, what="the sweep to plan and wait on the gate")
    assert store.has("inputs/shared.jpg")
    store.job("new", age_days=0, inputs=("shared.jpg",))  # what the job manager records
    gate.record([str(store.root / "inputs" / "shared.jpg")])
    await preparing.__aexit__(None, None, None)
    await sweep_task
    assert store.removed("old") and not store.has("videos/old.mp4")
    assert store.has("inputs/shared.jpg")  # its plan predates the new job: spared
