"""The fake fal cloud in its own process, scripted and read over its control API.

Its own process so the clients driving the benchmark do not share a GIL with it.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import httpx

from tests.apprunner import ROOT


@dataclass
class Fake:
    process: subprocess.Popen[str]
    env: dict[str, str]
    control: str

    def script(self, **settings: Any) -> None:
        response = httpx.post(f"{self.control}/_fake/script", json=settings, trust_env=False)
        response.raise_for_status()

    def reset(self) -> None:
        httpx.post(f"{self.control}/_fake/reset", trust_env=False).raise_for_status()

    def requests(self, stage: str | None = None) -> list[dict[str, Any]]:
        params = {"stage": stage} if stage else {}
        return httpx.get(f"{self.control}/_fake/requests", params=params, trust_env=False).json()

    def jobs(self) -> list[dict[str, Any]]:
        return httpx.get(f"{self.control}/_fake/jobs", trust_env=False).json()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def start() -> Fake:
    process = subprocess.Popen([sys.executable, "-m", "tests.fakefal"], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)
    env = {}
    assert process.stdout is not None
    for _ in range(5):
        line = process.stdout.readline().strip().removeprefix("export ")
        name, _, value = line.partition("=")
        env[name] = value.strip("'")
    control = env.pop("FAKEFAL_CONTROL")
    return Fake(process, env, control)
