"""The view of a job's events: what the page shows after each one."""

from __future__ import annotations

from pathlib import Path

from playground.events import Done, Failed, Queued, Running, Stage
from ui.render import View


def test_a_job_seen_from_start_to_video() -> None:
    view = View(started=0.0)
    view.apply(Stage("Sending to fal"))
    assert view.status == "Sending to fal" and not view.finished
    view.apply(Queued("r-7", 3))
    assert view.status == "Queued at fal, position 3 (request r-7)"
    view.apply(Queued("r-7", 0))
    assert view.status == "Queued at fal, next in line (request r-7)"
    view.apply(Running(("loading", "step 1")))
    view.apply(Running(()))
    view.apply(Running(("step 2",)))
    assert view.status == "Running" and view.logs == ["loading", "step 1", "step 2"]
    view.apply(Done(Path("videos/j.mp4"), "r-7", 42, 1280, 720, 5.0,
                    {"queue": 1.25, "run": 30.0, "prepare": 0.1}))
    assert view.finished and view.video == "videos/j.mp4"
    assert view.info == ("request r-7 · seed <b>42</b> · 1280×720, 5.0 s · "
                         "queue 1.2 s, run 30.0 s")
    assert view.status_line().startswith("<b>Done</b> · ")


def test_a_local_preview_is_not_said_to_queue_at_fal() -> None:
    view = View()
    view.apply(Queued("local-abc", 0))
    assert view.status == "Queued for a local preview"


def test_a_failure_says_whether_to_retry_and_marks_the_fields() -> None:
    view = View()
    view.apply(Failed("fal refused the input", fields={"prompt": "too <long>"}))
    assert view.finished and view.status == "Failed: fal refused the input"
    assert view.fields == {"prompt": "too <long>"}
    assert view.info == "<b>prompt</b>: too &lt;long&gt;"  # fal's words shown as text
    again = View()
    again.apply(Failed("fal had a server error.", retryable=True))
    assert again.status == "Failed: fal had a server error. Running it again may help."


def test_a_stop_is_not_called_a_failure() -> None:
    view = View()
    view.apply(Failed("Stopped before it was sent to fal.", cancelled=True))
    assert view.status == "Stopped: Stopped before it was sent to fal."


def test_the_status_line_shows_the_elapsed_time_and_that_it_goes_on() -> None:
    view = View(started=0.0)
    view.apply(Stage("Uploading <1> file"))
    line = view.status_line()
    assert line.startswith("<b>Uploading &lt;1&gt; file</b> … · ") and line.endswith(" s")
