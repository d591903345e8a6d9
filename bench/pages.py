"""Visitors with the page open, speaking Gradio's queue protocol as the browser does.

gradio_client runs every call in threads of its own: 32 of them at once on a
2-core machine got their first job to the fake 1.8 s after the start, which
measures the callers rather than the app. These share one asyncio loop and one
connection pool, and each keeps one session, as a browser tab does.
"""

from __future__ import annotations

import importlib.util
import json
import secrets
import sys
from typing import Any

import httpx

# As app.py does: httpcore and anyio try `import sniffio` several times for every request,
# and where it is not installed each try searches sys.path again (a tenth of the clients'
# CPU per job). Recorded as absent, the tries fail at once.
if importlib.util.find_spec("sniffio") is None:
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]


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


# An idle connection is dropped before uvicorn drops it (after 5 s, httpx's default too):
# reusing one the server closed that very moment failed a busy run with a ReadError.
_LIMITS = httpx.Limits(max_connections=None, max_keepalive_connections=None,
                       keepalive_expiry=2.0)


class _Browsers(httpx.AsyncBaseTransport):
    """A pool of connections per browser (per cookie), as each browser keeps its own.

    One pool shared by every page held a connection for each page's open event stream, and
    httpcore looks over all of a pool's connections whenever a request starts or ends: the
    load generator spent 23 ms of CPU per job on a 2-core machine, mostly on that, taken
    from the apps it measures (bench/replicas.py reports each process's share).
    """

    def __init__(self) -> None:
        self._tls = httpx.create_ssl_context()  # one for all: each reads the CA bundle
        self._pools: dict[str, httpx.AsyncHTTPTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        browser = request.headers.get("cookie", "")
        pool = self._pools.get(browser)
        if pool is None:
            pool = self._pools[browser] = httpx.AsyncHTTPTransport(
                verify=self._tls, limits=_LIMITS, trust_env=False)
        return await pool.handle_async_request(request)

    async def aclose(self) -> None:
        for pool in self._pools.values():
            await pool.aclose()


def http_client(url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url.rstrip("/"), trust_env=False, timeout=300,
                             transport=_Browsers())
