"""Every fal failure becomes a message a person can act on, and the history says so."""

from __future__ import annotations

import pytest
from gradio_client import Client

from tests.apprunner import RunningApp, running_app
from tests.fakefal import FakeFal

T2V = "/text_to_video"


def run(app: RunningApp, prompt: str) -> tuple[str, list[object]]:
    client = Client(app.url, verbose=False)
    status, _logs, _video, _info = client.predict(version="v2.2", prompt=prompt, api_name=T2V)
    row = next(r for r in client.predict(api_name="/history")["data"] if r[4] == prompt)
    return status, row


CASES = [
    ("submit-401", {"faults": {"submit": [401]}}, "did not accept the API key (HTTP 401)"),
    ("submit-403", {"faults": {"submit": [403]}}, "refused this request (HTTP 403)"),
    ("submit-422", {"faults": {"submit": [422]}},
     "refused the input (HTTP 422): prompt: Scripted validation error"),
    ("submit-429", {"faults": {"submit": [429] * 4}}, "rate-limiting this key (HTTP 429)"),
    ("submit-500", {"faults": {"submit": [500]}}, "server error (HTTP 500)"),
    ("job-fails", {"fail_job": "CUDA out of memory"}, "the job failed at fal: CUDA out of memory"),
    ("result-expired", {"result_expired": True}, "link to the finished video has expired"),
]


@pytest.mark.parametrize(("name", "script", "message"), CASES, ids=[c[0] for c in CASES])
def test_fal_failures_are_explained_and_recorded(app: RunningApp, fakefal: FakeFal, name,
                                                 script, message) -> None:
    fakefal.script(**script)
    status, row = run(app, f"case {name}")
    assert message in status
    assert row[3] == "failed"


def test_a_dropped_submit_is_never_sent_twice(app: RunningApp, fakefal: FakeFal) -> None:
    fakefal.script(faults={"submit": ["drop"]})
    status, row = run(app, "dropped")
    assert "not sent again" in status and "dashboard" in status
    assert fakefal.count("submit") == 1 and len(fakefal.jobs) == 1
    assert row[3] == "unknown"  # fal may have it: never said to be free


@pytest.mark.parametrize(("faults", "run_time"), [
    # The polls back off 0.25, 0.5 and then 1 s (the 429's Retry-After) before the stream
    # is tried again: a job of 4 s is still running when the last fault is met.
    ({"stream": ["drop", 503, "drop"], "status": [500, "drop", 429]}, 3.0),
    ({"result": [502, "drop"]}, 1.0),
    ({"cdn": [404]}, 1.0),  # the result URL fails once, then works
], ids=["stream-and-status", "result", "cdn"])
def test_transient_failures_after_submit_are_ridden_out(app: RunningApp, fakefal: FakeFal,
                                                        faults, run_time) -> None:
    fakefal.script(queue_positions=2, queue_step=0.5, run_time=run_time, faults=faults)
    status, row = run(app, f"transient {sorted(faults)}")
    assert "Done" in status and row[3] == "done"
    assert fakefal.count("submit") == 1
    for stage, injected in faults.items():
        assert [r.status for r in fakefal.find(stage)][: len(injected)] == [
            -1 if f == "drop" else f for f in injected]  # every fault was met, and survived


# Where the status stream is missing or broken, as gateways and proxies answer it: refused
# (405), a plain status as JSON, plain text, or an event stream that ends before COMPLETED.
NO_STREAM = [405, "json", "text", "early"]


@pytest.mark.parametrize("fault", NO_STREAM, ids=[str(f) for f in NO_STREAM])
def test_without_a_status_stream_it_polls_gently(app: RunningApp, fakefal: FakeFal,
                                                 fault) -> None:
    # Every stream request is answered the same way, however many are made.
    fakefal.script(queue_positions=1, queue_step=0.5, run_time=2.5,
                   faults={"stream": [fault] * 100})
    status, row = run(app, f"no stream here: {fault}")
    assert "Done" in status and row[3] == "done"
    (job,) = fakefal.jobs.values()
    seconds = job.completed_at() - job.submitted  # 3 s
    streams, polls = fakefal.count("stream"), fakefal.count("status")
    assert streams == 1, f"the stream was opened {streams} times ({polls} polls)"
    # At most two status requests a second over the job's life (the README's promise),
    # and a moment's slack for the clocks of two processes.
    assert 3 <= streams + polls <= 2 * seconds + 1, (streams, polls)


def test_fal_unreachable(tmp_path, fakefal: FakeFal) -> None:
    env = {**fakefal.env, "HTTPS_PROXY": "http://127.0.0.1:9"}  # nothing listens there
    with running_app(env, tmp_path) as app:
        status, row = run(app, "offline network")
    assert "could not reach fal" in status and row[3] == "failed"
