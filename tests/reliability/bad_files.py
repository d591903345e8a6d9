"""Bad files, built small and fast: each one a way a real upload goes wrong."""

from __future__ import annotations

import struct
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image


def text_as(path: Path) -> Path:
    path.write_text("this is not media, whatever the name says\n")
    return path


def zero_bytes(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def truncated_jpeg(path: Path, source: Path) -> Path:
    path.write_bytes(source.read_bytes()[:600])
    return path


def tiny_image(path: Path) -> Path:
    Image.new("RGB", (10, 10), "red").save(path)
    return path


def huge_png_header(path: Path, width: int = 10_000, height: int = 10_000) -> Path:
    """A valid PNG that claims 100 megapixels: refused from its header, never decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + b"\x00" * 3 * width
    data = zlib.compress(row * 8)  # a few rows are enough: nobody should read further
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data)
                     + chunk(b"IEND", b""))
    return path


def png_bomb(path: Path, width: int = 7000, height: int = 7000) -> Path:
    """A complete, valid 1-bit PNG of one colour: 6 KB that decode to 49 megapixels."""
    Image.new("1", (width, height)).save(path)
    return path


def stored_png(path: Path, width: int, height: int) -> Path:
    """A 1-bit PNG stored uncompressed: its file is as big as it says, its picture too big."""
    Image.new("1", (width, height)).save(path, compress_level=0)
    return path


def progressive_jpeg(path: Path, size: tuple[int, int]) -> Path:
    """One flat colour, progressive: libjpeg keeps every coefficient of it while decoding."""
    Image.new("RGB", size, (90, 120, 160)).save(path, quality=90, progressive=True)
    return path


def clip(path: Path, *, frames: int, seconds_per_frame: float = 1 / 12,
         size: tuple[int, int] = (320, 180)) -> Path:
    """An H.264 clip; a long one is a few frames far apart, so it stays tiny."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        time_base = Fraction(1, 1000)
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(
                np.full((size[1], size[0], 3), index * 40 % 255, np.uint8), format="rgb24")
            frame.pts, frame.time_base = round(index * seconds_per_frame * 1000), time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path
