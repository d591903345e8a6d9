"""Hostile media: files made to cost memory and CPU are refused from their headers, for free.

Each attack goes through the app's public API against the fake fal cloud, which records
every request: a refusal names the field and sends nothing. Unit tests below prove the
refusals come before any decoding.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image, ImageFile

from playground import media
from playground.errors import InputError
from playground.media import prepare_image
from tests.apprunner import RunningApp
from tests.builders import IMAGE, gallery
from tests.fakefal import FakeFal
from tests.reliability import bad_files


@pytest.fixture(scope="module")
def client(app: RunningApp) -> Client:
    return Client(app.url, verbose=False)


def refusal(client: Client, api: str, **form: Any) -> str:
    with pytest.raises(AppError) as err:
        client.predict(**form, api_name=api)
    return str(err.value)


def first_frame(client: Client, path: Path) -> str:
    return refusal(client, "/image_to_video", version="v2.2", prompt="x",
                   image_url=handle_file(str(path)))


def added_to(client: Client, video: Path) -> str:
    return refusal(client, "/additions", version="v2", video_url=handle_file(str(video)),
                   image_url=handle_file(str(IMAGE)))


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field}")


# -- through the app -------------------------------------------------------------------------


def test_a_png_bomb_is_refused(client: Client, fakefal: FakeFal, tmp_path: Path) -> None:
    message = first_frame(client, bad_files.png_bomb(tmp_path / "bomb.png"))
    assert "First frame: the image is 7000x7000 (49 megapixels) in a file of only 6 KB" in message
    assert fakefal.records == []


def test_five_png_bombs_in_one_run_cost_no_memory(app: RunningApp, client: Client,
                                                  fakefal: FakeFal, tmp_path: Path) -> None:
    bombs = [bad_files.png_bomb(tmp_path / f"bomb-{i}.png", 7000, 7000 - i) for i in range(5)]
    pid = app.process.pid
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM from here on (proc(5))
    before = status_kib(pid, "VmRSS")
    message = refusal(client, "/keyframes", version="v2.2", prompt="x",
                      image_urls=gallery(bombs))
    assert "Keyframes: the image is 7000x" in message
    # Decoded, one bomb took 250 MB at its peak and five 1.3 GB (measured on the old code).
    assert status_kib(pid, "VmHWM") - before < 64 * 1024
    assert fakefal.records == []


def test_a_picture_too_big_to_decode_whole(client: Client, fakefal: FakeFal,
                                           tmp_path: Path) -> None:
    # 17.6 MP, 2.2 MB: an honest file, but a PNG is decoded whole.
    message = first_frame(client, bad_files.stored_png(tmp_path / "big.png", 4200, 4200))
    assert "the image is 4200x4200 (17.6 megapixels); a PNG is decoded whole" in message
    assert "Scale it down, or save it as a JPEG" in message
    assert fakefal.records == []


def test_a_progressive_jpeg_too_big_to_decode_whole(client: Client, fakefal: FakeFal,
                                                    tmp_path: Path) -> None:
    # libjpeg keeps all 18 MP of a progressive JPEG's coefficients, at whatever scale it decodes.
    path = bad_files.progressive_jpeg(tmp_path / "big.jpg", (5000, 3600))
    assert "a progressive JPEG is decoded whole" in first_frame(client, path)
    assert fakefal.records == []


@pytest.mark.parametrize("size", [(4112, 64), (64, 4112)], ids=["too wide", "too tall"])
def test_a_video_past_4096_pixels_a_side(client: Client, fakefal: FakeFal, tmp_path: Path,
                                         size: tuple[int, int]) -> None:
    video = bad_files.clip(tmp_path / "thin.mp4", frames=3, seconds_per_frame=0.6, size=size)
    message = added_to(client, video)
    assert f"Video: the video is {size[0]}x{size[1]}; the limit is 4096 pixels" in message
    assert fakefal.records == []


# -- refused before decoding ---------------------------------------------------------------


def test_a_png_bomb_is_refused_without_being_decoded(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decoding(*_: object) -> None:
        raise AssertionError("the bomb was decoded")

    bomb = bad_files.png_bomb(tmp_path / "bomb.png")
    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    monkeypatch.setattr(Image.Image, "load", no_decoding)
    with pytest.raises(InputError, match="in a file of only 6 KB") as err:
        prepare_image(bomb, field="image_url", max_side=1280, out_dir=tmp_path / "out")
    assert err.value.field == "image_url"
    assert not (tmp_path / "out").exists()


def test_many_images_at_once_are_decoded_one_per_core(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    cores = os.cpu_count() or 1
    src = tmp_path / "picture.png"
    Image.new("RGB", (300, 200), "teal").save(src)
    lock, inside, most = threading.Lock(), 0, 0
    entered, go_on = threading.Semaphore(0), threading.Event()
    decode = media._decode

    def held_decode(image: ImageFile.ImageFile, max_side: int) -> Image.Image:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        entered.release()
        go_on.wait(30)
        try:
            return decode(image, max_side)
        finally:
            with lock:
                inside -= 1

    monkeypatch.setattr(media, "_decode", held_decode)
    with ThreadPoolExecutor(cores + 2) as pool:
        runs = [pool.submit(prepare_image, src, field="image_urls", max_side=1280,
                            out_dir=tmp_path / "out") for _ in range(cores + 2)]
        for _ in range(cores):
            assert entered.acquire(timeout=30)
        # One decode in progress per core holds every slot: the other two wait for one.
        assert not media._DECODING.acquire(blocking=False)
        go_on.set()
        assert len({run.result(timeout=30).path for run in runs}) == 1
    assert most == cores
