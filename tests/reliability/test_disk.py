"""The disk is safe on a public Space: uploads are held to a size per kind, Gradio's upload
cache is cleaned, and the data directory keeps to its age and its budget.

Each test starts the real app against the fake fal cloud, with limits small enough to
reach with files made here in a moment.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.client import Job
from PIL import Image

from playground.history import History, JobRecord
from tests.apprunner import RunningApp, running_app
from tests.builders import IMAGE, IMAGES
from tests.fakefal import FakeFal
from tests.records import record
from tests.waiting import wait_for

MB = 1024 * 1024  # Gradio's megabyte, and ours
LIMITS = {"PIKA_MAX_IMAGE_MB": "1", "PIKA_MAX_VIDEO_MB": "2"}


def noise_png(path: Path, megabytes: float) -> Path:
    """Noise does not compress: three bytes a pixel, so the size is what was asked."""
    pixels = int(megabytes * MB / 3)
    width = 800
    rng = np.random.default_rng(2)
    Image.fromarray(rng.integers(0, 255, (pixels // width, width, 3), dtype=np.uint8)).save(path)
    return path


def noise_clip(path: Path, frames: int) -> Path:
    """A lossless H.264 clip of noise, 12 frames a second: about 115 kB a frame."""
    rng = np.random.default_rng(3)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=12, options={"qp": "0"})
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(
                rng.integers(0, 255, (240, 320, 3), dtype=np.uint8), format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, 12)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def upload(app: RunningApp, path: Path) -> httpx.Response:
    """A bare upload, as any visitor may send one without ever running a job."""
    with path.open("rb") as handle:
        return httpx.post(f"{app.url}gradio_api/upload", files={"files": (path.name, handle)},
                          trust_env=False, timeout=60)


@pytest.fixture(scope="module")
def limited(fakefal_server: FakeFal, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[RunningApp]:
    with running_app({**fakefal_server.env, **LIMITS},
                     tmp_path_factory.mktemp("limited")) as running:
        yield running


def test_an_image_over_the_image_limit_is_refused_for_free(limited: RunningApp,
                                                           fakefal: FakeFal,
                                                           tmp_path: Path) -> None:
    big = noise_png(tmp_path / "big.png", 1.5)
    assert 1 * MB < big.stat().st_size < 2 * MB  # over the image limit, under the upload cap
    with pytest.raises(Exception) as err:
        Client(limited.url, verbose=False).predict(
            version="v2.2", prompt="waves", image_url=handle_file(str(big)),
            api_name="/image_to_video")
    assert "First frame: the image is 1.5 MB; the limit for images is 1 MB" in str(err.value)
    assert fakefal.records == []  # not one request reached fal


def test_a_video_of_that_size_is_fine(limited: RunningApp, fakefal: FakeFal,
                                      tmp_path: Path) -> None:
    clip = noise_clip(tmp_path / "clip.mp4", frames=16)
    assert 1.5 * MB < clip.stat().st_size < 2 * MB
    status, *_ = Client(limited.url, verbose=False).predict(
        version="v2", video_url=handle_file(str(clip)), image_url=handle_file(str(IMAGE)),
        prompt="a boat", api_name="/additions")
    assert "Done" in status, status
    assert fakefal.count("submit") == 1


def test_the_upload_route_holds_every_file_to_the_largest_limit(limited: RunningApp,
                                                                tmp_path: Path) -> None:
    fits = noise_png(tmp_path / "fits.png", 1.5)
    too_big = noise_png(tmp_path / "too-big.png", 2.2)
    assert upload(limited, fits).status_code == 200
    refused = upload(limited, too_big)
    assert refused.status_code == 413, refused.text
    uploads = Path(limited.data_dir / "gradio-tmp")
    assert not [p for p in uploads.rglob("too-big.png")]  # nothing of it was kept


def cached_files(app: RunningApp) -> set[Path]:
    return {p for p in (app.data_dir / "gradio-tmp").rglob("*") if p.is_file()}


def test_gradios_upload_cache_is_cleaned(fakefal_server: FakeFal, tmp_path: Path) -> None:
    # Every second, uploads older than a second go: the schedule made short, nothing else.
    with running_app({**fakefal_server.env, "PIKA_DELETE_CACHE": "1,1"}, tmp_path) as app:
        before = cached_files(app)
        rng = np.random.default_rng(4)
        uploaded = set()
        for i in range(10):  # each different: Gradio keeps one copy per content
            blob = tmp_path / f"blob-{i}.bin"
            blob.write_bytes(rng.bytes(MB))
            uploaded.add(Path(upload(app, blob).raise_for_status().json()[0]))
        assert len(uploaded) == 10 and all(p.is_file() for p in uploaded)
        wait_for(lambda: not any(p.exists() for p in uploaded), timeout=20,
                 what="the ten uploads to leave the cache")
        assert before <= cached_files(app)  # the preset examples, cached at start, stay


def history_rows(client: Client) -> list[list[object]]:
    return client.predict(api_name="/history")["data"]


def status(data_dir: Path, prompt: str) -> str | None:
    found = record(data_dir, prompt)
    return found.status if found else None


def stored(data_dir: Path, prompt: str) -> JobRecord:
    found = record(data_dir, prompt)
    assert found is not None, prompt
    return found


def backdate(data_dir: Path, prompts: list[str], days: float) -> None:
    history = History(data_dir / "history.sqlite3")
    try:
        for record in history.recent(500):
            if record.form.get("prompt") in prompts:
                record.created -= days * 86400
                history.save(record)
    finally:
        history.close()


def i2v(client: Client, image: Path, prompt: str) -> Job:
    return client.submit(version="v2.2", prompt=prompt, image_url=handle_file(str(image)),
                         api_name="/image_to_video")


def test_finished_jobs_files_go_after_their_age(fakefal: FakeFal, tmp_path: Path) -> None:
    with running_app(fakefal.env, tmp_path) as app:
        client = Client(app.url, verbose=False)
        for job in [i2v(client, IMAGE, "old, shared picture"),
                    i2v(client, IMAGE, "new, shared picture"),
                    i2v(client, IMAGES[2], "old, own picture"),
                    client.submit(version="v2.2", prompt="old text", api_name="/text_to_video")]:
            assert "Done" in job.result(timeout=60)[0]
        fakefal.script(queue_positions=0, run_time=120.0)
        i2v(client, IMAGES[0], "old, still running")
        wait_for(lambda: status(tmp_path, "old, still running") == "running",
                 what="the last job to be running at fal")
        app.kill()
    old = ["old, shared picture", "old, own picture", "old text", "old, still running"]
    backdate(tmp_path, old, days=31)
    jobs = {prompt: stored(tmp_path, prompt) for prompt in [*old, "new, shared picture"]}

    with running_app(fakefal.env, tmp_path) as app:  # swept at start-up
        # The same API user, back: known by the cookie the server gave them.
        client = Client(app.url, verbose=False, httpx_kwargs={"cookies": client.cookies})
        said = wait_for(lambda: {r[4]: r[3] for r in history_rows(client)
                                 if "files removed" in str(r[3])} or None,
                        timeout=30, what="the history to say which files went")
        assert said == {p: "done, files removed after 30 days" for p in old[:3]}
        for prompt in old[:3]:
            assert jobs[prompt].video and not (tmp_path / jobs[prompt].video).exists()
            assert stored(tmp_path, prompt).removed == "files removed after 30 days"
        assert not Path(jobs["old, own picture"].form["image_url"]).exists()
        # The newer job keeps its video and the picture both jobs used.
        assert (tmp_path / str(jobs["new, shared picture"].video)).exists()
        assert Path(jobs["new, shared picture"].form["image_url"]) == \
            Path(jobs["old, shared picture"].form["image_url"])
        assert Path(jobs["old, shared picture"].form["image_url"]).exists()
        # Still running at fal, followed again after the restart: not touched.
        running = stored(tmp_path, "old, still running")
        assert running.status == "running" and running.removed is None
        assert Path(running.form["image_url"]).exists()


def test_a_full_store_refuses_new_jobs_for_free(fakefal: FakeFal, tmp_path: Path) -> None:
    # About 10 kB: less than the history alone, so nothing can ever make room.
    with running_app({**fakefal.env, "PIKA_MAX_DATA_GB": "0.00001"}, tmp_path) as app:
        with pytest.raises(Exception) as err:
            Client(app.url, verbose=False).predict(version="v2.2", prompt="one more",
                                                   api_name="/text_to_video")
        assert "storage is full" in str(err.value)
        assert fakefal.records == []  # not one request reached fal
