"""Uploaded files reach only the browsers they were handed to.

Gradio serves an upload to anyone holding its URL
(`/gradio_api/file=<upload folder>/<hash>/<name>`), and the hash is of the file's
content. A page shows its own uploads from there, and a Remix hands a job's inputs back
as such files. So the browser (by its cookie, ui/identity.py) each file went to is
noted, from the upload route's answer or by the Remix, and any other browser asking for
it hears 404. Files nobody was handed (Gradio's own copies) are left to Gradio.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.route_utils import API_PREFIX
from gradio.utils import get_upload_folder
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from playground.identity import digest
from playground.service import Playground
from ui.identity import cookie_of
from ui.videos import file_route_path


def _browser(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    browser = cookie_of(dict(headers).get(b"cookie", b"").decode("latin-1"))
    return digest(browser) if browser else None


def _resolved(path: str) -> str:
    return str(Path(path).resolve())


class _OwnUploads:
    def __init__(self, app: ASGIApp, playground: Playground) -> None:
        self.app = app
        self.history = playground.history
        self.folder = Path(get_upload_folder()).resolve()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        browser = _browser(scope["headers"])
        if scope["method"] == "POST" and scope["path"].endswith(f"{API_PREFIX}/upload"):
            await self.app(scope, receive, self._noting(send, browser))
            return
        path = file_route_path(scope["path"])
        if path is not None and self._held_by_others(path, browser):
            await PlainTextResponse("No such file.", status_code=404)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _noting(self, send: Send, browser: str | None) -> Send:
        """`send`, noting which files the upload route's answer hands this browser."""
        body: list[bytes] = []

        async def noting(message: Message) -> None:
            if message["type"] == "http.response.body" and browser:
                body.append(message.get("body", b""))
                if not message.get("more_body"):
                    try:
                        paths = json.loads(b"".join(body))
                    except ValueError:
                        paths = None  # an error page: nothing was kept
                    if isinstance(paths, list):
                        self.history.hand([_resolved(p) for p in paths if isinstance(p, str)],
                                          browser)
            await send(message)

        return noting

    def _held_by_others(self, path: str, browser: str | None) -> bool:
        try:
            file = Path(path).resolve()
        except (OSError, ValueError):
            return False  # Gradio answers such a path itself
        if not file.is_relative_to(self.folder):
            return False
        holders = self.history.holders(str(file))
        return bool(holders) and browser not in holders


def hand_over(playground: Playground, request: gr.Request, updates: list[Any]) -> list[Any]:
    """Notes the uploads among a Remix's updates as handed to this browser; returns them."""
    browser = _browser([(b"cookie", (request.headers.get("cookie") or "").encode())])
    if not browser:
        return updates
    folder = Path(get_upload_folder()).resolve()
    paths = []
    for update in updates:
        value = update.get("value") if isinstance(update, dict) else None
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and Path(item).resolve().is_relative_to(folder):
                paths.append(_resolved(item))
    playground.history.hand(paths, browser)
    return updates


def own_uploads(playground: Playground) -> Middleware:
    return Middleware(_OwnUploads, playground=playground)
