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
from gradio.utils import get_upload_folder
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from playground.history import JobRecord
from playground.identity import Identity, digest, may_see
from playground.service import Playground
from ui.identity import cookie_of

# Job ids are 16 hex characters of a uuid4, share tokens 32 URL-safe ones: nothing else is
# ever looked up.
_ROUTE = re.compile(rf"(?P<root>.*){API_PREFIX}/file=(?P<kind>videos|shared)/"
                    rf"(?P<name>[A-Za-z0-9_-]{{16,64}})\.mp4")
_JOB_ID = re.compile(r"[0-9a-f]{16}")
_ANY_FILE = re.compile(rf".*{API_PREFIX}/file[=/](?P<path>.*)")


@dataclass(frozen=True)
class Video:
    """A job's result video as an output value: its name in the store's videos folder, or
    its share token's name for a shared one."""

    name: str
    folder: str = "videos"

    @classmethod
    def of(cls, path: str | Path | None) -> Video | None:
        return cls(Path(path).name) if path else None

    @classmethod
    def shared(cls, token: str) -> Video:
        return cls(f"{token}.mp4", "shared")

    def file_data(self) -> dict[str, Any]:
        path = f"{self.folder}/{self.name}"
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
    """Rewrites `/gradio_api/file=videos/<job id>.mp4` to Gradio's file route for that file,
    for the job's owner only (or a team that shares its history), and
    `/gradio_api/file=shared/<token>.mp4` for anyone holding a live share token. The store
    itself is never served by path: whoever guessed one would bypass both."""

    def __init__(self, app: ASGIApp, playground: Playground) -> None:
        self.app = app
        self.playground = playground
        self.data_dir = playground.settings.data_dir.resolve()
        # Gradio's upload folder may be inside the data directory (GRADIO_TEMP_DIR): the
        # page plays uploads from it, and Gradio guards it.
        self.uploads = Path(get_upload_folder()).resolve()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        match = _ROUTE.fullmatch(scope["path"])
        if match:
            found = self._file(match["kind"], match["name"], scope)
            if found is None:  # nobody learns whether the job exists
                await PlainTextResponse("No such video.", status_code=404)(scope, receive, send)
                return
            file, record = found
            path = f"{match['root']}{API_PREFIX}/file={file}"
            scope = {**scope, "path": path, "raw_path": quote(path).encode()}
            send = _named(send, download_name(record.endpoint, record.seed))
        elif self._in_store(scope["path"]):
            await PlainTextResponse("No such file.", status_code=404)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _file(self, kind: str, name: str, scope: Scope) -> tuple[Path, JobRecord] | None:
        history = self.playground.history
        if kind == "shared":
            record, _revoked = history.shared(name)
        else:
            record = history.get(name) if _JOB_ID.fullmatch(name) else None
            cookie = dict(scope["headers"]).get(b"cookie", b"").decode("latin-1")
            browser = cookie_of(cookie)
            viewer = history.bound(digest(browser)) if browser else None
            if record and not (viewer and may_see(Identity(viewer), record.owner,
                                                  team=self.playground.settings.team_history)):
                record = None
        if record is None or not record.video:
            return None
        file = self.data_dir / record.video
        return (file, record) if file.is_file() else None

    def _in_store(self, route: str) -> bool:
        named = file_route_path(route)
        if named is None:
            return False
        try:
            path = Path(named).resolve()
            return path.is_relative_to(self.data_dir) and not path.is_relative_to(self.uploads)
        except (OSError, ValueError):
            return True  # a path that cannot even be resolved is served by nobody


def file_route_path(route: str) -> str | None:
    """The file a request to Gradio's file route names, if it is one."""
    match = _ANY_FILE.fullmatch(route)
    return match["path"] if match else None


def video_src(job_id: str) -> str:
    """A job's video as a page asks for it, relative to the page: by job id, which the
    route serves to the job's owner (or a share link's holder) only."""
    return f"{API_PREFIX.lstrip('/')}/file=videos/{job_id}.mp4"


def download_name(endpoint_id: str, seed: int | None) -> str:
    """What a saved video is called: `pika-v2-2-text-to-video-seed-1234.mp4` for a job of
    fal-ai/pika/v2.2/text-to-video. Only its name: the URL keeps the job id, by which the
    route knows whose video it is."""
    model = re.sub(r"[^A-Za-z0-9]+", "-", endpoint_id.removeprefix("fal-ai/")).strip("-")
    return f"{model}-seed-{seed}.mp4" if seed is not None else f"{model}.mp4"


def _named(send: Send, filename: str) -> Send:
    """`send` with the file's name in its Content-Disposition, which browsers take over the
    page's download attribute (Gradio names the file as stored: the job id)."""

    async def send_named(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            kind = headers.get("content-disposition", "inline").split(";")[0]
            headers["content-disposition"] = f'{kind}; filename="{filename}"'
        await send(message)

    return send_named


def by_name(playground: Playground) -> Middleware:
    """For `launch(app_kwargs={"middleware": [...]})`: Gradio builds its app at launch."""
    return Middleware(_ByName, playground=playground)
