"""Many users at once: wall time for N simultaneous jobs, and what fal saw meanwhile."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gradio_client import Client

from bench.fake import Fake
from bench.table import Row
from tests.apprunner import running_app


def crowd(url: str, clients: int, tag: str) -> float:
    """Seconds from a common start until every client's job is done."""
    sessions = [Client(url, verbose=False) for _ in range(clients)]
    start = threading.Barrier(clients + 1)

    def one(index: int) -> str:
        start.wait()
        status, *_ = sessions[index].predict(version="v2.2", prompt=f"{tag} {index}",
                                             api_name="/text_to_video")
        return status

    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(one, i) for i in range(clients)]
        start.wait()
        began = time.perf_counter()
        statuses = [f.result() for f in futures]
        wall = time.perf_counter() - began
    failed = [s for s in statuses if "Done" not in s]
    assert not failed, failed[:3]
    return wall


def requests_per_job_second(fake: Fake) -> float:
    jobs = fake.jobs()
    job_seconds = sum(j["completed"] - j["submitted"] for j in jobs)
    follows = len(fake.requests("status")) + len(fake.requests("stream"))
    return follows / job_seconds


def run(fake: Fake, work: Path, *, job_seconds: float, sizes: list[int], baseline_clients: int
        ) -> tuple[list[Row], float]:
    """Rows for each crowd size, and fal status requests per job-second in the first."""
    with running_app({**fake.env, "PIKA_CONCURRENCY": "1"}, work / "default-queue") as app:
        fake.reset()
        fake.script(queue_positions=0, run_time=job_seconds)
        serial = crowd(app.url, baseline_clients, "serial")
    per_client = serial / baseline_clients  # one job after another: the baseline scales so
    rows, rate = [], 0.0
    with running_app(fake.env, work / "ours") as app:
        for clients in sizes:
            fake.reset()
            fake.script(queue_positions=0, run_time=job_seconds)
            wall = crowd(app.url, clients, f"crowd{clients}")
            rate = rate or requests_per_job_second(fake)
            rows.append(Row(f"concurrency: {clients} clients, {job_seconds:g} s jobs (s)", wall,
                            "s", per_client * clients, f"<= {1.10 * job_seconds:.2f} s",
                            wall <= 1.10 * job_seconds))
    rows.append(Row(f"  baseline measured: Gradio's default queue, {baseline_clients} clients",
                    serial, "s", None, "(scaled above)", True))
    return rows, rate
