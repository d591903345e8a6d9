"""Start the playground the way a user does (`python app.py`) and wait until it answers."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RunningApp:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    data_dir: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, as when a machine or container dies."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path,
                  timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2, trust_env=False).status_code == 200:
                return
        time.sleep(0.1)  # polling for readiness, not papering over a race
    raise TimeoutError(f"the app did not answer within {timeout} s:\n{log.read_text()}")


@contextlib.contextmanager
def running_app(env: dict[str, str], data_dir: Path, *, extra_args: tuple[str, ...] = (),
                script: str = "app.py") -> Iterator[RunningApp]:
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / f"app-{port}.log"
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET")}
    # Tests and benchmarks are many people on one address: the per-person limit is lifted
    # unless a test sets it (tests/reliability/test_people.py does).
    full_env |= {"PIKA_DATA_DIR": str(data_dir), "GRADIO_ANALYTICS_ENABLED": "False",
                 "GRADIO_TEMP_DIR": str(data_dir / "gradio-tmp"),
                 "PIKA_MAX_JOBS_PER_PERSON": "1000", **env}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, script, "--port", str(port), *extra_args],
            cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    app = RunningApp(f"http://127.0.0.1:{port}/", process, log, data_dir)
    try:
        wait_until_up(app.url, process, log)
        yield app
    except BaseException:
        # What the server said is the first thing anyone debugging this will want.
        sys.stderr.write(f"--- {script} log, last lines ---\n{app.output()[-6000:]}\n")
        raise
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
