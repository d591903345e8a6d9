"""A file value names a file on the server: only uploads (and the app's presets) may be used.

Gradio checks a file value against its upload folder only when the value
carries `meta`; a raw API caller can leave it out, or name a file Gradio
serves from our store. Each shape below names a file the caller did not
upload; each must be refused, naming the field, with zero requests to fal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.apprunner import RunningApp
from tests.builders import IMAGE, IMAGES, VIDEO
from tests.fakefal import FakeFal
from tests.rawqueue import RawPage

META = {"_type": "gradio.FileData"}


@pytest.fixture(scope="module")
def client(app: RunningApp) -> Iterator[RawPage]:
    page = RawPage(app.url)
    yield page
    page.close()


@pytest.fixture(scope="module")
def stored(app: RunningApp, client: RawPage) -> dict[str, Path]:
    """Files in the app's store from someone's earlier job: its input and its result."""
    ok, _ = client.call("image_to_video", version="v2.2", prompt="someone else's",
                        image_url=client.upload(IMAGE))
    assert ok
    return {"input": next((app.data_dir / "inputs").glob("*.jpg")),
            "video": next((app.data_dir / "videos").glob("*.mp4"))}


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """An image elsewhere on the server, never uploaded."""
    path = tmp_path / "secret.jpg"
    path.write_bytes(IMAGE.read_bytes())
    return path


def plain(path: Path) -> dict[str, Any]:
    return {"path": str(path)}


def with_meta(path: Path) -> dict[str, Any]:
    return {"path": str(path), "meta": META}


def i2v(value: Any) -> tuple[str, dict[str, Any]]:
    return "image_to_video", {"version": "v2.2", "prompt": "x", "image_url": value}


def frames(items: list[Any]) -> tuple[str, dict[str, Any]]:
    return "keyframes", {"version": "v2.2", "prompt": "x", "image_urls": items}


def refused(client: RawPage, fakefal: FakeFal, call: tuple[str, dict[str, Any]],
            label: str) -> None:
    fakefal.reset()
    api_name, values = call
    ok, message = client.call(api_name, **values)
    assert not ok
    assert label in message and "upload" in message, message
    assert fakefal.records == []  # not one request reached fal


Shape = Callable[[RawPage, Path], tuple[str, dict[str, Any]]]
SHAPES: dict[str, tuple[Shape, str]] = {
    "image without meta": (lambda c, p: i2v(plain(p)), "First frame"),
    "image with meta": (lambda c, p: i2v(with_meta(p)), "First frame"),
    "image as a bare path": (lambda c, p: i2v(str(p)), "First frame"),
    "gallery item {image: {path}}": (
        lambda c, p: frames([{"image": c.upload(IMAGES[0]), "caption": None},
                             {"image": plain(p), "caption": None}]), "Keyframes"),
    "gallery item as a path string": (
        lambda c, p: frames([str(IMAGES[0]), str(p)]), "Keyframes"),
    "gallery item with meta": (
        lambda c, p: frames([{"image": with_meta(p), "caption": None},
                             {"image": c.upload(IMAGES[0]), "caption": None}]), "Keyframes"),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_server_image_is_refused(client: RawPage, fakefal: FakeFal, secret: Path,
                                   shape: str) -> None:
    build, label = SHAPES[shape]
    refused(client, fakefal, build(client, secret), label)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_another_jobs_input_in_the_store_is_refused(client: RawPage, fakefal: FakeFal,
                                                    stored: dict[str, Path], shape: str) -> None:
    build, label = SHAPES[shape]
    refused(client, fakefal, build(client, stored["input"]), label)


def test_a_symlink_in_the_upload_folder_is_followed_and_refused(
        app: RunningApp, client: RawPage, fakefal: FakeFal, secret: Path) -> None:
    link = app.data_dir / "gradio-tmp" / "innocent.jpg"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(secret)
    refused(client, fakefal, i2v(plain(link)), "First frame")


@pytest.mark.parametrize("value", [plain, with_meta, str], ids=["plain", "meta", "bare"])
def test_a_stored_video_is_refused(client: RawPage, fakefal: FakeFal, stored: dict[str, Path],
                                   value: Callable[[Path], Any]) -> None:
    # A result of this server, which Gradio itself serves: still not an upload.
    refused(client, fakefal, additions(client, value(stored["video"])), "Video")


def test_a_server_video_is_refused(client: RawPage, fakefal: FakeFal, tmp_path: Path) -> None:
    elsewhere = tmp_path / "clip.mp4"
    elsewhere.write_bytes(VIDEO.read_bytes())
    refused(client, fakefal, additions(client, plain(elsewhere)), "Video")


def additions(client: RawPage, video: Any) -> tuple[str, dict[str, Any]]:
    return "additions", {"version": "v2", "video_url": video, "image_url": client.upload(IMAGE)}


def test_uploads_and_presets_still_work(client: RawPage, fakefal: FakeFal) -> None:
    for call in (i2v(client.upload(IMAGE)),
                 # The presets the app ships, named by path.
                 i2v(plain(IMAGE)),
                 frames([{"image": plain(IMAGES[0]), "caption": None},
                         {"image": client.upload(IMAGES[1]), "caption": None}])):
        ok, outputs = client.call(call[0], **call[1])
        assert ok and "Done" in outputs[1], outputs
    assert fakefal.count("submit") == 3
