"""Test inputs: real files, and the form each mode's API takes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gradio_client import handle_file
from PIL import Image, ImageDraw

from tests.apprunner import ROOT

MEDIA = ROOT / "presets" / "media"
IMAGE = MEDIA / "sailboat.jpg"
IMAGES = [MEDIA / "dawn-hills.jpg", MEDIA / "sailboat.jpg", MEDIA / "night-city.jpg"]
VIDEO = MEDIA / "street.mp4"


def phone_photo(path: Path) -> Path:
    """4000x3000 of noise (JPEG's worst case) with the EXIF 'rotate 90' phones write."""
    pixels = np.random.default_rng(1).integers(0, 255, (3000, 4000, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(pixels).save(path, quality=92, exif=exif)
    return path


def screenshot(path: Path, size: tuple[int, int] = (5120, 2880)) -> Path:
    """A big PNG as a 5K screen makes one: flat panels, lines of text, an alpha channel."""
    image = Image.new("RGBA", size, (248, 248, 250, 255))
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.rectangle((width // 2, height // 4, width - 40, height - 40), fill=(60, 110, 200, 255))
    for y in range(0, height, 24):
        draw.text((20 + y * 7 % 300, y), "def prepare_image(src, *, field, max_side): " * 6,
                  fill=(30, 30, 30, 255))
    image.save(path)
    return path


def gallery(paths: list[Path]) -> list[dict[str, Any]]:
    return [{"image": handle_file(str(p)), "caption": None} for p in paths]


# One job per endpoint, as a user of the API sends it: (mode, version, form, expected size, s).
JOBS: list[tuple[str, str, dict[str, Any], tuple[int, int], float]] = [
    ("text-to-video", "v2.5", {"prompt": "a red fox in snow", "resolution": "480p",
                               "duration": "5"}, (854, 480), 5),
    ("text-to-video", "v2.2", {"prompt": "a red fox in snow", "aspect_ratio": "9:16",
                               "duration": "10"}, (720, 1280), 10),
    ("text-to-video", "v2.1", {"prompt": "a red fox in snow", "aspect_ratio": "1:1"},
     (720, 720), 5),
    ("text-to-video", "v2 Turbo", {"prompt": "a red fox in snow", "resolution": "1080p"},
     (1920, 1080), 5),
    ("image-to-video", "v2.5", {"image_url": "IMAGE", "prompt": "waves"}, (1280, 720), 5),
    ("image-to-video", "v2.2", {"image_url": "IMAGE", "prompt": "waves", "duration": "10"},
     (1280, 720), 10),
    ("image-to-video", "v2.1", {"image_url": "IMAGE", "prompt": "waves"}, (1280, 720), 5),
    ("image-to-video", "v2 Turbo", {"image_url": "IMAGE", "prompt": "waves"}, (1280, 720), 5),
    ("keyframes", "v2.2", {"image_urls": "IMAGES", "prompt": "a journey",
                           "transition_1_prompt": "rise", "transition_1_seconds": 3,
                           "transition_2_seconds": 4}, (1280, 720), 7),
    ("scenes", "v2.2", {"image_urls": "IMAGES2", "prompt": "together", "aspect_ratio": "4:5"},
     (1080, 1350), 5),
    ("effects", "v1.5", {"image_url": "IMAGE", "pikaffect": "Melt"}, (1280, 720), 5),
    ("additions", "v2", {"video_url": "VIDEO", "image_url": "IMAGE", "prompt": "a boat"},
     (1280, 720), 5),
    ("swaps", "v2", {"video_url": "VIDEO", "modify_region": "the tower",
                     "image_url": "IMAGE"}, (1280, 720), 5),
]


def api_form(form: dict[str, Any]) -> dict[str, Any]:
    """Placeholders -> files the API client uploads."""
    files = {"IMAGE": lambda: handle_file(str(IMAGE)), "IMAGES": lambda: gallery(IMAGES),
             "IMAGES2": lambda: gallery(IMAGES[:2]),
             "VIDEO": lambda: handle_file(str(VIDEO))}
    return {k: files[v]() if isinstance(v, str) and v in files else v for k, v in form.items()}


def api_name(mode: str) -> str:
    return "/" + mode.replace("-", "_")
