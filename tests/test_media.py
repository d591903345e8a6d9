"""Inputs made fit to send: orientation, scale, size, and the same picture twice at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

from playground.media import MAX_UPLOAD_BYTES, prepare_image
from tests.builders import phone_photo


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
