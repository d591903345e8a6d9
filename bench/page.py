"""What the page costs a visitor and the server, beside a bare Blocks app in the same run:
the config embedded in the HTML, the time from navigation to a clickable Generate in
Chromium (a laptop, and a phone: 4x slower CPU, 6.4 Mbit/s, 150 ms), and the server's CPU
for each new session's first event.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
from pathlib import Path
from typing import Any

import httpx

from bench.fake import Fake
from bench.table import Row
from tests.apprunner import running_app
from tests.chromium import launched

OURS_BUTTON = "#text-to-video-run"
BARE_BUTTON = "#go"
CLICKABLE = """sel => {
    const b = document.querySelector(sel);
    return b && !b.disabled && b.getBoundingClientRect().height > 0 ? performance.now() : 0;
}"""
PHONE = {"cpu": 4, "latency_ms": 150, "down_bytes_s": 6.4e6 / 8, "up_bytes_s": 3.2e6 / 8}


def embedded_config(url: str) -> str:
    html = httpx.get(url, trust_env=False, timeout=30).raise_for_status().text
    start = html.index("window.gradio_config = ")
    end = html.index(";</script>", start)
    return html[start + len("window.gradio_config = "):end]


def embedded_config_bytes(url: str) -> int:
    return len(embedded_config(url).encode())


def _interactive(browser: Any, url: str, selector: str, phone: bool) -> float:
    """Seconds from navigation to `selector` visible and enabled (in the page's clock)."""
    viewport = {"width": 390, "height": 844} if phone else {"width": 1366, "height": 850}
    context = browser.new_context(viewport=viewport)
    try:
        page = context.new_page()
        if phone:
            cdp = context.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": PHONE["cpu"]})
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", {
                "offline": False, "latency": PHONE["latency_ms"],
                "downloadThroughput": PHONE["down_bytes_s"],
                "uploadThroughput": PHONE["up_bytes_s"]})
        page.goto(url, wait_until="commit")
        handle = page.wait_for_function(CLICKABLE, arg=selector, timeout=120_000, polling=10)
        return float(handle.json_value()) / 1000
    finally:
        context.close()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _first_event(url: str, config: dict[str, Any], trigger: str) -> None:
    """One new session's first event, as the page sends it: the page's load event for the
    playground, the button's click for the bare app."""
    dep = next(d for d in config["dependencies"] if any(t[1] == trigger for t in d["targets"]))
    data = [None] * len(dep["inputs"])
    session = secrets.token_hex(8)
    if dep.get("queue") is False:
        httpx.post(f"{url}gradio_api/run/predict", trust_env=False, timeout=30, json={
            "data": data, "fn_index": dep["id"], "session_hash": session}).raise_for_status()
        return
    with httpx.Client(base_url=url, trust_env=False, timeout=30) as http:
        joined = http.post("gradio_api/queue/join", json={
            "data": ["x"], "fn_index": dep["id"], "session_hash": session})
        joined.raise_for_status()
        with http.stream("GET", "gradio_api/queue/data", params={"session_hash": session}
                         ) as stream:
            for line in stream.iter_lines():
                if "process_completed" in line:
                    return


def cpu_per_session(url: str, pid: int, trigger: str, sessions: int) -> float:
    config = httpx.get(f"{url}config", trust_env=False, timeout=30).raise_for_status().json()
    _first_event(url, config, trigger)  # warm: imports, caches
    before = _cpu_seconds(pid)
    for _ in range(sessions):
        _first_event(url, config, trigger)
    return (_cpu_seconds(pid) - before) / sessions


def component_types(url: str) -> list[str]:
    """The types of the components a page of `url` draws (and loads the scripts of): a
    hidden one's script is not loaded until it is shown."""
    return sorted({c["type"] for c in json.loads(embedded_config(url))["components"]
                   if c["props"].get("visible", True) is not False})


def run(fake: Fake, work: Path, *, runs: int, sessions: int) -> list[Row]:
    with running_app(fake.env, work / "page-ours") as ours, \
            running_app({}, work / "page-bare", script="bench/bare_app.py") as bare, \
            launched() as browser:
        types = component_types(ours.url)
        with running_app({}, work / "page-types", script="bench/types_app.py",
                         extra_args=("--types", ",".join(types))) as floor:
            sizes = (embedded_config_bytes(ours.url), embedded_config_bytes(bare.url))
            times: dict[str, tuple[list[float], list[float], list[float]]] = {}
            for profile, phone in (("laptop", False), ("phone", True)):
                mine, base, least = [], [], []
                for _ in range(runs):  # interleaved, so all see the same machine
                    mine.append(_interactive(browser, ours.url, OURS_BUTTON, phone))
                    base.append(_interactive(browser, bare.url, BARE_BUTTON, phone))
                    least.append(_interactive(browser, floor.url, BARE_BUTTON, phone))
                times[profile] = (mine, base, least)
        cpu = (cpu_per_session(ours.url, ours.pid, "load", sessions),
               cpu_per_session(bare.url, bare.pid, "click", sessions))
    rows = [Row("page: config embedded in the HTML", sizes[0] / 1024, "KiB", sizes[1] / 1024,
                "<= 100 KiB", sizes[0] <= 100 * 1024)]
    each = f", median of {runs}" if runs > 1 else ""
    for profile, (mine, base, least) in times.items():
        ours_s, bare_s = statistics.median(mine), statistics.median(base)
        rows.append(Row(f"page: navigation -> clickable Generate, {profile}{each}", ours_s, "s",
                        bare_s, "<= 1.3x bare Blocks", ours_s <= 1.3 * bare_s))
        # What no page with these component types can beat: how far the target is reachable.
        rows.append(Row(f"page: floor, bare Blocks + one of each of our {len(types)} component "
                        f"types, {profile}", statistics.median(least), "s", bare_s,
                        "reference", None))
    rows.append(Row(f"page: server CPU for a new session's first event ({sessions})",
                    cpu[0] * 1000, "ms", cpu[1] * 1000, "<= 5 ms", cpu[0] <= 0.005))
    return rows
