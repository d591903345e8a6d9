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
    launched_by: tuple[str, ...] = ()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, as when a machine or container dies."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def send_signal(self, signum: int) -> None:
        """To the app itself, past any launcher (which may not pass signals on)."""
        os.kill(self.pid, signum)

    @property
    def pid(self) -> int:
        """The app's own process: the launcher's only child when there is a launcher."""
        if not self.launched_by:
            return self.process.pid
        children = [int(stat.parent.name) for stat in Path("/proc").glob("[0-9]*/stat")
                    if _parent(stat) == self.process.pid]
        assert len(children) == 1, children
        return children[0]


def _parent(stat: Path) -> int | None:
    try:  # "pid (name) state ppid ...": the name may hold spaces and parentheses
        return int(stat.read_text().rpartition(")")[2].split()[1])
    except (OSError, IndexError, ValueError):
        return None  # gone meanwhile


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
                script: str = "app.py", launcher: tuple[str, ...] = ()
                ) -> Iterator[RunningApp]:
    """`launcher` comes before the command, as in `unshare ... python app.py`."""
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
            [*launcher, sys.executable, script, "--port", str(port), *extra_args],
            cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    app = RunningApp(f"http://127.0.0.1:{port}/", process, log, data_dir, launcher)
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
