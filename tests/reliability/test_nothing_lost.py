"""No paid job is lost: not to a SIGKILL, a closed page, or a Stop that came too late."""

from __future__ import annotations

import time
from pathlib import Path

import av
from gradio_client import Client

from tests.apprunner import RunningApp, running_app
from tests.fakefal import FakeFal
from tests.waiting import wait_for

T2V = "/text_to_video"


def rows(client: Client) -> list[list[object]]:
    return client.predict(api_name="/history")["data"]


def running_at_fal(fake: FakeFal) -> int:
    now = time.time()
    return sum(1 for j in fake.jobs.values() if j.state(now)["status"] == "IN_PROGRESS")


def test_sigkill_mid_job_then_restart_every_job_lands(fakefal: FakeFal, tmp_path: Path) -> None:
    fakefal.script(queue_positions=3, queue_step=0.5, run_time=4.0)
    with running_app(fakefal.env, tmp_path) as app:
        client = Client(app.url, verbose=False)
        for i in range(2):
            client.submit(version="v2.2", prompt=f"survivor {i}", api_name=T2V)
        wait_for(lambda: running_at_fal(fakefal) == 2, what="two jobs running at fal")
        for i in range(2, 4):
            client.submit(version="v2.2", prompt=f"survivor {i}", api_name=T2V)
        wait_for(lambda: sum(1 for r in rows(client) if r[6]) == 4,
                 what="four request ids on record")
        assert running_at_fal(fakefal) == 2  # two running, two still queued at the kill
        app.kill()
    with running_app(fakefal.env, tmp_path) as again:
        # The same API user, back: known by the cookie the server gave them.
        client = Client(again.url, verbose=False, httpx_kwargs={"cookies": client.cookies})
        done = wait_for(lambda: [r for r in rows(client) if r[3] == "done"]
                        if all(r[3] == "done" for r in rows(client)) else None,
                        timeout=60, what="every job to land after the restart")
    assert len(done) == 4
    assert fakefal.count("submit") == 4  # followed by request id, never re-submitted
    for row in done:
        with av.open(str(tmp_path / "videos" / f"{row[7]}.mp4")) as container:
            assert container.streams.video[0].codec_context.width == 1280


def test_stop_after_the_job_started_running_still_lands(fakefal: FakeFal,
                                                        app: RunningApp) -> None:
    fakefal.script(queue_positions=0, run_time=2.0)
    client = Client(app.url, verbose=False)
    job = client.submit(version="v2.2", prompt="too late to stop", api_name=T2V)
    wait_for(lambda: any("Running" in str(u[0]) for u in job.outputs() if u),
             what="the page to show the job running")
    message = client.predict(api_name="/stop_text_to_video")
    assert "cannot stop" in message and "history" in message
    job.cancel()
    wait_for(lambda: [r for r in rows(client) if r[4] == "too late to stop" and r[3] == "done"],
             what="the job to land")
    assert fakefal.count("cancel") == 0
