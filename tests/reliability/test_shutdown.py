"""SIGTERM (`docker stop`, a Space restarting) stops the app cleanly and quickly, mid-job, and
the next start follows the job to its end.

Docker runs the app as PID 1 of the container, and the kernel gives PID 1 no default
signal actions: SIGTERM does nothing unless the app handles it. `unshare` puts the app in
a PID namespace of its own, as PID 1, so the test sees what `docker stop` sees.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from gradio_client import Client

from tests.apprunner import running_app
from tests.fakefal import FAKE_KEY, FakeFal
from tests.records import record
from tests.waiting import wait_for

T2V = "/text_to_video"
AS_PID_1 = ("unshare", "--user", "--map-root-user", "--pid", "--fork", "--kill-child")


def can_run_as_pid_1() -> bool:
    try:
        subprocess.run([*AS_PID_1, "true"], check=True, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return True


@pytest.mark.parametrize("launcher", [(), AS_PID_1], ids=["process", "pid-1"])
def test_sigterm_mid_job_stops_within_2_s_and_the_next_start_lands_the_job(
        fakefal: FakeFal, tmp_path: Path, launcher: tuple[str, ...]) -> None:
    if launcher and not can_run_as_pid_1():
        pytest.skip("no user and PID namespaces here for unshare")
    fakefal.script(queue_positions=0, run_time=4.0)
    with running_app(fakefal.env, tmp_path, launcher=launcher) as app:
        client = Client(app.url, verbose=False)
        page = client.submit(version="v2.2", prompt="accepted at fal", api_name=T2V)
        wait_for(lambda: (r := record(tmp_path, "accepted at fal")) and r.status == "running",
                 what="the job to run at fal")
        fakefal.script(faults={"submit": ["hold"]})  # the next submit gets no answer
        client.submit(version="v2.2", prompt="cut off mid-submit", api_name=T2V)
        wait_for(lambda: fakefal.count("submit") == 2, what="the second submit to reach fal")

        sent = time.monotonic()
        app.send_signal(signal.SIGTERM)
        try:
            app.process.wait(10)
        except subprocess.TimeoutExpired:
            pytest.fail("SIGTERM did not stop the app within 10 s")
        took = time.monotonic() - sent
        assert took < 2.0, f"stopping took {took:.1f} s"
        assert app.process.returncode == 0
        output = app.output()
        assert "Traceback" not in output
        assert "1 job(s) at fal will be followed again at the next start" in output
        assert FAKE_KEY not in output and FAKE_KEY.split(":")[1] not in output
        # The page following the job heard why its updates stop, before the server went.
        assert "The server is stopping" in page.outputs()[-1][0]
        accepted = record(tmp_path, "accepted at fal")
        assert accepted and accepted.status == "running" and accepted.request_id
        cut_off = record(tmp_path, "cut off mid-submit")
        assert cut_off and cut_off.status == "unknown"  # fal may have queued it: never "free"

    with running_app(fakefal.env, tmp_path):
        landed = wait_for(lambda: (r := record(tmp_path, "accepted at fal")) and
                          r.status == "done" and r, timeout=60, what="the job to land")
    assert landed.request_id == accepted.request_id
    assert (tmp_path / "videos" / f"{landed.id}.mp4").stat().st_size > 0
    assert fakefal.count("submit") == 2  # followed by request id, never sent again
    assert record(tmp_path, "cut off mid-submit").status == "unknown"  # type: ignore[union-attr]
