"""Inputs made fit to send: images oriented, scaled and re-encoded; videos checked.

Everything here runs in worker threads, one file each, so keyframes and
ingredients are prepared side by side. A bad file raises InputError naming
the field, before anything is uploaded or paid for.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from playground.errors import InputError

MAX_SIDE_FOR_RESOLUTION = {"480p": 854, "720p": 1280, "1080p": 1920}
DEFAULT_MAX_SIDE = 1280  # endpoints without a resolution field render at 720p
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_MEGAPIXELS = 50
MIN_SIDE = 64
VIDEO_MIN_SECONDS = 1.0
VIDEO_MAX_SECONDS = 30.0
VIDEO_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi"}

Image.MAX_IMAGE_PIXELS = None  # we refuse big images ourselves, with a message a person reads


@dataclass(frozen=True)
class PreparedImage:
    path: Path
    width: int
    height: int
    size_bytes: int
    content_type: str = "image/jpeg"


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    width: int
    height: int
    duration: float
    frames: int
    codec: str
    size_bytes: int


def _existing_file(src: str | os.PathLike[str], field: str, what: str) -> Path:
    path = Path(src)
    if not path.is_file():
        raise InputError(field, f"no {what} was uploaded (or the upload expired); add it again.")
    if path.stat().st_size == 0:
        raise InputError(field, f"the {what} file is empty (0 bytes); upload it again.")
    return path


def prepare_image(src: str | os.PathLike[str], *, field: str, max_side: int,
                  out_dir: Path) -> PreparedImage:
    path = _existing_file(src, field, "image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
            width, height = image.size  # read from the header: nothing decoded yet
            if width * height > MAX_MEGAPIXELS * 1_000_000:
                raise InputError(field, f"the image is {width}x{height} "
                                        f"({width * height / 1e6:.0f} megapixels); the limit is "
                                        f"{MAX_MEGAPIXELS}. Scale it down and upload it again.")
            # JPEG can decode straight at 1/2, 1/4 or 1/8 scale: most of the speed is here.
            # draft() keeps both sides at least the size asked, so ask for the scaled shape.
            scale = min(max_side / max(width, height), 1.0)
            image.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
            image = ImageOps.exif_transpose(image)
            image.load()
    except InputError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(field, "this file is not an image we can read (it may be corrupt or "
                                "renamed). Upload a JPEG, PNG or WebP.") from exc
    if min(image.size) < MIN_SIDE:
        raise InputError(field, f"the image is only {image.width}x{image.height}; use one at "
                                f"least {MIN_SIDE} pixels on each side.")
    image = _flatten(image)
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    data = _encode(image)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{hashlib.sha256(data).hexdigest()[:20]}.jpg"
    if not out.exists():
        # A name of its own per call: the same picture twice in one gallery is prepared by
        # two threads at once, and each must finish its own file before the rename.
        fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, out)
    return PreparedImage(out, image.width, image.height, len(data))


def _flatten(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB") if image.mode != "RGB" else image


def _encode(image: Image.Image) -> bytes:
    for quality in (90, 82, 74, 66, 58):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        if buffer.tell() <= MAX_UPLOAD_BYTES:
            return buffer.getvalue()
    image.thumbnail((image.width // 2, image.height // 2))
    return _encode(image)


def probe_video(src: str | os.PathLike[str], *, field: str) -> VideoInfo:
    """Checks an input video from its container metadata, without decoding it all."""
    import av  # PyAV loads only when a video is used

    path = _existing_file(src, field, "video")
    size = path.stat().st_size  # its limit is the job manager's, checked before this
    try:
        with av.open(str(path)) as container:
            streams = container.streams.video
            if not streams:
                raise InputError(field, "this file has no video track. Upload an MP4 or MOV.")
            if container.format.name.endswith("_pipe") or container.format.name == "image2":
                raise InputError(field, "this is a still image, not a video. Upload an MP4, "
                                        "MOV or WebM.")
            stream = streams[0]
            duration = _duration(container, stream)
            frames = stream.frames or _count_frames(container, stream, limit=2)
            info = VideoInfo(path, stream.codec_context.width, stream.codec_context.height,
                             duration, frames, stream.codec_context.name, size)
    except InputError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise InputError(field, "this file is not a video we can read (it may be corrupt or "
                                "renamed). Upload an MP4, MOV or WebM.") from exc
    if info.frames < 2 or info.duration < VIDEO_MIN_SECONDS:
        raise InputError(field, f"the video is {info.duration:.1f} s with {info.frames} "
                                f"frame(s); use one at least {VIDEO_MIN_SECONDS:.0f} s long.")
    if info.duration > VIDEO_MAX_SECONDS:
        raise InputError(field, f"the video is {info.duration:.0f} s long; the limit is "
                                f"{VIDEO_MAX_SECONDS:.0f} s. Trim it and upload it again.")
    if min(info.width, info.height) < MIN_SIDE:
        raise InputError(field, f"the video is only {info.width}x{info.height}; use one at "
                                f"least {MIN_SIDE} pixels on each side.")
    return info


def _duration(container: object, stream: object) -> float:
    if stream.duration is not None and stream.time_base is not None:  # type: ignore[attr-defined]
        return float(stream.duration * stream.time_base)  # type: ignore[attr-defined]
    if container.duration is not None:  # type: ignore[attr-defined]
        return container.duration / 1_000_000  # type: ignore[attr-defined]
    return 0.0


def _count_frames(container: object, stream: object, *, limit: int) -> int:
    count = 0
    for _ in container.demux(stream):  # type: ignore[attr-defined]
        count += 1
        if count >= limit:
            break
    return count


def describe_video(path: Path) -> tuple[int, int, float]:
    """Width, height and seconds of a finished video, for the page and the history."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return (stream.codec_context.width, stream.codec_context.height,
                round(_duration(container, stream), 3))
