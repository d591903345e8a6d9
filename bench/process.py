"""The server as a process: how soon it answers, how much memory a crowd costs."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from gradio_client import Client

from bench.fake import Fake
from bench.table import Row
from tests.apprunner import ROOT, free_port, running_app, wait_until_up


def time_to_first_200(args: list[str], work: Path) -> float:
    port = free_port()
    log = work / f"start-{port}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAL_")}
    env |= {"PIKA_DATA_DIR": str(work / f"data-{port}"), "GRADIO_ANALYTICS_ENABLED": "False"}
    began = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, *args, "--port", str(port)], cwd=ROOT,
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", process, log)
        return time.perf_counter() - began
    finally:
        process.terminate()
        process.wait(15)


def startup(work: Path, runs: int) -> Row:
    ours, bare = [], []
    for _ in range(runs):  # interleaved, so both see the same machine
        ours.append(time_to_first_200(["app.py"], work))
        bare.append(time_to_first_200(["bench/bare_app.py"], work))
    ours_s, bare_s = statistics.median(ours), statistics.median(bare)
    return Row("start-up: launch -> first HTTP 200 (median)", ours_s, "s", bare_s,
               "<= 1.3x bare Blocks", ours_s <= 1.3 * bare_s)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User and system CPU of a process so far; with `children`, also of its children that
    ended and were waited for (PostgreSQL's finished backends)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def memory(fake: Fake, work: Path, jobs: int) -> Row:
    fake.reset()
    fake.script(queue_positions=0, run_time=1.0)
    with running_app(fake.env, work / "memory") as app:
        Client(app.url, verbose=False).predict(version="v2.2", prompt="warm up",
                                               api_name="/text_to_video")
        idle = rss_mib(app.process.pid)
        fake.script(queue_positions=0, run_time=30.0)
        clients = [Client(app.url, verbose=False) for _ in range(jobs)]
        for index, client in enumerate(clients):
            client.submit(version="v2.2", prompt=f"in flight {index}", api_name="/text_to_video")
        deadline = time.monotonic() + 60
        while len(fake.requests("stream")) < jobs and time.monotonic() < deadline:
            time.sleep(0.1)
        busy = rss_mib(app.process.pid)
        for client in clients:
            client.close()
    return Row(f"memory: RSS with {jobs} jobs in flight", busy, "MiB", idle, "<= 1.5x idle",
               busy <= 1.5 * idle)
