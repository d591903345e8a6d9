"""Replicas on one PostgreSQL database: how many jobs two sustain against one, and how soon
a dead replica's jobs are followed again by the other.

Both measured on the same throwaway cluster (tests/postgres.py), the same fake fal cloud
and the same shared data directory, one after the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.fake import Fake
from bench.pages import Page, http_client
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


def throughput(fake: Fake, apps: list[RunningApp], *, pages: int, jobs_each: int) -> Row:
    """The same visitors on one replica, then spread over two (the other one idle first)."""
    fake.reset()
    fake.script(queue_positions=0, run_time=0.2)
    urls = [app.url for app in apps]
    asyncio.run(_rate(urls, 2, 1))  # warm: imports, pools, the fake's videos
    one = asyncio.run(_rate(urls[:1], pages, jobs_each))
    two = asyncio.run(_rate(urls, pages // 2, jobs_each))
    return Row(f"replicas: jobs/s two sustain ({pages} visitors, 0.2 s jobs)", two, "/s", one,
               ">= 1.7x one", two >= 1.7 * one)


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
        return [throughput(fake, apps, pages=8 if smoke else 64, jobs_each=2 if smoke else 4),
                failover(fake, url, apps, jobs=2 if smoke else 16, lease=lease)]
