"""Bad input costs nothing: a clear message naming the field, zero requests to fal.

Every case goes through the app's public API, as a script or a hurried
user would send it, against the fake fal cloud, which records every request.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client, handle_file

from tests.apprunner import RunningApp
from tests.builders import IMAGE, IMAGES, VIDEO, gallery
from tests.fakefal import FakeFal
from tests.reliability import bad_files

Case = tuple[str, str, Callable[[Path], dict[str, Any]], str]


def f(path: Path) -> Any:
    return handle_file(str(path))


def image(make: Callable[[Path], Path], name: str) -> Callable[[Path], Any]:
    return lambda tmp: f(make(tmp / name))


TEXT_PNG = image(bad_files.text_as, "photo.png")
EMPTY_PNG = image(bad_files.zero_bytes, "empty.png")
CUT_JPEG = image(lambda p: bad_files.truncated_jpeg(p, IMAGE), "cut.jpg")
HUGE_PNG = image(bad_files.huge_png_header, "huge.png")
TINY_PNG = image(bad_files.tiny_image, "tiny.png")
ONE_FRAME = image(lambda p: bad_files.clip(p, frames=1), "one.mp4")
TEN_MINUTES = image(lambda p: bad_files.clip(p, frames=4, seconds_per_frame=200), "long.mp4")
TEXT_MP4 = image(bad_files.text_as, "clip.mp4")
EMPTY_MP4 = image(bad_files.zero_bytes, "empty.mp4")

T2V, I2V, FRAMES, SCENES = "/text_to_video", "/image_to_video", "/keyframes", "/scenes"
FX, ADD, SWAP = "/effects", "/additions", "/swaps"


def t2v(**form: Any) -> Callable[[Path], dict[str, Any]]:
    return lambda tmp: {"version": "v2.2", "prompt": "a cat", **form}


def with_files(base: dict[str, Any], **files: Callable[[Path], Any]
               ) -> Callable[[Path], dict[str, Any]]:
    return lambda tmp: {**base, **{k: make(tmp) for k, make in files.items()}}


def frames(count: int, **form: Any) -> Callable[[Path], dict[str, Any]]:
    paths = (IMAGES * 2)[:count]
    return lambda tmp: {"version": "v2.2", "prompt": "trip", "image_urls": gallery(paths),
                        **form}


CASES: list[Case] = [
    # text to video
    ("empty prompt", T2V, t2v(prompt=""), "Prompt is required"),
    ("blank prompt", T2V, t2v(prompt="   \n "), "Prompt is required"),
    ("huge prompt", T2V, t2v(prompt="x" * 5000), "shorten it to 2000"),
    ("NUL in prompt", T2V, t2v(prompt="a\x00cat"), "control characters"),
    ("escape in prompt", T2V, t2v(prompt="\x1b[31mred"), "control characters"),
    ("bell in negative", T2V, t2v(negative_prompt="\x07"), "Negative prompt"),
    ("negative seed", T2V, t2v(seed="-1"), "Seed must be between"),
    ("huge seed", T2V, t2v(seed=str(2**40)), "Seed must be between"),
    ("fractional seed", T2V, t2v(seed="1.5"), "Seed must be a whole number"),
    ("word seed", T2V, t2v(seed="lucky"), "Seed must be a whole number"),
    ("unknown resolution", T2V, t2v(resolution="480p"), "Resolution must be one of"),
    ("unknown aspect ratio", T2V, t2v(aspect_ratio="21:9"), "aspect"),
    ("unknown duration", T2V, t2v(duration="7"), "Duration"),
    ("unknown version", T2V, t2v(version="v9"), "version"),
    ("aspect ratio on v2.5", T2V, t2v(version="v2.5", aspect_ratio="16:9"),
     "Aspect ratio is not a setting of Pika 2.5"),
    ("portrait on v2.5", T2V, t2v(version="v2.5", aspect_ratio="9:16"), "aspect ratio"),
    # image to video
    ("no first frame", I2V, lambda tmp: {"version": "v2.2", "prompt": "x", "image_url": None},
     "First frame is required"),
    ("text renamed .png", I2V, with_files({"version": "v2.2", "prompt": "x"},
                                          image_url=TEXT_PNG), "not an image"),
    ("zero-byte image", I2V, with_files({"version": "v2.2", "prompt": "x"},
                                        image_url=EMPTY_PNG), "empty"),
    ("truncated JPEG", I2V, with_files({"version": "v2.2", "prompt": "x"},
                                       image_url=CUT_JPEG), "not an image"),
    ("100-megapixel image", I2V, with_files({"version": "v2.5", "prompt": "x"},
                                            image_url=HUGE_PNG), "megapixels"),
    ("10-pixel image", I2V, with_files({"version": "v2 Turbo", "prompt": "x"},
                                       image_url=TINY_PNG), "at least 64 pixels"),
    ("image, no prompt", I2V, lambda tmp: {"version": "v2.1", "prompt": "",
                                           "image_url": f(IMAGE)}, "Prompt is required"),
    ("v2.2 i2v at 480p", I2V, lambda tmp: {"version": "v2.2", "prompt": "x", "image_url": f(IMAGE),
                                           "resolution": "480p"}, "Resolution must be one of"),
    # keyframes
    ("no keyframes", FRAMES, frames(0), "Keyframes is required"),
    ("one keyframe", FRAMES, frames(1), "add at least 2"),
    ("six keyframes", FRAMES, frames(6), "at most 5"),
    ("transitions over 25 s", FRAMES,
     frames(3, transition_1_seconds=20, transition_2_seconds=6), "limit is 25 s"),
    ("zero-second transition", FRAMES, frames(2, transition_1_seconds=0), "between 1 and 25"),
    ("word transition length", FRAMES, frames(2, transition_1_seconds="long"), "whole number"),
    ("control char in transition", FRAMES, frames(2, transition_1_prompt="go\x1b"),
     "control characters"),
    ("corrupt keyframe", FRAMES, lambda tmp: {
        "version": "v2.2", "prompt": "x",
        "image_urls": [{"image": f(IMAGE), "caption": None},
                       {"image": CUT_JPEG(tmp), "caption": None}]}, "not an image"),
    # scenes
    ("no ingredients", SCENES, lambda tmp: {"version": "v2.2", "prompt": "x", "image_urls": []},
     "Ingredients is required"),
    ("ingredients, no prompt", SCENES, lambda tmp: {
        "version": "v2.2", "prompt": "", "image_urls": gallery(IMAGES[:2])}, "Prompt is required"),
    ("unknown ingredients mode", SCENES, lambda tmp: {
        "version": "v2.2", "prompt": "x", "image_urls": gallery(IMAGES[:2]),
        "ingredients_mode": "wild"}, "Ingredients mode"),
    # effects
    ("effect without image", FX, lambda tmp: {"version": "v1.5", "image_url": None,
                                              "pikaffect": "Melt"}, "Image is required"),
    ("unknown Pikaffect", FX, lambda tmp: {"version": "v1.5", "image_url": f(IMAGE),
                                           "pikaffect": "Vaporize"}, "Pikaffect must be one of"),
    ("effect on a text file", FX, with_files({"version": "v1.5", "pikaffect": "Melt"},
                                             image_url=TEXT_PNG), "not an image"),
    # additions
    ("addition without video", ADD, lambda tmp: {"version": "v2", "video_url": None,
                                                 "image_url": f(IMAGE)}, "Video is required"),
    ("addition without image", ADD, lambda tmp: {"version": "v2", "video_url": f(VIDEO),
                                                 "image_url": None}, "Object to add is required"),
    ("one-frame video", ADD, with_files({"version": "v2", "image_url": f(IMAGE)},
                                        video_url=ONE_FRAME), "at least 1 s"),
    ("ten-minute video", ADD, with_files({"version": "v2", "image_url": f(IMAGE)},
                                         video_url=TEN_MINUTES), "the limit is 30 s"),
    ("text renamed .mp4", ADD, with_files({"version": "v2", "image_url": f(IMAGE)},
                                          video_url=TEXT_MP4), "not a video"),
    ("zero-byte video", ADD, with_files({"version": "v2", "image_url": f(IMAGE)},
                                        video_url=EMPTY_MP4), "empty"),
    # swaps
    ("swap without video", SWAP, lambda tmp: {"version": "v2", "video_url": None,
                                              "image_url": None}, "Video is required"),
    ("huge region text", SWAP, lambda tmp: {"version": "v2", "video_url": f(VIDEO),
                                            "image_url": None, "modify_region": "x" * 600},
     "shorten it to 500"),
    ("control char in region", SWAP, lambda tmp: {"version": "v2", "video_url": f(VIDEO),
                                                  "image_url": None,
                                                  "modify_region": "the\x7f car"},
     "control characters"),
    ("swap image is a text file", SWAP, with_files({"version": "v2", "video_url": f(VIDEO)},
                                                   image_url=TEXT_PNG), "not an image"),
]


@pytest.fixture(scope="module")
def client(app: RunningApp) -> Client:
    return Client(app.url, verbose=False)


@pytest.mark.parametrize(("name", "api", "build", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_for_free(client: Client, fakefal: FakeFal, tmp_path: Path, name,
                                       api, build, message) -> None:
    with pytest.raises(Exception) as err:
        client.predict(**build(tmp_path), api_name=api)
    assert message.lower() in str(err.value).lower(), str(err.value)
    assert fakefal.records == []  # not one request reached fal


def test_still_healthy_after_all_that(app: RunningApp, client: Client, fakefal: FakeFal) -> None:
    assert len(CASES) >= 40
    assert httpx.get(app.url, trust_env=False).status_code == 200
    status, *_ = client.predict(version="v2.2", prompt="fine again", api_name=T2V)
    assert "Done" in status and fakefal.count("submit") == 1


def test_each_refusal_is_one_log_line_and_no_traceback(app: RunningApp) -> None:
    log = app.output()
    assert log.count("INFO ui.modes: refused input: ") == len(CASES)
    assert "Traceback" not in log
