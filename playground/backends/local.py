"""The offline demo: the same job life as fal, ending in a locally rendered preview MP4.

Used when no fal key is at hand, so the whole page (forms, queue, logs,
history) can be tried without spending anything. The preview says plainly
that it is not Pika's output.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playground.backends import Submission
from playground.catalog import Endpoint
from playground.errors import FalError
from playground.events import Queued, Running

SHORT_SIDE = {"480p": 480, "720p": 720, "1080p": 1080}


def output_size(arguments: dict[str, Any]) -> tuple[int, int]:
    """Width and height for a resolution and aspect ratio (16:9 and 720p when not asked)."""
    short = SHORT_SIDE[arguments.get("resolution", "720p")]
    w, h = (int(x) for x in arguments.get("aspect_ratio", "16:9").split(":"))
    long = round(short * max(w, h) / min(w, h) / 2) * 2
    return (long, short) if w >= h else (short, long)


def output_seconds(arguments: dict[str, Any]) -> int:
    if "image_urls" in arguments and "ingredients_mode" not in arguments:  # keyframes
        transitions = arguments.get("transitions")
        if transitions:
            return sum(t["duration"] for t in transitions)
        return 5 * (len(arguments["image_urls"]) - 1)
    return int(arguments.get("duration", 5))


@dataclass
class _LocalJob:
    endpoint: Endpoint
    arguments: dict[str, Any]
    output: Path | None = None
    started: bool = False
    cancelled: bool = False


class LocalBackend:
    name = "local"

    def __init__(self, work_dir: Path, *, queue_seconds: float = 0.3) -> None:
        self._dir = work_dir
        self._queue_seconds = queue_seconds
        self._jobs: dict[str, _LocalJob] = {}

    async def upload(self, path: Path) -> str:
        return str(path)  # nothing leaves the machine

    async def submit(self, endpoint: Endpoint, arguments: dict[str, Any]) -> Submission:
        request_id = f"local-{uuid.uuid4().hex[:12]}"
        self._jobs[request_id] = _LocalJob(endpoint, arguments)
        return Submission(request_id, "", "", "")

    async def follow(self, sub: Submission, *, endpoint: str = "local") -> AsyncIterator[
            Queued | Running]:
        from playground.preview import render_preview  # PyAV loads only when a preview runs

        job = self._jobs[sub.request_id]
        yield Queued(sub.request_id, 0)
        await asyncio.sleep(self._queue_seconds)
        if job.cancelled:
            raise FalError("Cancelled before the preview started.")
        job.started = True
        args = job.arguments
        width, height = output_size(args)
        seconds = output_seconds(args)
        yield Running((f"Local preview: {width}x{height}, {seconds} s (no fal key, so no Pika).",))
        images = [Path(p) for p in itertools.chain(
            args.get("image_urls", []), [args["image_url"]] if "image_url" in args else [])]
        lines = [f"{k}: {v}" for k, v in args.items()
                 if k not in ("image_url", "image_urls", "video_url", "transitions") and v != ""]
        out = self._dir / f"{sub.request_id}.mp4"
        self._dir.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(
            render_preview, out, width=width, height=height, seconds=seconds, images=images,
            video=Path(args["video_url"]) if "video_url" in args else None,
            title=f"{job.endpoint.title} ({job.endpoint.mode})", lines=lines,
        )
        job.output = out
        yield Running(("Rendered.",))

    async def result_url(self, sub: Submission, *, endpoint: str = "local") -> str:
        output = self._jobs[sub.request_id].output
        assert output is not None, "result asked before the preview finished"
        return str(output)

    async def fetch(self, url: str, dest: Path) -> None:
        Path(url).replace(dest)
        self._jobs = {k: v for k, v in self._jobs.items() if v.output != Path(url)}

    async def cancel(self, sub: Submission) -> bool:
        job = self._jobs.get(sub.request_id)
        if job is None or job.started:
            return False
        job.cancelled = True
        return True

    async def aclose(self) -> None:
        pass  # nothing held open: previews are rendered in worker threads
