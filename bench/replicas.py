"""Replicas on one PostgreSQL database: how many jobs two sustain against one, and how soon
a dead replica's jobs are followed again by the other.

Both measured on the same throwaway cluster (tests/postgres.py), the same fake fal cloud
and the same shared data directory, one after the other.

On one machine the replicas share its cores with the fake, PostgreSQL and the visitors'
clients, so the rate is also told as CPU per job for each: one replica is held to one core
(one Python thread serves its pages), two share both with everything else, so two can
sustain at most 2 * app / (app + the rest) times one, however well they scale.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.fake import Fake
from bench.pages import Page, http_client
from bench.process import cpu_seconds
from bench.table import Row
from playground.database import PostgreSQL
from tests.apprunner import RunningApp, running_app
from tests.postgres import Cluster, cluster, why_not

FORM = ["v2.2", "", "", "16:9", "720p", "5", ""]  # the text-to-video tab, prompt second


@contextlib.contextmanager
def replicas(fake: Fake, db: Cluster, work: Path, count: int, lease: float
             ) -> Iterator[tuple[str, list[RunningApp]]]:
    url = db.new_database()
    data = work / url.rsplit("/", 1)[1]
    env = {**fake.env, "PIKA_DATABASE_URL": url, "PIKA_LEASE_SECONDS": str(lease)}
    with contextlib.ExitStack() as stack, ThreadPoolExecutor(count) as starting:
        # Started side by side: each start-up is mostly waiting on imports.
        apps = list(starting.map(stack.enter_context, [running_app(
            {**env, "GRADIO_TEMP_DIR": str(data / f"tmp-{i}")}, data) for i in range(count)]))
        yield url, apps


async def _rate(urls: list[str], pages_each: int, jobs_each: int) -> float:
    """Jobs per second: `pages_each` visitors per replica, each starting a new job as soon
    as their last one plays, `jobs_each` times; counted from the first Generate to the
    last video."""
    async with contextlib.AsyncExitStack() as stack:
        https = [await stack.enter_async_context(http_client(url)) for url in urls]
        pages = [page for http in https for page in await Page.open_many(http, pages_each)]

        async def visitor(index: int, page: Page) -> None:
            for n in range(jobs_each):
                _, status, *_ = await page.call("text_to_video",
                                                [FORM[0], f"rate {index} {n}", *FORM[2:]])
                assert "Done" in status, status

        began = time.perf_counter()
        await asyncio.gather(*(visitor(i, p) for i, p in enumerate(pages)))
        return len(pages) * jobs_each / (time.perf_counter() - began)


@dataclass
class CpuPerJob:
    """Milliseconds of CPU per job spent by each process over one measured rate."""

    apps: float
    fake: float
    database: float
    clients: float

    @property
    def rest(self) -> float:
        return self.fake + self.database + self.clients


class CpuMeter:
    """CPU time of the apps, the fake, PostgreSQL (its server and every backend) and this
    process (the clients), from /proc and getrusage."""

    def __init__(self, fake: Fake, db: Cluster, apps: list[RunningApp]) -> None:
        self.pids = [app.pid for app in apps]
        self.fake_pid = fake.process.pid
        self.postmaster = int((db.root / "data" / "postmaster.pid").read_text().split()[0])

    def _read(self) -> tuple[float, float, float, float]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return (sum(cpu_seconds(pid) for pid in self.pids), cpu_seconds(self.fake_pid),
                cpu_seconds(self.postmaster, children=True)
                + sum(cpu_seconds(pid) for pid in _children(self.postmaster)),
                usage.ru_utime + usage.ru_stime)

    def measure(self, run: Callable[[], int]) -> CpuPerJob:
        """`run` returns how many jobs it ran."""
        before = self._read()
        jobs = run()
        after = self._read()
        apps, fake, database, clients = (1000 * (b - a) / jobs
                                         for a, b in zip(before, after, strict=True))
        return CpuPerJob(apps, fake, database, clients)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rpartition(")")[2].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def throughput(fake: Fake, db: Cluster, apps: list[RunningApp], *, pages: int,
               jobs_each: int) -> list[Row]:
    """The same visitors on one replica, then spread over two (the other one idle first)."""
    fake.reset()
    fake.script(queue_positions=0, run_time=0.2)
    urls = [app.url for app in apps]
    asyncio.run(_rate(urls, 2, 1))  # warm: imports, pools, the fake's videos
    meter = CpuMeter(fake, db, apps)
    rates: list[float] = []

    def rate(on: list[str], each: int) -> Callable[[], int]:
        def run() -> int:
            rates.append(asyncio.run(_rate(on, each, jobs_each)))
            return len(on) * each * jobs_each
        return run

    cpu_one = meter.measure(rate(urls[:1], pages))
    cpu_two = meter.measure(rate(urls, pages // 2))
    one, two = rates
    ceiling = 2 * cpu_one.apps / (cpu_one.apps + cpu_one.rest)
    cores = os.cpu_count() or 1
    return [
        Row(f"replicas: jobs/s two sustain ({pages} visitors, 0.2 s jobs)", two, "/s", one,
            ">= 1.7x one", two >= 1.7 * one),
        Row("replicas: CPU per job, the apps (two replicas; one)", cpu_two.apps, "ms",
            cpu_one.apps, "(reported)", None),
        Row("replicas: CPU per job, fake fal + PostgreSQL + clients", cpu_two.rest, "ms",
            cpu_one.rest, "(reported)", None),
        Row(f"  of which fake {cpu_two.fake:.0f}, PostgreSQL {cpu_two.database:.0f}, "
            f"clients {cpu_two.clients:.0f} ms", cpu_two.rest, "ms", None, "-", None),
        Row(f"replicas: most two can do over one on {cores} cores, from CPU per job",
            ceiling, "x", None, "(reported)", None),
    ]


def failover(fake: Fake, url: str, apps: list[RunningApp], *, jobs: int, lease: float) -> Row:
    """SIGKILL one replica with `jobs` at fal; seconds until the other holds every one."""
    a, b = apps
    fake.reset()
    fake.script(queue_positions=0, run_time=3 * lease + 10)

    async def start_on_a() -> None:
        async with http_client(a.url) as http:
            pages = await Page.open_many(http, jobs)
            calls = [asyncio.create_task(page.call(
                "text_to_video", [FORM[0], f"failover {i}", *FORM[2:]]))
                for i, page in enumerate(pages)]
            while len(fake.requests("stream")) < jobs:
                await asyncio.sleep(0.05)
            for call in calls:
                call.cancel()

    asyncio.run(start_on_a())
    db = PostgreSQL(url)
    try:
        killed = time.monotonic()
        a.kill()
        while True:
            held = db.query("SELECT COUNT(*) FROM leases WHERE holder LIKE ?",
                            (f"%:{b.pid}:%",))[0][0]
            if held >= jobs:
                break
            if time.monotonic() - killed > 6 * lease + 30:
                raise TimeoutError(f"{held} of {jobs} jobs taken over")
            time.sleep(0.05)
        taken = time.monotonic() - killed
    finally:
        db.close()
    limit = lease + lease / 3 + 1.0
    return Row(f"replicas: killed -> its {jobs} jobs followed again (lease {lease:g} s)",
               taken, "s", lease, f"<= {limit:g} s", taken <= limit)


def run(fake: Fake, work: Path, *, smoke: bool) -> list[Row]:
    """Two replicas, started once: the rate first, then one is killed."""
    reason = why_not()
    if reason:
        return [Row(f"replicas: skipped, {reason}", 0.0, "", None, "-", None)]
    lease = 3.0 if smoke else 10.0
    with cluster() as db, replicas(fake, db, work, 2, lease) as (url, apps):
        return [*throughput(fake, db, apps, pages=8 if smoke else 64,
                            jobs_each=2 if smoke else 4),
                failover(fake, url, apps, jobs=2 if smoke else 16, lease=lease)]
