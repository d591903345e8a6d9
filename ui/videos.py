"""Result videos reach a page by an opaque name, never by a path on this server.

Gradio names a file by its server path (`/gradio_api/file=/srv/app/data/videos/<job>.mp4`),
or copies it into its cache and names that path: either way every visitor would learn where
the data lives. Our results go out as `videos/<job id>.mp4` instead, a name relative to
nothing on the machine; the page plays `/gradio_api/file=videos/<job id>.mp4`, and
gradio_client downloads from the same URL (it builds it from the name). A middleware hands
that request to Gradio's own file route with the real path, so the login check, Range
requests and the content type stay Gradio's, and nothing is copied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import gradio as gr
from gradio.route_utils import API_PREFIX
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

# Job ids are 16 hex characters of a uuid4: nothing else is ever looked up.
_ROUTE = re.compile(rf"(?P<root>.*){API_PREFIX}/file=videos/(?P<job>[0-9a-f]{{16}})\.mp4")


@dataclass(frozen=True)
class Video:
    """A job's result video as an output value: its file name in the store's videos folder."""

    name: str

    @classmethod
    def of(cls, path: str | Path | None) -> Video | None:
        return cls(Path(path).name) if path else None

    def file_data(self) -> dict[str, Any]:
        path = f"videos/{self.name}"
        return gr.FileData(path=path, url=f"{API_PREFIX}/file={path}", orig_name=self.name,
                           mime_type="video/mp4").model_dump()


def send_by_name(demo: gr.Blocks) -> None:
    """Outputs given as `Video` reach the page as `Video.file_data()`. Gradio would otherwise
    look for `videos/<name>` on disk, to serve or copy it; the others are left to Gradio."""
    original = demo.postprocess_data

    async def postprocess_data(block_fn: Any, predictions: Any, state: Any) -> list[Any]:
        if not isinstance(predictions, list | tuple) or not any(
                isinstance(v, Video) for v in predictions):
            return await original(block_fn, predictions, state)
        videos = {i: v for i, v in enumerate(predictions) if isinstance(v, Video)}
        rest = [None if i in videos else v for i, v in enumerate(predictions)]
        output = await original(block_fn, rest, state)
        for i, video in videos.items():
            output[i] = video.file_data()
        return output

    demo.postprocess_data = postprocess_data  # type: ignore[method-assign]


class _ByName:
    """Rewrites `/gradio_api/file=videos/<job id>.mp4` to Gradio's file route for that file."""

    def __init__(self, app: ASGIApp, videos: Path) -> None:
        self.app = app
        self.videos = videos.resolve()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _ROUTE.fullmatch(scope["path"]) if scope["type"] == "http" else None
        if match:
            file = self.videos / f"{match['job']}.mp4"
            if not file.is_file():  # Gradio's own answer would name the path it looked for
                await PlainTextResponse("No such video.", status_code=404)(scope, receive, send)
                return
            path = f"{match['root']}{API_PREFIX}/file={file}"
            scope = {**scope, "path": path, "raw_path": quote(path).encode()}
        await self.app(scope, receive, send)


def by_name(videos: Path) -> Middleware:
    """For `launch(app_kwargs={"middleware": [...]})`: Gradio builds its app at launch."""
    return Middleware(_ByName, videos=videos)
