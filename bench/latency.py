"""How fast news travels: a log line from fal to the page, a finished job to a playable file.

Each figure beside bare fal-client doing the same job in the same run.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import fal_client
import httpx
from gradio_client import Client

from bench.fake import Fake
from bench.table import Row

ENDPOINT = "fal-ai/pika/v2.2/text-to-video"


def _job(fake: Fake, prompt: str) -> dict[str, Any]:
    return next(j for j in fake.jobs() if j["arguments"].get("prompt") == prompt)


def _script_logs(fake: Fake, seconds: float, lines: int) -> list[str]:
    names = [f"step {i}" for i in range(lines)]
    fake.reset()
    fake.script(queue_positions=1, queue_step=0.5, run_time=seconds, logs=names)
    return names


def app_log_delay(fake: Fake, url: str, seconds: float, lines: int) -> float:
    names = _script_logs(fake, seconds, lines)
    job = Client(url, verbose=False).submit(version="v2.2", prompt="log watch",
                                            api_name="/text_to_video")
    seen: dict[str, float] = {}
    for update in job:
        now = time.time()
        for line in str(update[1]).splitlines():
            seen.setdefault(line, now)
    appeared = _job(fake, "log watch")["log_times"]
    return max(seen[name] - at for name, at in zip(names, appeared, strict=True))


def bare_log_delay(fake: Fake, seconds: float, lines: int) -> tuple[float, float]:
    """Bare fal-client's log delay, and its status requests per job-second."""
    names = _script_logs(fake, seconds, lines)
    seen: dict[str, float] = {}

    def on_update(update: object) -> None:
        now = time.time()
        for entry in getattr(update, "logs", None) or []:
            seen.setdefault(entry["message"], now)

    fal_client.subscribe(ENDPOINT, {"prompt": "bare watch"}, with_logs=True,
                         on_queue_update=on_update)
    job = _job(fake, "bare watch")
    rate = len(fake.requests("status")) / (job["completed"] - job["submitted"])
    return max(seen[n] - at for n, at in zip(names, job["log_times"], strict=True)), rate


def app_overhead(fake: Fake, url: str, jobs: int) -> float:
    """Median seconds from fal's COMPLETED to the video downloaded, stored, served, fetched."""
    fake.reset()
    fake.script(queue_positions=0, run_time=1.0)
    client = Client(url, verbose=False)
    gaps = []
    for index in range(jobs):
        prompt = f"overhead {index}"
        client.predict(version="v2.2", prompt=prompt, api_name="/text_to_video")
        gaps.append(time.time() - _job(fake, prompt)["completed"])
    return statistics.median(gaps)


def bare_overhead(fake: Fake, jobs: int) -> float:
    fake.reset()
    fake.script(queue_positions=0, run_time=1.0)
    gaps = []
    for index in range(jobs):
        prompt = f"bare overhead {index}"
        result = fal_client.subscribe(ENDPOINT, {"prompt": prompt})
        httpx.get(result["video"]["url"]).raise_for_status()
        gaps.append(time.time() - _job(fake, prompt)["completed"])
    return statistics.median(gaps)


def run(fake: Fake, url: str, *, seconds: float, lines: int, jobs: int,
        app_rate: float) -> list[Row]:
    delay = app_log_delay(fake, url, seconds, lines)
    bare_delay, bare_rate = bare_log_delay(fake, seconds, lines)
    ours = app_overhead(fake, url, jobs)
    bare = bare_overhead(fake, jobs)
    return [
        Row("polling: fal status requests per job-second", app_rate, "/s", bare_rate, "<= 2",
            app_rate <= 2),
        Row("log line, fal -> page (worst of a job)", delay, "s", bare_delay, "<= 1 s",
            delay <= 1.0),
        Row("overhead: COMPLETED -> video playable (median)", ours, "s", bare,
            "<= 0.15 s + transfer", ours <= 0.15),
    ]
