"""Hostile images: five PNG bombs in one Keyframes run, and what the app's memory does.

A bomb is a real PNG of a few KB that decodes to 49 megapixels. The figure is the app
process's peak resident memory during the run (VmHWM, reset just before it) and what it
keeps afterwards, both against its own idle RSS measured in the same run.
"""

from __future__ import annotations

import os
from pathlib import Path

from gradio_client import Client
from gradio_client.exceptions import AppError

from bench.fake import Fake
from bench.table import Row
from tests.apprunner import running_app
from tests.builders import IMAGES, gallery, screenshot
from tests.reliability import bad_files


def _status_mib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field}")


def _reset_peak(pid: int) -> None:
    # "5" resets VmHWM to the current RSS (proc(5)): the peak of this run, not of start-up.
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def run(fake: Fake, work: Path, *, smoke: bool) -> list[Row]:
    fake.reset()
    fake.script(queue_positions=0, run_time=0.2)
    bombs = [bad_files.png_bomb(work / f"bomb-{i}.png", 7000, 7000 - i) for i in range(5)]
    # Five distinct big screenshots, under the limit: what an honest big run costs.
    side = (1920, 1080) if smoke else (5120, 2880)
    shots = [screenshot(work / f"shot-{i}.png", (side[0] - i * 8, side[1])) for i in range(5)]
    with running_app(fake.env, work / "bombs") as app:
        pid = app.process.pid
        client = Client(app.url, verbose=False)
        client.predict(version="v2.2", image_urls=gallery(IMAGES[:2]), prompt="warm up",
                       api_name="/keyframes")  # the baseline includes what a first run loads
        idle = _status_mib(pid, "VmRSS")
        _reset_peak(pid)
        cpu = _cpu_seconds(pid)
        fake.reset()
        try:
            client.predict(version="v2.2", image_urls=gallery(bombs), prompt="bombs",
                           api_name="/keyframes")
            refused = ""
        except AppError as exc:
            refused = str(exc)
        cpu = _cpu_seconds(pid) - cpu
        peak, after = _status_mib(pid, "VmHWM"), _status_mib(pid, "VmRSS")
        sent = len(fake.requests())
        _reset_peak(pid)
        client.predict(version="v2.2", image_urls=gallery(shots), prompt="screens",
                       api_name="/keyframes")
        legit_peak = _status_mib(pid, "VmHWM")
    print(f"bombs: refused with {refused!r}; {sent} requests reached fal")
    size = f"{side[0]}x{side[1]}"
    return [
        Row("memory: 5 PNG bombs (7000x7000, 6 KB) in a run, peak", peak, "MiB", idle,
            "<= 1.3x idle", peak <= 1.3 * idle),
        Row("  RSS after the bombs' run", after, "MiB", idle, "<= 1.1x idle",
            after <= 1.1 * idle),
        Row("  app CPU for the bombs' run", cpu, "s", None, "(reported)", None),
        Row(f"memory: 5 {size} screenshots in a run, peak", legit_peak, "MiB", idle,
            "(reported)", None),
    ]
