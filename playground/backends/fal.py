"""Jobs at fal. The only module that imports fal_client.

The queue requests (submit, status, result, cancel) are ours, not fal-client's:
fal-client re-sends a submit whose connection dropped, and fal may already have
queued (and will charge) the first one; and it retries its polls by rules of its
own, which ours would wrap a second time. So every retry here follows the rules
in `retry`, fal-client only uploads, and every failure leaves here as a
`FalError` a person can act on.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import fal_client
import httpx
from fal_client.client import Completed, FalClientHTTPError, InProgress, Queued, Status
from httpx_sse import SSEError, aconnect_sse

from playground.backends import Submission, retry
from playground.catalog import Endpoint
from playground.errors import MAYBE_QUEUED, FalError
from playground.events import Queued as QueuedEvent
from playground.events import Running

log = logging.getLogger(__name__)
T = TypeVar("T")

POLL_INTERVAL = 0.6  # when there is no stream: under 2 polls per job-second, logs within 1 s
STREAM_TIMEOUT = httpx.Timeout(60.0, connect=15.0, read=45.0)  # fal pings every 15 s
USER_AGENT = "pika-playground (fal-client)"


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


async def _retrying(call: Callable[[], Awaitable[T]], policy: retry.Policy, *, what: str,
                    endpoint: str) -> T:
    """`call` until it succeeds or `policy` gives up; then the failure, worded."""
    started = time.monotonic()
    for attempt in itertools.count(1):
        try:
            return await call()
        except (httpx.HTTPStatusError, httpx.TransportError) as exc:
            wait = policy.wait(exc, attempt, time.monotonic() - started)
            if wait is None:
                raise _as_fal_error(exc, endpoint=endpoint, stage=what) from exc
            log.warning("[%s] %s failed (%s); retrying in %.1f s", endpoint, what,
                        _failure(exc), wait)
            await asyncio.sleep(wait)
    raise AssertionError("unreachable")


def _failure(exc: BaseException) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    return type(exc).__name__


def _as_fal_error(exc: BaseException, *, endpoint: str, stage: str) -> FalError:
    if isinstance(exc, httpx.HTTPStatusError):
        return explain(exc.response.status_code, _detail(exc.response), exc.response.headers,
                       endpoint=endpoint, stage=stage)
    if isinstance(exc, FalClientHTTPError):  # from an upload, the one call fal-client makes
        return explain(exc.status_code, _detail(exc.response), exc.response_headers,
                       endpoint=endpoint, stage=stage)
    if stage == "submit" and not retry.never_sent(exc):
        return FalError(
            f"[{endpoint}] the connection to fal broke after the request was sent "
            f"({type(exc).__name__}), so fal may or may not have queued it. It was not "
            "sent again, so you are not charged twice: check your requests on fal's "
            "dashboard, then run again if it is not there.", retryable=True,
            maybe_queued=True)
    return FalError(f"[{endpoint}] could not reach fal when we tried to {stage} "
                    f"({type(exc).__name__}). Check the network and try again.", retryable=True)


async def _checked(response: httpx.Response) -> httpx.Response:
    """The response, unless fal answered an error: raised, with its body read for the
    message (a streamed response has not read it yet)."""
    if response.status_code >= 400:
        await response.aread()
        response.raise_for_status()
    return response


class _NoStream(Exception):
    """This request's status cannot be streamed; poll instead."""


def _status_of(data: Any) -> Status:
    """A status from the stream or a poll: the one place fal's statuses are parsed."""
    if not isinstance(data, dict):
        raise FalError(f"fal sent a status this app cannot read: {str(data)[:100]!r}")
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
            # Said as cancelled even before our own cancel call has returned: fal's stream
            # can bring the news first, and a Stop must not read as a failure.
            raise FalError(f"[{endpoint}] the job failed at fal: {status.error}",
                           cancelled=status.error_type == "request_cancelled")
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

    def __init__(self, key: str, *, poll_interval: float = POLL_INTERVAL,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        """`transport` replaces the network for the queue and CDN requests (uploads go
        through fal-client), as httpx allows: a test's fake fal, for one."""
        self._uploader = fal_client.AsyncClient(key=key)
        # Pooled connections per key, shared by all of that key's jobs. Status streams (one
        # per job, open for its whole life) get a pool of their own: httpcore looks over
        # every pooled connection whenever a request starts or ends, and submits and result
        # fetches should not pay for a crowd's streams.
        headers = {"Authorization": f"Key {key}", "User-Agent": USER_AGENT}
        self._http = httpx.AsyncClient(
            headers=headers, timeout=httpx.Timeout(60.0, connect=15.0), transport=transport,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=64))
        self._streams = httpx.AsyncClient(
            headers=headers, timeout=STREAM_TIMEOUT, transport=transport,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=16))
        # The CDN gets no Authorization header: result URLs are public, keys are not.
        self._cdn = httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=15.0),
                                      follow_redirects=True, transport=transport)
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

        async def send() -> httpx.Response:
            return await _checked(await self._http.post(url, json=arguments))

        response = await _retrying(send, retry.SUBMIT, what="submit", endpoint=endpoint.id)
        try:
            data = response.json()
            return Submission(data["request_id"], data["status_url"],
                              data["response_url"], data["cancel_url"])
        except (ValueError, KeyError, TypeError):
            raise FalError(
                f"[{endpoint.id}] fal answered the submit (HTTP {response.status_code}) "
                f"with something this app cannot read. {MAYBE_QUEUED}",
                maybe_queued=True) from None

    async def _poll(self, sub: Submission) -> Status:
        response = await self._http.get(sub.status_url, params={"logs": 1})
        return _status_of((await _checked(response)).json())

    async def follow(self, sub: Submission, *, endpoint: str = "fal") -> AsyncIterator[
            QueuedEvent | Running]:
        """fal's status stream: one connection per job, each change pushed as it happens.

        When the stream breaks, a poll (with retries) bridges the gap before reconnecting;
        where there is no stream (refused, answered as something else, or ended before the
        job), polling every POLL_INTERVAL takes over for the rest of the job.
        """
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
                except (httpx.HTTPStatusError, httpx.TransportError) as exc:
                    if not retry.POLL.may_retry(exc):
                        raise _as_fal_error(exc, endpoint=endpoint, stage="follow the job") from exc
                    log.info("[%s] status stream broke (%s); polling", endpoint, _failure(exc))
            status = await _retrying(lambda: self._poll(sub), retry.POLL, what="poll",
                                     endpoint=endpoint)
            seen, events, finished = _digest(status, seen, sub, endpoint)
            for event in events:
                yield event
            if finished:
                return
            await asyncio.sleep(self._poll_interval)

    async def _stream(self, sub: Submission) -> AsyncGenerator[Status, None]:
        async with aconnect_sse(self._streams, "GET", sub.status_url + "/stream",
                                params={"logs": 1}) as source:
            response = source.response
            if response.status_code in (404, 405, 501):
                raise _NoStream(f"HTTP {response.status_code}")
            await _checked(response)
            try:
                async for event in source.aiter_sse():
                    try:
                        data = event.json()
                    except ValueError:
                        raise _NoStream("an event that is not JSON") from None
                    if not isinstance(data, dict):
                        raise _NoStream("an event that is not a status")
                    yield _status_of(data)
            except SSEError as exc:
                # A gateway or proxy that answers in its own way: nothing will be pushed.
                raise _NoStream(f"HTTP {response.status_code}: {exc}") from None
        # fal closes the stream after COMPLETED, when the caller has stopped reading; one
        # that ends sooner was cut by something on the way, and would be cut again.
        raise _NoStream("the stream ended before the job did")

    async def result_url(self, sub: Submission, *, endpoint: str = "fal") -> str:
        async def get() -> Any:
            return (await _checked(await self._http.get(sub.response_url))).json()

        data = await _retrying(get, retry.POLL, what="fetch the result", endpoint=endpoint)
        try:
            return data["video"]["url"]
        except (KeyError, TypeError):
            raise FalError(f"[{endpoint}] fal's result has no video: {str(data)[:200]}") from None

    async def fetch(self, url: str, dest: Path) -> None:
        # A name no other download has, even on another replica sharing the directory, and
        # one rename into place: nobody ever serves a half-written video.
        part = dest.with_name(f".{dest.stem}.{uuid.uuid4().hex[:8]}.part")

        async def download() -> None:
            async with self._cdn.stream("GET", url) as response:
                await _checked(response)
                with part.open("wb") as out:
                    async for chunk in response.aiter_bytes(1 << 16):
                        out.write(chunk)
            part.replace(dest)

        try:
            await _retrying(download, retry.DOWNLOAD, what="download the video", endpoint="cdn")
        except FalError as exc:
            if exc.status == 404:
                raise FalError("fal's link to the finished video has expired (HTTP 404), so "
                               "it could not be saved. The request id is in the history.",
                               status=404) from None
            status = exc.status or "no answer"
            raise FalError(f"Could not download the finished video (HTTP {status}). It stays "
                           "at fal for a while; retry from the history.", retryable=True,
                           status=exc.status) from None
        finally:
            part.unlink(missing_ok=True)

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
