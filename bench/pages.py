"""Visitors with the page open, speaking Gradio's queue protocol as the browser does.

gradio_client runs every call in threads of its own: 32 of them at once on a
2-core machine got their first job to the fake 1.8 s after the start, which
measures the callers rather than the app. These share one asyncio loop and one
connection pool, and each keeps one session, as a browser tab does.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx


class Page:
    def __init__(self, http: httpx.AsyncClient, config: dict[str, Any]) -> None:
        self.http = http
        self.session = secrets.token_hex(8)
        # Each page a visitor of its own, with its own browser cookie, as each browser is
        # (its first visitor id is its cookie's value, ui/identity.py).
        self.visitor = secrets.token_urlsafe(32)
        self.headers = {"cookie": f"pika_browser={self.visitor}"}
        self._states = {c["id"] for c in config["components"] if c.get("type") == "state"}
        self._visitor = {c["id"] for c in config["components"]
                         if c.get("type") == "browserstate"}
        self._calls = {d["api_name"]: d for d in config["dependencies"] if d.get("api_name")}

    @classmethod
    async def open_many(cls, http: httpx.AsyncClient, count: int) -> list[Page]:
        """`count` visitors whose sessions exist (Gradio builds one on a session's first
        event): the history table each page loads on opening."""
        config = (await http.get("/config")).raise_for_status().json()
        pages = [cls(http, config) for _ in range(count)]
        for page in pages:
            await page.call("history", [])
        return pages

    async def call(self, api_name: str, values: list[Any]) -> list[Any]:
        """The outputs of one event; `values` are its non-state inputs, in order, but for
        the visitor id, which the page sends itself."""
        dependency = self._calls[api_name]
        given = iter(values)
        data = [None if i in self._states else self.visitor if i in self._visitor
                else next(given) for i in dependency["inputs"]]
        joined = await self.http.post("/gradio_api/queue/join", json={
            "data": data, "fn_index": dependency["id"], "session_hash": self.session,
            "event_data": None, "trigger_id": None}, headers=self.headers)
        event_id = joined.raise_for_status().json()["event_id"]
        async with self.http.stream("GET", "/gradio_api/queue/data",
                                    params={"session_hash": self.session},
                                    headers=self.headers) as stream:
            async for line in stream.aiter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") == event_id and message["msg"] == "process_completed":
                    if not message.get("success"):
                        raise RuntimeError(f"{api_name} failed: {message.get('output')}")
                    return message["output"]["data"]
        raise RuntimeError(f"{api_name}: the stream ended before the event completed")


def http_client(url: str) -> httpx.AsyncClient:
    unlimited = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    return httpx.AsyncClient(base_url=url.rstrip("/"), trust_env=False, timeout=300,
                             limits=unlimited)
