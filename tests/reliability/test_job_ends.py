"""Every job ends, with a final event and a history row that says what is known.

Whatever is raised on the way to fal, the page hears the end and Stop has
nothing left to wait for; a job cut off while its submit was in flight is
never recorded as free, because fal may have queued it.
"""

from __future__ import annotations

import signal
from pathlib import Path

from gradio_client import Client, handle_file

from tests.apprunner import RunningApp, running_app
from tests.builders import IMAGE
from tests.fakefal import FakeFal
from tests.rawqueue import RawPage
from tests.records import record
from tests.waiting import wait_for

T2V = "/text_to_video"
MAYBE_QUEUED = "may have been queued at fal (request id unknown): check your fal dashboard"


def final_status(app: RunningApp, **form: object) -> str:
    job = Client(app.url, verbose=False).submit(api_name=form.pop("api_name", T2V), **form)
    status, *_ = job.result(timeout=60)  # a job that never ends fails here, not forever
    return status


def test_a_submit_answered_with_garbage_ends_as_maybe_queued(app: RunningApp,
                                                             fakefal: FakeFal) -> None:
    fakefal.script(faults={"submit": ["garbage"]})
    status = final_status(app, version="v2.2", prompt="garbage reply")
    assert MAYBE_QUEUED in status
    row = record(app.data_dir, "garbage reply")
    assert row.status == "unknown" and MAYBE_QUEUED in (row.error or "")
    assert fakefal.count("submit") == 1


def test_an_upload_that_breaks_ends_the_job_as_free(app: RunningApp, fakefal: FakeFal) -> None:
    fakefal.script(faults={"upload": ["garbage"], "initiate": ["garbage"]})
    status = final_status(app, api_name="/image_to_video", version="v2.2",
                          prompt="upload breaks", image_url=handle_file(str(IMAGE)))
    assert "nothing was charged" in status
    assert record(app.data_dir, "upload breaks").status == "failed"
    assert "Traceback" in app.output()  # a real bug is logged whole, unlike a refusal
    assert fakefal.count("submit") == 0


def submit_held(fakefal: FakeFal, app: RunningApp, prompt: str) -> None:
    """A job whose submit fal has received and not yet answered."""
    fakefal.script(faults={"submit": ["hold"]})
    Client(app.url, verbose=False).submit(version="v2.2", prompt=prompt, api_name=T2V)
    wait_for(lambda: fakefal.count("submit") == 1, what="the submit to reach the fake")


def test_killed_while_the_submit_is_in_flight(fakefal: FakeFal, tmp_path: Path) -> None:
    with running_app(fakefal.env, tmp_path) as app:
        submit_held(fakefal, app, "killed mid-submit")
        app.kill()
    with running_app(fakefal.env, tmp_path):
        row = record(tmp_path, "killed mid-submit")
    assert row.status == "unknown" and MAYBE_QUEUED in (row.error or "")


def test_stopped_cleanly_while_the_submit_is_in_flight(fakefal: FakeFal,
                                                       tmp_path: Path) -> None:
    with running_app(fakefal.env, tmp_path) as app:
        submit_held(fakefal, app, "stopped mid-submit")
        app.process.send_signal(signal.SIGINT)  # Ctrl-C: the server shuts down its way
        app.process.wait(30)
        row = record(tmp_path, "stopped mid-submit")
        assert "nothing was charged" not in (row.error or "")
    with running_app(fakefal.env, tmp_path):
        row = record(tmp_path, "stopped mid-submit")
    assert row.status == "unknown" and MAYBE_QUEUED in (row.error or "")


def test_dropped_connections_cannot_start_more_jobs_than_the_limit(fakefal: FakeFal,
                                                                   tmp_path: Path) -> None:
    # Join, read until fal has the job, hang up, again: Gradio frees the queue slot at each
    # hang-up, while the job runs on at fal on the server's key.
    fakefal.script(queue_positions=0, run_time=8.0)
    refusals = []
    with running_app({**fakefal.env, "PIKA_MAX_JOBS": "3"}, tmp_path) as app:
        for i in range(16):
            page = RawPage(app.url)
            refusals.append(page.hang_up_once_started("text_to_video", version="v2.2",
                                                     prompt=f"hang up {i}"))
            page.close()
        assert fakefal.count("submit") == 3
        refusals = [text for text in refusals if text]
        assert len(refusals) == 13
        assert all("limit of 3 jobs running" in text for text in refusals), refusals
        # The slots come back as the jobs end at fal.
        wait_for(lambda: all(record(tmp_path, f"hang up {i}").status == "done"
                             for i in range(3)), timeout=30, what="the three jobs to land")
        assert "Done" in final_status(app, version="v2.2", prompt="after the crowd")
    assert fakefal.count("submit") == 4
