"""Several replicas on one PostgreSQL database and one shared data directory: each job
followed by exactly one of them, a dead one's jobs finished by another, limits and budgets
counted across all, any replica serving any page.

A real PostgreSQL (Debian's package) in a throwaway cluster shared by the module; the
replicas are the app as a user starts it, on the fake fal cloud, or (for what is quicker
to see from inside) two job managers in this process on the same database.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.pages import Page, http_client
from playground.backends import Submission
from playground.database import PostgreSQL
from playground.errors import FalError, LimitReached, OverBudget
from playground.events import Done, Event, Queued, Running
from playground.history import History
from playground.jobs import JobManager
from playground.leases import Leases
from playground.limits import Allowance
from playground.people import Person
from playground.spend import Budgets
from tests.apprunner import RunningApp, running_app
from tests.fakefal import FakeFal
from tests.postgres import Cluster, cluster, why_not
from tests.unit.test_jobs import MEDIA, MemoryBackend
from tests.waiting import wait_for

pytestmark = pytest.mark.skipif(why_not() is not None,
                                reason=f"needs PostgreSQL: {why_not()}")

LEASE = 4.0  # seconds; the app's default is 30
FORM = ["v2.2", "", "", "16:9", "720p", "5", ""]  # the text-to-video tab, prompt second


@pytest.fixture(scope="module")
def pg() -> Iterator[Cluster]:
    with cluster() as running:
        yield running


# -- two job managers in this process, one database ---------------------------------------


class Cancellable(MemoryBackend):
    """Queued until `go`; a cancel before then ends it at "fal" as cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self.cancelled = asyncio.Event()

    async def follow(self, submission: Submission, *, endpoint: str = "memory"
                     ) -> AsyncIterator[Queued | Running]:
        yield Queued(submission.request_id, 1)
        go = asyncio.create_task(self.go.wait())
        stop = asyncio.create_task(self.cancelled.wait())
        await asyncio.wait([go, stop], return_when=asyncio.FIRST_COMPLETED)
        go.cancel()
        stop.cancel()
        if self.cancelled.is_set():
            raise FalError(f"[{endpoint}] cancelled")
        yield Running(("working",))

    async def cancel(self, submission: Submission) -> bool:
        self.cancelled.set()
        return True


def replica(url: str, data_dir: Path, backend: Any, *, key: str = "none", max_jobs: int = 64,
            per_person: int = 3, budget: float | None = None) -> JobManager:
    history = History(PostgreSQL(url))
    leases = Leases(history.db, seconds=LEASE)
    return JobManager(history, data_dir, lambda _key, _logged_in: (backend, key, lambda: None),
                      lambda: backend, input_dirs=[MEDIA],
                      allowance=Allowance(max_jobs=max_jobs, per_person=per_person,
                                          waiting_per_person=0, leases=leases),
                      budgets=Budgets(server_day=budget))


async def test_a_page_on_another_replica_follows_and_stops_a_job(pg: Cluster,
                                                                 tmp_path: Path) -> None:
    url = pg.new_database()
    backend = Cancellable()
    a, b = replica(url, tmp_path, backend), replica(url, tmp_path, MemoryBackend())
    a.resume(), b.resume()
    try:
        followed = await a.start("text-to-video", "v2.2", {"prompt": "followed from b"})
        seen: list[Event] = []

        async def follow_on_b() -> None:
            async for event in b.follow(followed.record.id):
                seen.append(event)

        watcher = asyncio.create_task(follow_on_b())
        await wait_for_async(lambda: any(isinstance(e, Queued) for e in seen), "queued on b")
        backend.go.set()
        await asyncio.wait_for(watcher, 10)
        assert Running(("working",)) in seen and isinstance(seen[-1], Done)
        assert seen[-1].video == tmp_path / "videos" / f"{followed.record.id}.mp4"

        backend.go.clear()
        stopped = await a.start("text-to-video", "v2.2", {"prompt": "stopped from b"})
        await wait_for_async(lambda: stopped.submission is not None, "the submit")
        began = time.monotonic()
        said = await b.stop(stopped.record.id)
        assert said.startswith("Stopping: the server following this job stops it")
        await wait_for_async(lambda: stopped.finished, "a to stop it")
        assert time.monotonic() - began < 3  # a's next look at its leases, once a second
        record = b.history.get(stopped.record.id)
        assert record is not None and record.status == "cancelled"
        assert len(backend.submitted) == 2
    finally:
        a.close(), b.close()


async def test_limits_and_budgets_count_every_replicas_jobs(pg: Cluster, tmp_path: Path
                                                            ) -> None:
    url = pg.new_database()
    backend = MemoryBackend()  # nothing ends until `go`: every job stays in flight
    # v2.2 text to video at 720p, 5 s: $0.20 each; $0.50 a day fits two.
    a = replica(url, tmp_path, backend, key="server", budget=0.50)
    b = replica(url, tmp_path, backend, key="server", budget=0.50)
    await a.start("text-to-video", "v2.2", {"prompt": "one"})
    await b.start("text-to-video", "v2.2", {"prompt": "two"})
    for manager in (a, b):
        with pytest.raises(OverBudget, match=r"has \$0.10 left today"):
            await manager.start("text-to-video", "v2.2", {"prompt": "three"})
    await wait_for_async(lambda: len(backend.submitted) == 2, "the two jobs to be sent")
    assert sorted(args["prompt"] for args in backend.submitted) == ["one", "two"]

    url = pg.new_database()
    a = replica(url, tmp_path, backend, max_jobs=3, per_person=1)
    b = replica(url, tmp_path, backend, max_jobs=3, per_person=1)
    ada = Person(("visitor:ada",))
    await a.start("text-to-video", "v2.2", {"prompt": "ada on a"}, person=ada)
    with pytest.raises(LimitReached, match="You have 1 jobs running"):
        await b.start("text-to-video", "v2.2", {"prompt": "ada on b"}, person=ada)
    await b.start("text-to-video", "v2.2", {"prompt": "bob"}, person=Person(("visitor:bob",)))
    await a.start("text-to-video", "v2.2", {"prompt": "cy"}, person=Person(("visitor:cy",)))
    with pytest.raises(LimitReached, match="limit of 3 jobs"):
        await b.start("text-to-video", "v2.2", {"prompt": "dee"},
                      person=Person(("visitor:dee",)))
    backend.go.set()


async def wait_for_async(condition: Any, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


# -- two app processes, one database, one data directory ----------------------------------


@dataclass
class Replicas:
    a: RunningApp
    b: RunningApp
    url: str
    data: Path
    history: History


@pytest.fixture(scope="module")
def replicas(pg: Cluster, fakefal_server: FakeFal, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Replicas]:
    url = pg.new_database()
    data = tmp_path_factory.mktemp("shared")
    env = {**fakefal_server.env, "PIKA_DATABASE_URL": url, "PIKA_LEASE_SECONDS": str(LEASE),
           "PIKA_BUDGET_PER_PERSON_DAY": "0.50"}
    with running_app({**env, "GRADIO_TEMP_DIR": str(data / "tmp-a")}, data) as a, \
            running_app({**env, "GRADIO_TEMP_DIR": str(data / "tmp-b")}, data) as b:
        history = History(PostgreSQL(url))
        yield Replicas(a, b, url, data, history)
        history.close()


def on(http: httpx.AsyncClient, page: Page, config: dict[str, Any]) -> Page:
    """The same visitor (their cookie) with a page on another replica."""
    other = Page(http, config)
    other.visitor, other.headers = page.visitor, page.headers
    return other


def generate(page: Page, prompt: str) -> Any:
    return page.call("text_to_video", [FORM[0], prompt, *FORM[2:]])


def rows(replicas: Replicas, prefix: str) -> list[Any]:
    return [r for r in replicas.history.recent(500)
            if str(r.form.get("prompt", "")).startswith(prefix)]


def test_fifty_jobs_across_two_replicas_are_each_run_once(replicas: Replicas,
                                                          fakefal: FakeFal) -> None:
    fakefal.script(queue_positions=1, queue_step=0.2, run_time=0.5)

    async def crowd() -> list[Any]:
        async with http_client(replicas.a.url) as on_a, http_client(replicas.b.url) as on_b:
            pages = await Page.open_many(on_a, 25) + await Page.open_many(on_b, 25)
            outputs = await asyncio.gather(*(generate(page, f"fifty {i}")
                                             for i, page in enumerate(pages)))
            # Any replica serves any page: a video made on A plays from B for its owner
            # (their cookie), and for nobody else.
            video = outputs[0][3]["url"].replace(replicas.a.url, replicas.b.url)
            assert (await on_b.get(video, headers=pages[0].headers)).status_code == 200
            assert (await on_b.get(video)).status_code == 404
            config = (await on_b.get("/config")).json()
            listed = await on(on_b, pages[0], config).call("history", [])
            assert [row[4] for row in listed[0]["data"]] == ["fifty 0"]
            return outputs

    outputs = asyncio.run(crowd())
    assert all("Done" in out[1] for out in outputs), [out[1] for out in outputs]
    jobs = rows(replicas, "fifty ")
    assert len(jobs) == 50 and {r.status for r in jobs} == {"done"}
    assert len({r.request_id for r in jobs}) == 50
    assert fakefal.count("submit") == 50 and fakefal.count("cdn") == 50  # one download each
    videos = sorted(p.name for p in (replicas.data / "videos").iterdir())
    assert videos == sorted(f"{r.id}.mp4" for r in jobs)  # and no part file left behind
    assert replicas.history.db.query("SELECT COUNT(*) FROM leases")[0][0] == 0


def test_a_persons_budget_holds_across_replicas(replicas: Replicas, fakefal: FakeFal) -> None:
    fakefal.script(queue_positions=0, run_time=0.5)

    async def five_at_once() -> list[Any]:
        async with http_client(replicas.a.url) as on_a, http_client(replicas.b.url) as on_b:
            # One person (one cookie) with five tabs, as the balancer spread them; a tab
            # is a queue session, which runs one event at a time.
            tabs = await Page.open_many(on_a, 3) + await Page.open_many(on_b, 2)
            for tab in tabs[1:]:
                tab.visitor, tab.headers = tabs[0].visitor, tabs[0].headers
            return await asyncio.gather(*(generate(tab, f"budget {i}")
                                          for i, tab in enumerate(tabs)),
                                        return_exceptions=True)

    results = asyncio.run(five_at_once())
    done = [r for r in results if not isinstance(r, BaseException) and "Done" in r[1]]
    refused = [str(r) for r in results if isinstance(r, BaseException)]
    assert len(done) == 2 and len(refused) == 3, results  # $0.50 a day: two jobs of $0.20
    assert all("left today" in text for text in refused), refused
    assert fakefal.count("submit") == 2


def test_a_job_on_a_killed_replica_is_finished_by_the_other(replicas: Replicas,
                                                           fakefal: FakeFal) -> None:
    """Last in the module: A does not come back."""
    fakefal.script(queue_positions=0, run_time=LEASE + 4)

    async def start_on_a() -> None:
        async with http_client(replicas.a.url) as on_a:
            (page,) = await Page.open_many(on_a, 1)
            task = asyncio.create_task(generate(page, "orphan"))
            await asyncio.to_thread(wait_for, lambda: fakefal.count("stream") >= 1,
                                    what="A to follow the job at fal")
            task.cancel()

    asyncio.run(start_on_a())
    (job,) = rows(replicas, "orphan")
    assert job.request_id and job.status in ("queued", "running")
    killed = time.monotonic()
    replicas.a.kill()
    holder = wait_for(lambda: (replicas.history.db.query(
        "SELECT holder FROM leases WHERE job_id = ? AND holder LIKE ?",
        (job.id, f"%:{replicas.b.pid}:%")) or [None])[0], timeout=3 * LEASE,
        what="B to take the job over")
    taken = time.monotonic() - killed
    assert holder and taken <= LEASE + LEASE / 3 + 1.5, taken
    done = wait_for(lambda: (r := replicas.history.get(job.id)) and r.status == "done" and r,
                    timeout=30, what="B to finish the job")
    assert (replicas.data / str(done.video)).is_file()
    assert fakefal.count("submit") == 1 and fakefal.count("cdn") == 1
    assert "following 1 unfinished job again" in replicas.b.output()
