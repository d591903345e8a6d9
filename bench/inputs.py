"""Inputs: a 12-megapixel photo made fit to send, and keyframes uploaded side by side."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import fal_client
from gradio_client import Client
from PIL import Image, ImageOps

from bench.fake import Fake
from bench.table import Row
from playground.media import prepare_image
from tests.builders import IMAGES, gallery, phone_photo


def naive(src: Path, out: Path) -> None:
    image = ImageOps.exif_transpose(Image.open(src))
    image.thumbnail((1920, 1920), Image.Resampling.LANCZOS)
    image.convert("RGB").save(out, quality=95)


def prepare(work: Path, runs: int) -> list[Row]:
    src = phone_photo(work / "photo-12mp.jpg")
    ours, bare, size = [], [], 0
    for index in range(runs):
        began = time.perf_counter()
        size = prepare_image(src, field="image_url", max_side=1920,
                             out_dir=work / f"prepared-{index}").size_bytes
        ours.append(time.perf_counter() - began)
        began = time.perf_counter()
        naive(src, work / "naive.jpg")
        bare.append(time.perf_counter() - began)
    ms, bare_ms = statistics.median(ours) * 1000, statistics.median(bare) * 1000
    return [Row("inputs: 12-MP JPEG prepared (median)", ms, "ms", bare_ms, "<= 300 ms",
                ms <= 300),
            Row("inputs: 12-MP JPEG, bytes sent", size / 2**20, "MiB", None, "<= 2 MiB",
                size <= 2 * 2**20)]


def parallel_uploads(fake: Fake, url: str, delay: float) -> Row:
    fake.reset()
    fake.script(cdn_delay=delay)
    began = time.perf_counter()
    fal_client.upload_file(IMAGES[0])
    one = time.perf_counter() - began
    fake.reset()
    fake.script(cdn_delay=delay, queue_positions=0, run_time=0.2)
    images = (IMAGES * 2)[:5]
    client = Client(url, verbose=False)
    began = time.time()
    client.predict(version="v2.2", image_urls=gallery(images), prompt="five keyframes",
                   api_name="/keyframes")
    submitted = fake.requests("submit")[0]["time"]
    uploads = len(fake.requests("upload"))
    assert uploads == 5, uploads
    spent = submitted - began
    return Row("inputs: 5 keyframes prepared+uploaded (CDN +0.5 s each)", spent, "s",
               one * 5, "< 2 x one upload", spent < 2 * one)
