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
    with contextlib.ExitStack() as stack:
        apps = [stack.enter_context(running_app(
            {**env, "GRADIO_TEMP_DIR": str(data / f"tmp-{i}")}, data)) for i in range(count)]
        yield url, apps


async def _sustained(urls: list[str], pages_each: int, seconds: float) -> int:
    """Jobs finished in `seconds` by `pages_each` visitors per replica, each starting a new
    job as soon as their last one plays."""
    done = 0
    async with contextlib.AsyncExitStack() as stack:
        https = [await stack.enter_async_context(http_client(url)) for url in urls]
        pages = [page for http in https for page in await Page.open_many(http, pages_each)]
        deadline = time.monotonic() + seconds

        async def visitor(index: int, page: Page) -> None:
            nonlocal done
            n = 0
            while time.monotonic() < deadline:
                _, status, *_ = await page.call("text_to_video",
                                                [FORM[0], f"rate {index} {n}", *FORM[2:]])
                assert "Done" in status, status
                n += 1
                if time.monotonic() <= deadline:
                    done += 1

        await asyncio.gather(*(visitor(i, p) for i, p in enumerate(pages)))
    return done


def throughput(fake: Fake, db: Cluster, work: Path, *, seconds: float, pages: int) -> Row:
    fake.reset()
    fake.script(queue_positions=0, run_time=0.2)
    rates = {}
    for count in (1, 2):
        with replicas(fake, db, work, count, 30.0) as (_, apps):
            urls = [app.url for app in apps]
            asyncio.run(_sustained(urls, 2, 1.0))  # warm: imports, pools, the fake's videos
            # The same visitors in all, spread over the replicas as a balancer would.
            rates[count] = asyncio.run(_sustained(urls, pages // count, seconds)) / seconds
    ratio = rates[2] / rates[1]
    return Row(f"replicas: jobs/s two sustain ({pages} visitors, 0.2 s jobs)", rates[2],
               "/s", rates[1], ">= 1.7x one", ratio >= 1.7)


def failover(fake: Fake, db: Cluster, work: Path, *, jobs: int, lease: float) -> Row:
    """SIGKILL one replica with `jobs` at fal; seconds until the other holds every one."""
    fake.reset()
    fake.script(queue_positions=0, run_time=3 * lease + 10)
    with replicas(fake, db, work, 2, lease) as (url, (a, b)):
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
        db_ = PostgreSQL(url)
        try:
            killed = time.monotonic()
            a.kill()
            while True:
                held = db_.query("SELECT COUNT(*) FROM leases WHERE holder LIKE ?",
                                 (f"%:{b.pid}:%",))[0][0]
                if held >= jobs:
                    break
                if time.monotonic() - killed > 6 * lease + 30:
                    raise TimeoutError(f"{held} of {jobs} jobs taken over")
                time.sleep(0.05)
            taken = time.monotonic() - killed
        finally:
            db_.close()
    limit = lease + lease / 3 + 1.0
    return Row(f"replicas: killed -> its {jobs} jobs followed again (lease {lease:g} s)",
               taken, "s", lease, f"<= {limit:g} s", taken <= limit)


def run(fake: Fake, work: Path, *, smoke: bool) -> list[Row]:
    reason = why_not()
    if reason:
        return [Row(f"replicas: skipped, {reason}", 0.0, "", None, "-", None)]
    with cluster() as db:
        return [throughput(fake, db, work, seconds=3.0 if smoke else 20.0,
                           pages=8 if smoke else 32),
                failover(fake, db, work, jobs=4 if smoke else 16, lease=3.0 if smoke else 10.0)]
