"""The playground against the fake fal cloud, started as a user starts it, called by api_name."""

from __future__ import annotations

from pathlib import Path

import av
import httpx
import pytest
from gradio_client import Client

from playground.history import History
from tests.apprunner import RunningApp
from tests.builders import JOBS, api_form, api_name
from tests.clients import again
from tests.fakefal import FakeFal
from tests.waiting import wait_for

ENDPOINT_OF = {
    ("text-to-video", "v2.5"): "fal-ai/pika/v2.5/text-to-video",
    ("text-to-video", "v2.2"): "fal-ai/pika/v2.2/text-to-video",
    ("text-to-video", "v2.1"): "fal-ai/pika/v2.1/text-to-video",
    ("text-to-video", "v2 Turbo"): "fal-ai/pika/v2/turbo/text-to-video",
    ("image-to-video", "v2.5"): "fal-ai/pika/v2.5/image-to-video",
    ("image-to-video", "v2.2"): "fal-ai/pika/v2.2/image-to-video",
    ("image-to-video", "v2.1"): "fal-ai/pika/v2.1/image-to-video",
    ("image-to-video", "v2 Turbo"): "fal-ai/pika/v2/turbo/image-to-video",
    ("keyframes", "v2.2"): "fal-ai/pika/v2.2/pikaframes",
    ("scenes", "v2.2"): "fal-ai/pika/v2.2/pikascenes",
    ("effects", "v1.5"): "fal-ai/pika/v1.5/pikaffects",
    ("additions", "v2"): "fal-ai/pika/v2/pikadditions",
    ("swaps", "v2"): "fal-ai/pika/v2/pikaswaps",
}


def history(client: Client) -> list[list[object]]:
    return client.predict(api_name="/history")["data"]


def decoded(path: Path) -> tuple[int, int, float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return (stream.codec_context.width, stream.codec_context.height,
                float(stream.duration * stream.time_base))


@pytest.mark.parametrize(("mode", "version", "form", "size", "seconds"), JOBS,
                         ids=[f"{j[0]}-{j[1]}" for j in JOBS])
def test_every_endpoint_end_to_end(app: RunningApp, fakefal: FakeFal, mode, version, form,
                                   size, seconds) -> None:
    endpoint = ENDPOINT_OF[(mode, version)]
    fakefal.script(queue_positions=2, queue_step=0.3, run_time=1.2,
                   logs=["Loading model", "Sampling 50%", "Sampling 100%"])
    client = Client(app.url, verbose=False)
    job = client.submit(version=version, **api_form(form), api_name=api_name(mode))
    updates = list(job)
    status, logs, video, info = job.outputs()[-1]
    assert "Done" in status, status

    submits = fakefal.find("submit")
    assert len(submits) == 1 and submits[0].status == 200
    assert submits[0].path == f"/{endpoint}"
    sent = submits[0].body
    # The fake's strict schema accepted it; check the JSON types ourselves too.
    if "duration" in sent:
        expected_type = int if version in ("v2.1", "v2 Turbo") else str
        assert type(sent["duration"]) is expected_type
    assert isinstance(sent["seed"], int)
    for key in ("image_url", "video_url"):
        if key in sent:
            assert sent[key].startswith("https://v3.fal.media/files/")
    if "image_urls" in sent:
        assert all(u.startswith("https://v3.fal.media/files/") for u in sent["image_urls"])

    # Logs streamed: the page saw a queue position and the lines, as they came.
    texts = [u[0] for u in updates if isinstance(u, list | tuple)]
    assert any("Queued at fal" in t for t in texts)
    assert logs.splitlines() == ["Loading model", "Sampling 50%", "Sampling 100%"]
    video_path = Path(video["video"] if isinstance(video, dict) else video)
    width, height, duration = decoded(video_path)
    assert (width, height) == size
    assert duration == pytest.approx(seconds, abs=0.3)
    assert str(sent["seed"]) in info
    # Followed on one status stream, not polled 10 times a second.
    assert fakefal.count("stream") == 1 and fakefal.count("status") == 0


UGLY = "ugly, bad, terrible"
T2V_21 = {"negative_prompt": "", "aspect_ratio": "16:9", "resolution": "720p", "duration": 5}
I2V_21 = {"negative_prompt": "", "resolution": "720p", "duration": 5}
# What each version declares for the fields a caller leaves out (ENDPOINTS.md).
DEFAULTS = [
    ("text-to-video", "v2.5", {"negative_prompt": UGLY, "resolution": "720p", "duration": "5"}),
    ("text-to-video", "v2.2", {"negative_prompt": UGLY, "aspect_ratio": "16:9",
                               "resolution": "720p", "duration": "5"}),
    ("text-to-video", "v2.1", T2V_21),
    ("text-to-video", "v2 Turbo", T2V_21),
    ("image-to-video", "v2.5", {"negative_prompt": UGLY, "resolution": "720p", "duration": "5"}),
    ("image-to-video", "v2.2", {"negative_prompt": "", "resolution": "720p", "duration": "5"}),
    ("image-to-video", "v2.1", I2V_21),
    ("image-to-video", "v2 Turbo", I2V_21),
]


@pytest.mark.parametrize(("mode", "version", "defaults"), DEFAULTS,
                         ids=[f"{m}-{v}" for m, v, _ in DEFAULTS])
def test_a_field_left_out_takes_that_versions_own_default(app: RunningApp, fakefal: FakeFal,
                                                          mode, version, defaults) -> None:
    fakefal.script(queue_positions=0, run_time=0.2)
    form = {"prompt": "defaults", **({"image_url": "IMAGE"} if mode == "image-to-video" else {})}
    status, *_ = Client(app.url, verbose=False).predict(
        version=version, **api_form(form), api_name=api_name(mode))
    assert "Done" in status, status
    sent = fakefal.find("submit")[0].body
    assert {k: v for k, v in sent.items() if k not in ("prompt", "seed", "image_url")} == defaults
    # The history keeps what ran, so a Remix puts these defaults back, not blanks.
    history = History(app.data_dir / "history.sqlite3")
    try:
        form = next(r.form for r in history.recent(50) if r.version == version
                    and r.mode == mode and r.form.get("prompt") == "defaults")
    finally:
        history.close()
    assert {k: form[k] for k in defaults} == defaults


def test_an_empty_negative_prompt_means_none(app: RunningApp, fakefal: FakeFal) -> None:
    fakefal.script(queue_positions=0, run_time=0.2)
    Client(app.url, verbose=False).predict(version="v2.5", prompt="no negatives",
                                           negative_prompt="", api_name="/text_to_video")
    assert fakefal.find("submit")[0].body["negative_prompt"] == ""


@pytest.mark.parametrize(("cdn_delay", "said"), [(0.0, False), (1.0, True)],
                         ids=["quick-download", "slow-download"])
def test_saving_is_said_only_when_it_takes_a_while(app: RunningApp, fakefal: FakeFal,
                                                   cdn_delay: float, said: bool) -> None:
    fakefal.script(queue_positions=0, run_time=0.3, cdn_delay=cdn_delay)
    client = Client(app.url, verbose=False)
    job = client.submit(version="v2.2", prompt="keep it", api_name="/text_to_video")
    texts = [u[0] for u in job if isinstance(u, list | tuple)]
    assert "Done" in job.outputs()[-1][0]
    assert any("Saving the video" in t for t in texts) is said, texts


def test_transitions_are_sent_as_fal_wants_them(app: RunningApp, fakefal: FakeFal) -> None:
    client = Client(app.url, verbose=False)
    form = api_form({"image_urls": "IMAGES", "prompt": "trip", "transition_1_prompt": "up",
                     "transition_1_seconds": 6, "transition_2_seconds": 2})
    client.predict(version="v2.2", **form, api_name="/keyframes")
    sent = fakefal.find("submit")[0].body
    assert sent["transitions"] == [{"duration": 6, "prompt": "up"}, {"duration": 2}]
    assert len(sent["image_urls"]) == 3 and len(set(sent["image_urls"])) == 3


def test_bad_input_costs_zero_requests(app: RunningApp, fakefal: FakeFal) -> None:
    client = Client(app.url, verbose=False)
    cases = [
        ("/text_to_video", {"version": "v2.2", "prompt": ""}, "Prompt is required"),
        ("/text_to_video", {"version": "v2.2", "prompt": "x", "seed": "-4"}, "between"),
        ("/text_to_video", {"version": "v2.2", "prompt": "x", "resolution": "480p"},
         "must be one of 720p, 1080p"),
        ("/keyframes", {"version": "v2.2", **api_form({"image_urls": "IMAGES"}),
                        "transition_1_seconds": 13, "transition_2_seconds": 13},
         "limit is 25 s"),
        ("/keyframes", {"version": "v2.2", **api_form({"image_urls": "IMAGES2"}),
                        "transition_1_seconds": 30}, "between 1 and 25"),
    ]
    for api, form, message in cases:
        with pytest.raises(Exception, match=message):
            client.predict(**form, api_name=api)
    assert fakefal.records == []


def test_stop_on_a_queued_job_sends_a_cancel(app: RunningApp, fakefal: FakeFal) -> None:
    fakefal.script(queue_positions=30, queue_step=1.0)
    client = Client(app.url, verbose=False)
    job = client.submit(version="v2.2", prompt="a long wait", api_name="/text_to_video")
    wait_for(lambda: fakefal.count("stream") >= 1, what="the job to be followed")
    message = client.predict(api_name="/stop_text_to_video")
    assert "cancel" in message.lower()
    cancels = fakefal.find("cancel")
    assert len(cancels) == 1 and cancels[0].status == 202
    job.cancel()
    rows = wait_for(lambda: [r for r in history(client) if r[3] == "cancelled"],
                    what="the job to be marked cancelled")
    assert rows[0][6] in fakefal.jobs  # the request id fal gave, kept on record


def test_a_closed_client_still_gets_its_video_in_the_history(app: RunningApp,
                                                             fakefal: FakeFal) -> None:
    fakefal.script(queue_positions=1, queue_step=0.5, run_time=1.5)
    client = Client(app.url, verbose=False)
    job = client.submit(version="v2.2", prompt="walk away", api_name="/text_to_video")
    wait_for(lambda: fakefal.count("submit") == 1, what="the submit")
    job.cancel()
    client.close()
    # The same API user, back later: known by the cookie the server gave them.
    viewer = again(client, app.url)
    row = wait_for(lambda: [r for r in history(viewer) if r[4] == "walk away"
                            and r[3] == "done"], what="the job to land in the history")[0]
    job_id = row[7]
    video = app.data_dir / "videos" / f"{job_id}.mp4"
    assert decoded(video)[:2] == (1280, 720)
    assert row[6] in fakefal.jobs
    assert fakefal.count("cancel") == 0  # only an explicit Stop cancels at fal


def test_the_page_never_carries_the_server_key(app: RunningApp) -> None:
    for path in ("", "config", "gradio_api/info"):
        body = httpx.get(app.url + path, trust_env=False).text
        assert "fake-key-secret" not in body
