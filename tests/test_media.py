"""Inputs made fit to send: orientation, scale, size, and the same picture twice at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

from playground.media import MAX_UPLOAD_BYTES, prepare_image
from tests.builders import phone_photo, screenshot


def test_a_12_megapixel_photo_is_turned_upright_scaled_and_small(tmp_path: Path) -> None:
    prepared = prepare_image(phone_photo(tmp_path / "photo.jpg"), field="image_url",
                             max_side=1920, out_dir=tmp_path / "out")
    assert (prepared.width, prepared.height) == (1440, 1920)  # portrait, as the phone held it
    assert prepared.size_bytes == prepared.path.stat().st_size <= MAX_UPLOAD_BYTES
    with Image.open(prepared.path) as image:
        assert image.size == (1440, 1920) and image.format == "JPEG"
        assert image.getexif().get(0x0112) is None  # nothing left to rotate it twice


def test_the_same_picture_prepared_by_many_threads_at_once(tmp_path: Path) -> None:
    # A gallery holding one picture twice: its copies are prepared side by side.
    src = tmp_path / "same.png"
    Image.new("RGB", (900, 600), (200, 40, 90)).save(src)
    for attempt in range(20):  # a race: give it many chances to show
        out_dir = tmp_path / f"out-{attempt}"
        start = threading.Barrier(8)

        def prepare(_: int, out_dir: Path = out_dir, start: threading.Barrier = start) -> Path:
            start.wait()
            return prepare_image(src, field="image_urls", max_side=1280, out_dir=out_dir).path

        with ThreadPoolExecutor(8) as pool:
            paths = set(pool.map(prepare, range(8)))
        assert len(paths) == 1 and next(iter(paths)).stat().st_size > 0
        assert not list(out_dir.glob("*.tmp"))


def test_the_biggest_honest_pictures_pass_the_limits(tmp_path: Path) -> None:
    # Each the closest real case to a limit: a 50-MP phone's photo of one flat colour (a
    # JPEG's most pixels per byte), a 5K screenshot (decoded whole), and a plain 1080p frame
    # in lossless WebP (21,000 pixels a byte, but too small to cost anything).
    Image.new("RGB", (8160, 6120), (70, 80, 90)).save(tmp_path / "50mp.jpg", quality=92)
    Image.new("RGB", (1920, 1080), "black").save(tmp_path / "black.webp", lossless=True)
    pictures = {"50mp.jpg": (1920, 1440), "black.webp": (1920, 1080),
                screenshot(tmp_path / "5k.png").name: (1920, 1080)}
    for name, size in pictures.items():
        prepared = prepare_image(tmp_path / name, field="image_url", max_side=1920,
                                 out_dir=tmp_path / "out")
        assert (prepared.width, prepared.height) == size, name
