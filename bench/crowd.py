"""Many users at once: wall time for N simultaneous jobs, and what fal saw meanwhile."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from bench.fake import Fake
from bench.pages import Page, http_client
from bench.table import Row
from playground import catalog
from playground.backends.fal import FalBackend
from tests.apprunner import running_app
from tests.fakefal import videos

FORM = ["v2.2", "", "ugly, bad, terrible", "16:9", "720p", "5", ""]  # the text-to-video tab


async def _crowd(url: str, clients: int, tag: str) -> float:
    async with http_client(url) as http:
        pages = await Page.open_many(http, clients)

        async def one(index: int, page: Page) -> None:
            form = [*FORM[:1], f"{tag} {index}", *FORM[2:]]
            _, status, _, video, *_ = await page.call("text_to_video", form)
            assert "Done" in status, status
            # Playable from the app, by its owner.
            (await http.get(video["url"], headers=page.headers)).raise_for_status()

        began = time.perf_counter()
        await asyncio.gather(*(one(i, page) for i, page in enumerate(pages)))
        return time.perf_counter() - began


def crowd(url: str, clients: int, tag: str) -> float:
    """Seconds from everyone pressing Generate at once until every video is playable."""
    return asyncio.run(_crowd(url, clients, tag))


def requests_per_job_second(fake: Fake) -> float:
    jobs = fake.jobs()
    job_seconds = sum(j["completed"] - j["submitted"] for j in jobs)
    follows = len(fake.requests("status")) + len(fake.requests("stream"))
    return follows / job_seconds


async def _core(backend: FalBackend, clients: int, out: Path) -> float:
    """The same jobs through the core's fal backend alone: no Gradio, no page."""
    endpoint = catalog.BY_ID["fal-ai/pika/v2.2/text-to-video"]

    async def one(index: int) -> None:
        sub = await backend.submit(endpoint, {"prompt": f"core {index}"})
        async for _ in backend.follow(sub, endpoint=endpoint.id):
            pass
        await backend.fetch(await backend.result_url(sub), out / f"core-{index}.mp4")

    began = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(clients)))
    return time.perf_counter() - began


def measure(fake: Fake, clients: int, job_seconds: float, go: Callable[[int], float],
            runs: int = 1) -> float:
    """`go(n)` runs n simultaneous jobs and answers the seconds they took; the median of
    `runs` crowds. One job goes before each, so the fake's video cache and first-use
    imports are warm."""
    walls = []
    for _ in range(runs):
        for count, seconds in ((1, 0.1), (clients, job_seconds)):
            fake.reset()
            fake.script(queue_positions=0, run_time=seconds)
            wall = go(count)
        walls.append(wall)
    return statistics.median(walls)


def pages_of(url: str) -> Callable[[int], float]:
    return lambda count: crowd(url, count, f"crowd{count}")


def run(fake: Fake, work: Path, *, job_seconds: float, sizes: list[int], baseline_clients: int,
        runs: int) -> tuple[list[Row], float]:
    """Rows for each crowd size, each the median of `runs` crowds judged against bare
    Gradio's floor for the same events, and fal status requests per job-second in the
    first."""
    with running_app({**fake.env, "PIKA_CONCURRENCY": "1"}, work / "default-queue") as app:
        serial = measure(fake, baseline_clients, job_seconds, pages_of(app.url))
    per_client = serial / baseline_clients  # one job after another: the baseline scales so
    video = work / "floor" / "video.mp4"
    video.parent.mkdir(parents=True, exist_ok=True)
    video.write_bytes(videos.mp4(1280, 720, 5.0))
    floor_args = ("--video", str(video), "--job-seconds", str(job_seconds))
    with running_app({}, work / "floor", script="bench/floor_app.py",
                     extra_args=floor_args) as floor_app:
        floors = {n: measure(fake, n, job_seconds, pages_of(floor_app.url), runs)
                  for n in sizes}
    with asyncio.Runner() as runner:  # one loop, so the backend's connection pools live on
        backend = FalBackend(fake.env["FAL_KEY"])
        cores = {n: measure(fake, n, job_seconds,
                            lambda count: runner.run(_core(backend, count, video.parent)), runs)
                 for n in sizes}
    rows, rate = [], 0.0
    each = f", median of {runs}" if runs > 1 else ""
    with running_app(fake.env, work / "ours") as app:
        for clients in sizes:
            wall = measure(fake, clients, job_seconds, pages_of(app.url), runs)
            rate = rate or requests_per_job_second(fake)
            # Judged against Gradio's own floor for the same events in this run: an absolute
            # figure sat inside the floor's own noise (5.33 s to 5.56 s at 32 clients).
            rows.append(Row(f"concurrency: {clients} clients, {job_seconds:g} s jobs{each}", wall,
                            "s", floors[clients], "<= 1.03x floor", wall <= 1.03 * floors[clients]))
    for clients in sizes:
        rows.append(Row(f"  floor: bare Gradio, same events, no work, {clients} clients",
                        floors[clients], "s", None, "(the baseline above)", None))
        rows.append(Row(f"  core alone, no Gradio: same jobs, {clients} clients",
                        cores[clients], "s", None, "(for reference)", None))
    rows.append(Row(f"  Gradio's default queue (one job at a time), {baseline_clients} clients, "
                    f"scaled to {sizes[0]}", per_client * sizes[0], "s", None, "(for reference)",
                    None))
    return rows, rate
