"""The fake fal cloud, driven by fal-client itself through environment variables alone."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import time

import av
import fal_client
import httpx
import pytest
from fal_client.client import Completed, FalClientHTTPError, InProgress, Queued

from tests.apprunner import ROOT
from tests.fakefal import FakeFal

T2V22 = "fal-ai/pika/v2.2/text-to-video"
T2V21 = "fal-ai/pika/v2.1/text-to-video"
FRAMES = "fal-ai/pika/v2.2/pikaframes"
IMAGE = ROOT / "presets" / "media" / "sailboat.jpg"


def download(url: str) -> bytes:
    response = httpx.get(url)  # through the proxy, trusting the throwaway CA, as fal-client does
    response.raise_for_status()
    return response.content


def video_facts(data: bytes) -> tuple[int, int, float]:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert frames > 1
        return (stream.codec_context.width, stream.codec_context.height,
                float(stream.duration * stream.time_base))


def test_subscribe_with_logs_sees_the_queue_then_the_logs(fal_env: FakeFal) -> None:
    fal_env.script(queue_positions=3, queue_step=0.2, run_time=0.6, logs=["a", "b", "c"])
    updates: list[object] = []
    result = fal_client.subscribe(T2V22, {"prompt": "a cat", "aspect_ratio": "9:16",
                                          "duration": "10"},
                                  with_logs=True, on_queue_update=updates.append)
    positions = [u.position for u in updates if isinstance(u, Queued)]
    assert positions[0] == 2 and positions[-1] == 0 and positions == sorted(positions, reverse=True)
    logs = [[line["message"] for line in u.logs] for u in updates if isinstance(u, InProgress)]
    assert logs[-1] == ["a", "b", "c"] and ["a"] in logs  # whole list each poll, growing
    assert video_facts(download(result["video"]["url"])) == (720, 1280, 10.0)
    assert result["video"]["content_type"] == "video/mp4" and result["video"]["file_size"] > 0


async def test_async_submit_iter_events_get(fal_env: FakeFal) -> None:
    client = fal_client.AsyncClient()
    handle = await client.submit(T2V21, {"prompt": "x", "duration": 10, "resolution": "1080p",
                                         "aspect_ratio": "1:1"})
    assert "/requests/" in handle.status_url and "v2.1" not in handle.status_url
    events = [e async for e in handle.iter_events(with_logs=True, interval=0.05)]
    assert isinstance(events[-1], Completed) and events[-1].metrics
    result = await handle.get()
    assert video_facts(download(result["video"]["url"])) == (1080, 1080, 10.0)


def test_cancel_a_queued_job_and_a_running_one(fal_env: FakeFal) -> None:
    fal_env.script(queue_positions=50, queue_step=1.0)
    handle = fal_client.submit(T2V22, {"prompt": "x"})
    handle.cancel()
    status = handle.status()
    assert isinstance(status, Completed) and "cancel" in status.error.lower()
    with pytest.raises(FalClientHTTPError) as err:
        handle.get()
    assert err.value.status_code == 400
    fal_env.script(queue_positions=0, run_time=1.0, cancel_finishes=True)
    running = fal_client.submit(T2V22, {"prompt": "x"})
    running.cancel()  # asked to stop, but by script it still finishes
    assert "video" in running.get()
    with pytest.raises(FalClientHTTPError) as err:
        running.cancel()
    assert err.value.status_code == 400 and "ALREADY_COMPLETED" in err.value.response.text


def test_upload_file_then_use_it_as_an_input(fal_env: FakeFal) -> None:
    url = fal_client.upload_file(IMAGE)
    assert url.startswith("https://v3.fal.media/files/")
    assert download(url) == IMAGE.read_bytes()
    result = fal_client.subscribe("fal-ai/pika/v2/turbo/image-to-video",
                                  {"image_url": url, "prompt": "drift"})
    assert "video" in result
    assert [r.stage for r in fal_env.records[:2]] == ["token", "upload"]


def test_data_uri_inputs_are_decoded_and_checked(fal_env: FakeFal) -> None:
    good = "data:image/jpeg;base64," + base64.b64encode(IMAGE.read_bytes()).decode()
    fal_client.submit("fal-ai/pika/v1.5/pikaffects", {"image_url": good, "pikaffect": "Melt"})
    bad = "data:image/png;base64," + base64.b64encode(b"not an image at all").decode()
    with pytest.raises(FalClientHTTPError) as err:
        fal_client.submit("fal-ai/pika/v1.5/pikaffects", {"image_url": bad, "pikaffect": "Melt"})
    assert err.value.status_code == 422 and "image_load_error" in err.value.response.text
    with pytest.raises(FalClientHTTPError) as err:
        fal_client.submit("fal-ai/pika/v2/pikaswaps", {"video_url": good})
    assert "video_load_error" in err.value.response.text


@pytest.mark.parametrize(("endpoint", "arguments", "loc", "kind"), [
    (T2V22, {"prompt": "x", "duration": 5}, ["body", "duration"], "literal_error"),
    (T2V21, {"prompt": "x", "duration": "5"}, ["body", "duration"], "int_type"),
    (T2V22, {"prompt": "x", "aspect_ratio": "21:9"}, ["body", "aspect_ratio"], "literal_error"),
    (T2V22, {"negative_prompt": "x"}, ["body", "prompt"], "missing"),
    ("fal-ai/pika/v2.5/text-to-video", {"prompt": "x", "aspect_ratio": "16:9"},
     ["body", "aspect_ratio"], "extra_forbidden"),
    ("fal-ai/pika/v1.5/pikaffects", {"image_url": "data:,", "pikaffect": "Vaporize"},
     ["body", "pikaffect"], "literal_error"),
    (T2V22, {"prompt": "x", "seed": "7"}, ["body", "seed"], "int_type"),
    (FRAMES, {"image_urls": ["u"]}, ["body", "image_urls"], "too_short"),
    (FRAMES, {"image_urls": ["u"] * 6}, ["body", "image_urls"], "too_long"),
    (FRAMES, {"image_urls": ["u"] * 3, "transitions": [{"duration": 5}]}, ["body"],
     "value_error"),
    (FRAMES, {"image_urls": ["u"] * 3, "transitions": [{"duration": 20}, {"duration": 6}]},
     ["body"], "value_error"),
])
def test_schema_violations_get_fals_422(fal_env: FakeFal, endpoint, arguments, loc,
                                        kind) -> None:
    with pytest.raises(FalClientHTTPError) as err:
        fal_client.submit(endpoint, arguments)
    assert err.value.status_code == 422
    detail = err.value.response.json()["detail"]
    assert {"loc": loc, "type": kind} == {k: detail[0][k] for k in ("loc", "type")}
    assert detail[0]["msg"]
    assert fal_env.jobs == {}


def test_auth_unknown_endpoint_and_unknown_request(fal_env: FakeFal) -> None:
    with pytest.raises(FalClientHTTPError) as err:
        fal_client.SyncClient(key="wrong:key").submit(T2V22, {"prompt": "x"})
    assert err.value.status_code == 401
    assert err.value.message == "No user found for Key ID and Secret"
    with pytest.raises(FalClientHTTPError) as err:
        fal_client.submit("fal-ai/pika/v9/text-to-video", {"prompt": "x"})
    assert err.value.status_code == 404
    with pytest.raises(FalClientHTTPError) as err:
        fal_client.status(T2V22, "no-such-request")
    assert err.value.status_code == 404


@pytest.mark.parametrize(("stage", "fault", "status"), [
    ("submit", 401, 401), ("submit", 422, 422), ("submit", 500, 500), ("submit", 403, 403),
    ("status", 500, 500), ("result", 503, 503),
])
def test_scripted_http_faults(fal_env: FakeFal, stage: str, fault: int, status: int) -> None:
    fal_env.script(faults={stage: [fault]})
    with pytest.raises(FalClientHTTPError) as err:
        handle = fal_client.submit(T2V22, {"prompt": "x"})
        if stage == "status":
            handle.status()
        handle.get()
    assert err.value.status_code == status
    assert fal_env.find(stage)[0].status == status


def test_429_is_retried_by_fal_client_itself(fal_env: FakeFal) -> None:
    fal_env.script(faults={"submit": [429, 429]})
    fal_client.submit(T2V22, {"prompt": "x"})
    assert [r.status for r in fal_env.find("submit")] == [429, 429, 200]


def test_a_dropped_submit_still_queued_the_job(fal_env: FakeFal) -> None:
    """What makes a blind retry dangerous: fal-client re-sends, and fal now has two jobs."""
    fal_env.script(faults={"submit": ["drop"]})
    fal_client.submit(T2V22, {"prompt": "x"})
    assert [r.status for r in fal_env.find("submit")] == [-1, 200]
    assert len(fal_env.jobs) == 2


def test_failed_job_expired_result_and_slow_cdn(fal_env: FakeFal) -> None:
    fal_env.script(fail_job="CUDA out of memory")
    handle = fal_client.submit(T2V22, {"prompt": "x"})
    events = list(handle.iter_events(interval=0.05))
    assert events[-1].error == "CUDA out of memory"
    with pytest.raises(FalClientHTTPError) as err:
        handle.get()
    assert err.value.response.headers["X-Fal-Retryable"] == "false"

    fal_env.script(result_expired=True)
    result = fal_client.subscribe(T2V22, {"prompt": "x"})
    assert httpx.get(result["video"]["url"]).status_code == 404

    fal_env.script(cdn_delay=0.4)
    started = time.monotonic()
    fal_client.upload_file(IMAGE)
    assert time.monotonic() - started >= 0.4


def test_sse_status_stream(fal_env: FakeFal) -> None:
    fal_env.script(queue_positions=2, queue_step=0.2, run_time=0.4, logs=["x", "y"])
    handle = fal_client.submit(T2V22, {"prompt": "x"})
    headers = {"Authorization": f"Key {fal_env.env['FAL_KEY']}"}
    states = []
    with httpx.stream("GET", handle.status_url + "/stream", params={"logs": 1},
                      headers=headers, timeout=10) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                states.append(json.loads(line[6:]))
    assert [s["status"] for s in states][0] == "IN_QUEUE"
    assert states[-1]["status"] == "COMPLETED" and len(states[-1]["logs"]) == 2


def test_the_command_prints_what_a_client_needs() -> None:
    process = subprocess.Popen([sys.executable, "-m", "tests.fakefal"], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)
    try:
        lines = [process.stdout.readline().strip() for _ in range(5)]  # type: ignore[union-attr]
    finally:
        process.terminate()
        process.wait(10)
    names = {line.split("=", 1)[0].removeprefix("export ") for line in lines}
    assert names == {"HTTPS_PROXY", "SSL_CERT_FILE", "NO_PROXY", "FAL_KEY", "FAKEFAL_CONTROL"}
    assert all(line.startswith("export ") for line in lines)


def test_control_api_scripts_and_counts(fal_env: FakeFal) -> None:
    """Another process (a benchmark) scripts the fake and reads its counts over plain HTTP."""
    url = fal_env.control_url
    scripted = httpx.post(f"{url}/_fake/script", json={"queue_positions": 0, "run_time": 0.1,
                                                       "logs": ["only"]}, trust_env=False)
    assert scripted.json()["logs"] == ["only"]
    fal_client.subscribe(T2V22, {"prompt": "x"}, with_logs=True)
    records = httpx.get(f"{url}/_fake/requests", params={"stage": "submit"},
                        trust_env=False).json()
    assert len(records) == 1 and records[0]["key"] is True  # whether a key came, never which
    jobs = httpx.get(f"{url}/_fake/jobs", trust_env=False).json()
    assert jobs[0]["size"] == [1280, 720, 5.0] and len(jobs[0]["log_times"]) == 1


def test_a_stream_whose_client_left_does_not_hold_up_stop(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    # A long job with nothing to report: the stream has nothing to write once the client
    # has gone, and must still end, or stopping the fake waits out aiohttp's shutdown.
    fake = FakeFal().start()
    try:
        fake.script(queue_positions=0, run_time=600)
        for name, value in fake.env.items():
            monkeypatch.setenv(name, value)
        # Plain httpx, not fal-client: fal-client keeps the clients it made for the
        # session's fake, and this is a fake of its own.
        auth = {"Authorization": f"Key {fake.env['FAL_KEY']}"}
        with httpx.Client(headers=auth) as client:
            submitted = client.post("https://queue.fal.run/fal-ai/pika/v2.2/text-to-video",
                                    json={"prompt": "a long one"}).raise_for_status().json()
            with client.stream("GET", f"{submitted['status_url']}/stream",
                               params={"logs": 1}) as stream:
                assert stream.status_code == 200
                next(line for line in stream.iter_lines() if line.startswith("data:"))
    finally:
        fake.stop()  # raises TimeoutError after 10 s if the stream outlives its client
