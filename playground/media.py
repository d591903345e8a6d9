"""Inputs made fit to send: images oriented, scaled and re-encoded; videos checked.

Everything here runs in worker threads, one file each, so keyframes and
ingredients are prepared side by side. A bad file raises InputError naming
the field, before anything is uploaded or paid for; a file that would cost
too much to decode is refused from its header, before it is decoded.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from playground.errors import InputError

MAX_SIDE_FOR_RESOLUTION = {"480p": 854, "720p": 1280, "1080p": 1920}
DEFAULT_MAX_SIDE = 1280  # endpoints without a resolution field render at 720p
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MIN_SIDE = 64
# Images are judged by the pixels they decode to, read from the header. A JPEG decodes at
# 1/2 to 1/8 scale (draft()), so a 48-MP photo peaks at 24 MB: 48-MP phones (8000x6000) and
# 50-MP ones (8160x6120) fit. Everything else is decoded whole, peaking at 5 to 16 bytes a
# pixel (measured: RGB PNG 5.5, RGBA PNG 9.4, WebP 15.5), and so is a progressive JPEG
# (libjpeg holds every coefficient of the picture until its last scan). 16.8 MP for those:
# a 5K screenshot (5120x2880, 14.7 MP) fits, and peaks at 138 MB.
JPEG_MAX_PIXELS = 50_000_000
WHOLE_MAX_PIXELS = 4096 * 4096
# A file may claim at most this many pixels per byte of itself. Ours in presets/media reach
# 29 to 36 (smooth pictures, heavily compressed: 27x below the limit), a phone photo 3 to 7,
# a 5K screenshot of text 47, a JPEG of one flat colour 64, a PNG of plain white 280 (the
# closest, 3.5x below). A 1-bit PNG bomb reaches 8,000. Below RATIO_FREE_PIXELS a decode is
# cheap whatever the file's size, so small flat pictures (a plain black frame, a logo) are
# never refused for it.
MAX_PIXELS_PER_BYTE = 1000
RATIO_FREE_PIXELS = 4_000_000
VIDEO_MAX_SIDE = 4096
VIDEO_MIN_SECONDS = 1.0
VIDEO_MAX_SECONDS = 30.0
VIDEO_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi"}

Image.MAX_IMAGE_PIXELS = None  # we refuse big images ourselves, with a message a person reads

# Decoding is bound by CPU and memory: more decodes at once than cores finish no sooner and
# only hold more whole pictures in memory. Jobs call prepare_image from worker threads, and
# past this many they wait here, holding nothing.
_DECODING = threading.BoundedSemaphore(os.cpu_count() or 1)


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
        with Image.open(path) as image:
            _judge(image, path.stat().st_size, field)  # from the header: nothing decoded yet
            with _DECODING:
                decoded = _decode(image, max_side)
                decoded = _flatten(decoded)
                if max(decoded.size) > max_side:
                    decoded.thumbnail((max_side, max_side), Image.Resampling.LANCZOS,
                                      reducing_gap=2.0)
                data = _encode(decoded)
    except InputError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(field, "this file is not an image we can read (it may be corrupt or "
                                "renamed). Upload a JPEG, PNG or WebP.") from exc
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{hashlib.sha256(data).hexdigest()[:20]}.jpg"
    if not out.exists():
        # A name of its own per call: the same picture twice in one gallery is prepared by
        # two threads at once, and each must finish its own file before the rename.
        fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, out)
    return PreparedImage(out, decoded.width, decoded.height, len(data))


def _judge(image: ImageFile.ImageFile, size_bytes: int, field: str) -> None:
    """Refuses, from the header alone, an image that would cost too much to decode."""
    width, height = image.size
    pixels = width * height
    shape = f"{width}x{height} ({pixels / 1e6:.3g} megapixels)"
    if min(width, height) < MIN_SIDE:
        raise InputError(field, f"the image is only {width}x{height}; use one at least "
                                f"{MIN_SIDE} pixels on each side.")
    if pixels > max(RATIO_FREE_PIXELS, MAX_PIXELS_PER_BYTE * size_bytes):
        raise InputError(field, f"the image is {shape} in a file of only "
                                f"{_amount(size_bytes)}, far less than any real picture that "
                                "size takes (it may be damaged, or made to exhaust memory). "
                                "Save it as a JPEG, or scale it below "
                                f"{RATIO_FREE_PIXELS / 1e6:.3g} megapixels, and upload it "
                                "again.")
    kind = _kind(image)
    if kind == "JPEG" and pixels > JPEG_MAX_PIXELS:
        raise InputError(field, f"the image is {shape}; the limit is "
                                f"{JPEG_MAX_PIXELS / 1e6:.3g}. Scale it down and upload it "
                                "again.")
    if kind != "JPEG" and pixels > WHOLE_MAX_PIXELS:
        raise InputError(field, f"the image is {shape}; a {kind} is decoded whole, so the "
                                f"limit for it is {WHOLE_MAX_PIXELS / 1e6:.3g} megapixels "
                                f"({JPEG_MAX_PIXELS / 1e6:.3g} for an ordinary JPEG). Scale "
                                "it down, or save it as a JPEG, and upload it again.")


def _kind(image: ImageFile.ImageFile) -> str:
    """The image's format, as the limits tell them apart (MPO is a phone's JPEG)."""
    if image.format in ("JPEG", "MPO"):
        return "progressive JPEG" if image.info.get("progressive") else "JPEG"
    return image.format or "picture"


def _amount(size_bytes: int) -> str:
    if size_bytes < 1024:
        return f"{size_bytes} bytes"
    if size_bytes < 1024**2:
        return f"{size_bytes / 1024:.0f} KB"
    return f"{size_bytes / 1024**2:.1f} MB"


def _decode(image: ImageFile.ImageFile, max_side: int) -> Image.Image:
    # JPEG can decode straight at 1/2, 1/4 or 1/8 scale: most of the speed is here.
    # draft() keeps both sides at least the size asked, so ask for the scaled shape.
    width, height = image.size
    scale = min(max_side / max(width, height), 1.0)
    image.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
    image.load()
    # In place: a turned copy would hold a second whole picture for a moment.
    ImageOps.exif_transpose(image, in_place=True)
    return image


def _flatten(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image if image.mode == "RGBA" else image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba)  # an RGBA mask is its alpha band, without a copy of it
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
        # Opening a file reads its first packets to learn the streams, and unless told to skip
        # them decodes frames on the way: an 8192x8192 clip of 31 KB cost 158 MB and 0.27 s
        # that way, 4 MB and 3 ms skipping. Width, height and duration come from the headers.
        with av.open(str(path), options={"skip_frame": "all"}) as container:
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
    if max(info.width, info.height) > VIDEO_MAX_SIDE:
        raise InputError(field, f"the video is {info.width}x{info.height}; the limit is "
                                f"{VIDEO_MAX_SIDE} pixels on each side. Scale it down and "
                                "upload it again.")
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
