"""Small real MP4s for results: right size and length, 4 fps, solid colours."""

from __future__ import annotations

import functools
import io
from fractions import Fraction

import av
import numpy as np

FPS = 4


@functools.lru_cache(maxsize=64)
def mp4(width: int, height: int, seconds: float) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "40"}
        for index in range(max(round(seconds * FPS), 1)):
            shade = np.full((height, width, 3), (index * 37 % 255, 90, 200 - index * 11 % 200),
                            dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(shade, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()
