"""Jobs at fal. The only module that imports fal_client.

Submit is ours, not fal-client's: fal-client re-sends a submit whose
connection dropped, and fal may already have queued (and will charge) the
first one. We retry only what provably never reached fal. Status, result and
cancel go through fal-client's request handle with our own bounded retry on
top, and every failure leaves here as a `FalError` a person can act on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import fal_client
import httpx
from fal_client.client import (
    AsyncRequestHandle,
    Completed,
    FalClientHTTPError,
    InProgress,
    Queued,
    Status,
)

from playground.backends import Submission
from playground.catalog import Endpoint
from playground.errors import MAYBE_QUEUED, FalError
from playground.events import Queued as QueuedEvent
from playground.events import Running

log = logging.getLogger(__name__)
T = TypeVar("T")

POLL_INTERVAL = 0.6  # when there is no stream: under 2 polls per job-second, logs within 1 s
STREAM_TIMEOUT = httpx.Timeout(60.0, connect=15.0, read=45.0)  # fal pings every 15 s
TRANSIENT_BUDGET = 120.0  # how long status/result polls ride out fal hiccups before giving up
USER_AGENT = "pika-playground (fal-client)"
_TRANSIENT = {408, 409, 425, 429, 500, 502, 503, 504}


def _detail(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300]
    return body.get("detail", body) if isinstance(body, dict) else body


def _field_messages(detail: list[Any]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in detail:
        if not isinstance(item, dict):
            continue
        loc = [str(p) for p in item.get("loc", []) if p != "body"]
        name = loc[0] if loc else "input"
        where = ".".join(loc) or "input"
        fields[name] = f"{where}: {item.get('msg', 'invalid')}"
    return fields


def explain(status: int, detail: Any, headers: httpx.Headers | dict[str, str], *,
            endpoint: str, stage: str) -> FalError:
    """One wording for every HTTP failure from fal: what happened, what to do."""
    tag = f"[{endpoint}]"
    if status == 401:
        return FalError(f"{tag} fal did not accept the API key (HTTP 401). Check FAL_KEY, "
                        "or paste a valid key under 'fal key'.", status=status)
    if status == 403:
        return FalError(f"{tag} fal refused this request (HTTP 403): {detail}. Check that your "
                        "fal account has credit and access to this model.", status=status)
    if status == 404 and stage == "submit":
        return FalError(f"{tag} fal does not serve this endpoint any more (HTTP 404). "
                        "Pick another version.", status=status)
    if status == 404:
        return FalError(f"{tag} fal no longer knows this request (HTTP 404); its result may "
                        "have expired.", status=status)
    if status == 422:
        fields = _field_messages(detail) if isinstance(detail, list) else {}
        text = "; ".join(fields.values()) or str(detail)
        return FalError(f"{tag} fal refused the input (HTTP 422): {text}", status=status,
                        fields=fields)
    if status == 429:
        wait = headers.get("retry-after")
        when = f"in {wait} s" if wait else "in a minute"
        return FalError(f"{tag} fal is rate-limiting this key (HTTP 429). Try again {when}.",
                        status=status, retryable=True)
    if status >= 500:
        return FalError(f"{tag} fal had a server error (HTTP {status}) when we tried to {stage}: "
                        f"{detail}. Try again in a moment.", status=status, retryable=True)
    return FalError(f"{tag} fal answered HTTP {status} when we tried to {stage}: {detail}",
                    status=status)


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, FalClientHTTPError):
        return exc.status_code in _TRANSIENT
    return isinstance(exc, httpx.TransportError)


async def _with_retry(call: Callable[[], Awaitable[T]], *, what: str, endpoint: str,
                      budget: float = TRANSIENT_BUDGET) -> T:
    """Retries transient failures with capped exponential backoff for at most `budget` s."""
    deadline = time.monotonic() + budget
    delay = 0.25
    while True:
        try:
            return await call()
        except (FalClientHTTPError, httpx.TransportError) as exc:
            if not _transient(exc) or time.monotonic() + delay > deadline:
                raise _as_fal_error(exc, endpoint=endpoint, stage=what) from exc
            log.warning("[%s] %s failed (%s); retrying in %.1f s", endpoint, what,
                        type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 8.0)


def _as_fal_error(exc: BaseException, *, endpoint: str, stage: str) -> FalError:
    if isinstance(exc, FalClientHTTPError):
        return explain(exc.status_code, _detail(exc.response), exc.response_headers,
                       endpoint=endpoint, stage=stage)
    return FalError(f"[{endpoint}] could not reach fal when we tried to {stage} "
                    f"({type(exc).__name__}). Check the network and try again.", retryable=True)


class _NoStream(Exception):
    """This request's status cannot be streamed; poll instead."""


def _status_of(data: dict[str, Any]) -> Status:
    """A status event from the stream, as fal-client's poll would have parsed it."""
    match data.get("status"):
        case "IN_QUEUE":
            return Queued(position=data.get("queue_position", 0))
        case "IN_PROGRESS":
            return InProgress(logs=data.get("logs"))
        case "COMPLETED":
            return Completed(logs=data.get("logs"), metrics=data.get("metrics", {}),
                             error=data.get("error"), error_type=data.get("error_type"))
    raise FalError(f"fal sent a status this app does not know: {data.get('status')!r}")


def _digest(status: Status, seen: int, sub: Submission, endpoint: str
            ) -> tuple[int, list[QueuedEvent | Running], bool]:
    """Our events for one fal status: (log lines seen so far, events, finished)."""
    events: list[QueuedEvent | Running] = []
    logs = getattr(status, "logs", None) or []
    if len(logs) > seen:
        # fal sends the whole list every time; only the tail is new.
        events.append(Running(tuple(_line(e) for e in logs[seen:])))
        seen = len(logs)
    if isinstance(status, Queued):
        events.append(QueuedEvent(sub.request_id, status.position))
    elif isinstance(status, InProgress) and not events:
        events.append(Running(()))
    elif isinstance(status, Completed):
        if status.error:
            raise FalError(f"[{endpoint}] the job failed at fal: {status.error}")
        return seen, events, True
    return seen, events, False


def _line(entry: Any) -> str:
    if not isinstance(entry, dict):
        return str(entry)
    level = entry.get("level", "")
    prefix = f"{level}: " if level in ("ERROR", "WARN") else ""
    return prefix + str(entry.get("message", ""))


class FalBackend:
    name = "fal"

    def __init__(self, key: str, *, poll_interval: float = POLL_INTERVAL) -> None:
        self._uploader = fal_client.AsyncClient(key=key)
        # Pooled connections per key, shared by all of that key's jobs. Status streams (one
        # per job, open for its whole life) get a pool of their own: httpcore looks over
        # every pooled connection whenever a request starts or ends, and submits and result
        # fetches should not pay for a crowd's streams.
        headers = {"Authorization": f"Key {key}", "User-Agent": USER_AGENT}
        self._http = httpx.AsyncClient(
            headers=headers, timeout=httpx.Timeout(60.0, connect=15.0),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=64))
        self._streams = httpx.AsyncClient(
            headers=headers, timeout=STREAM_TIMEOUT,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=16))
        # The CDN gets no Authorization header: result URLs are public, keys are not.
        self._cdn = httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=15.0),
                                      follow_redirects=True)
        self._poll_interval = poll_interval

    def __repr__(self) -> str:
        return "FalBackend(key=<hidden>)"

    async def upload(self, path: Path) -> str:
        try:
            return await self._uploader.upload_file(path)
        except (FalClientHTTPError, httpx.TransportError) as exc:
            raise _as_fal_error(exc, endpoint="storage", stage="upload") from exc

    async def submit(self, endpoint: Endpoint, arguments: dict[str, Any]) -> Submission:
        host = os.environ.get("FAL_QUEUE_RUN_HOST", "queue.fal.run")
        url = f"https://{host}/{endpoint.id}"
        for attempt in range(4):
            try:
                response = await self._http.post(url, json=arguments)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Never connected, so fal never saw it: safe to send again.
                if attempt == 3:
                    raise _as_fal_error(exc, endpoint=endpoint.id, stage="submit") from exc
                await asyncio.sleep(0.5 * 2**attempt)
                continue
            except httpx.TransportError as exc:
                raise FalError(
                    f"[{endpoint.id}] the connection to fal broke after the request was sent "
                    f"({type(exc).__name__}), so fal may or may not have queued it. It was not "
                    "sent again, so you are not charged twice: check your requests on fal's "
                    "dashboard, then run again if it is not there.", retryable=True,
                    maybe_queued=True) from exc
            if response.status_code == 429 and attempt < 3:
                await asyncio.sleep(min(float(response.headers.get("retry-after", 1)), 5.0))
                continue
            if response.status_code >= 400:
                raise explain(response.status_code, _detail(response), response.headers,
                              endpoint=endpoint.id, stage="submit")
            try:
                data = response.json()
                return Submission(data["request_id"], data["status_url"],
                                  data["response_url"], data["cancel_url"])
            except (ValueError, KeyError, TypeError):
                raise FalError(
                    f"[{endpoint.id}] fal answered the submit (HTTP {response.status_code}) "
                    f"with something this app cannot read. {MAYBE_QUEUED}",
                    maybe_queued=True) from None
        raise AssertionError("unreachable")

    def _handle(self, sub: Submission) -> AsyncRequestHandle:
        return AsyncRequestHandle(request_id=sub.request_id, response_url=sub.response_url,
                                  status_url=sub.status_url, cancel_url=sub.cancel_url,
                                  client=self._http)

    async def follow(self, sub: Submission, *, endpoint: str = "fal") -> AsyncIterator[
            QueuedEvent | Running]:
        """fal's status stream: one connection per job, each change pushed as it happens.

        When the stream breaks, a poll (with retries) bridges the gap before reconnecting;
        where there is no stream (refused, answered as something else, or ended before the
        job), polling every POLL_INTERVAL takes over for the rest of the job.
        """
        handle = self._handle(sub)
        seen = 0
        use_stream = True
        while True:
            if use_stream:
                try:
                    async with contextlib.aclosing(self._stream(sub)) as statuses:
                        async for status in statuses:
                            seen, events, finished = _digest(status, seen, sub, endpoint)
                            for event in events:
                                yield event
                            if finished:
                                return
                except _NoStream as exc:
                    # Reopening it each cycle would double the requests that polling needs.
                    log.info("[%s] no status stream (%s); polling every %.1f s", endpoint, exc,
                             self._poll_interval)
                    use_stream = False
                    # Nothing was missed: the submit or the stream said where the job was.
                    await asyncio.sleep(self._poll_interval)
                except (FalClientHTTPError, httpx.TransportError) as exc:
                    if not _transient(exc):
                        raise _as_fal_error(exc, endpoint=endpoint, stage="follow the job") from exc
                    log.info("[%s] status stream broke (%s); polling", endpoint,
                             type(exc).__name__)
            status = await _with_retry(lambda: handle.status(with_logs=True), what="poll",
                                       endpoint=endpoint)
            seen, events, finished = _digest(status, seen, sub, endpoint)
            for event in events:
                yield event
            if finished:
                return
            await asyncio.sleep(self._poll_interval)

    async def _stream(self, sub: Submission) -> AsyncIterator[Status]:
        async with self._streams.stream("GET", sub.status_url + "/stream",
                                        params={"logs": 1}) as response:
            if response.status_code in (404, 405, 501):
                raise _NoStream(f"HTTP {response.status_code}")
            if response.status_code >= 400:
                await response.aread()
                raise FalClientHTTPError(str(_detail(response)), response.status_code,
                                         dict(response.headers), response=response)
            kind = response.headers.get("content-type", "")
            if not kind.lower().startswith("text/event-stream"):
                # A gateway or proxy that answers in its own way: nothing will be pushed.
                raise _NoStream(f"HTTP {response.status_code} {kind or 'without a type'}")
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    try:
                        data = json.loads(line[5:])
                    except ValueError:
                        raise _NoStream("an event that is not JSON") from None
                    if not isinstance(data, dict):
                        raise _NoStream("an event that is not a status")
                    yield _status_of(data)
        # fal closes the stream after COMPLETED, when the caller has stopped reading; one
        # that ends sooner was cut by something on the way, and would be cut again.
        raise _NoStream("the stream ended before the job did")

    async def result_url(self, sub: Submission, *, endpoint: str = "fal") -> str:
        async def get() -> dict[str, Any]:
            response = await self._http.get(sub.response_url)
            if response.status_code >= 400:
                raise FalClientHTTPError(str(_detail(response)), response.status_code,
                                         dict(response.headers), response=response)
            return response.json()

        data = await _with_retry(get, what="fetch the result", endpoint=endpoint)
        try:
            return data["video"]["url"]
        except (KeyError, TypeError):
            raise FalError(f"[{endpoint}] fal's result has no video: {str(data)[:200]}") from None

    async def fetch(self, url: str, dest: Path, *, attempts: int = 4) -> None:
        part = dest.with_suffix(".part")
        for attempt in range(attempts):
            try:
                async with self._cdn.stream("GET", url) as response:
                    if response.status_code == 200:
                        with part.open("wb") as out:
                            async for chunk in response.aiter_bytes(1 << 16):
                                out.write(chunk)
                        part.replace(dest)
                        return
                    status = response.status_code
            except httpx.TransportError:
                status = None
            if attempt + 1 < attempts:
                await asyncio.sleep(0.5 * 2**attempt)
        if status == 404:
            raise FalError("fal's link to the finished video has expired (HTTP 404), so it "
                           "could not be saved. The request id is in the history.")
        raise FalError(f"Could not download the finished video (HTTP {status or 'no answer'}). "
                       "It stays at fal for a while; retry from the history.", retryable=True)

    async def aclose(self) -> None:
        # fal-client keeps one pooled client of its own, made on first use and never closed.
        inner = self._uploader.__dict__.get("_client")
        clients = [self._http, self._streams, self._cdn]
        clients += [inner] if isinstance(inner, httpx.AsyncClient) else []
        for client in clients:
            await client.aclose()

    async def cancel(self, sub: Submission) -> bool:
        response = await self._http.put(sub.cancel_url)
        if response.status_code in (200, 202):
            return True
        log.info("cancel of %s answered %s", sub.request_id, response.status_code)
        return False
