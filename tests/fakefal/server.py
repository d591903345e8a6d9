"""A fake of fal's cloud: queue, storage, CDN, over TLS, behind a CONNECT proxy.

A job's state is a function of the clock and its script (how long it queues,
how long it runs, which log lines appear when), so there are no background
loops to race with. Everything it received is recorded for tests to count.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import json
import ssl
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import trustme
from aiohttp import web

from tests.fakefal import schemas, videos
from tests.fakefal.platform import FAKE_ADMIN_KEY, PlatformState
from tests.fakefal.proxy import ConnectProxy

FAKE_KEY = "fake-key-id:fake-key-secret"
QUEUE_HOSTS = {"queue.fal.run", "queue.falrun.com"}
HOSTS = ["queue.fal.run", "queue.falrun.com", "fal.run", "falrun.com", "rest.fal.ai",
         "v3.fal.media", "fal.media", "v3b.fal.media", "api.fal.ai"]
PLATFORM_STAGES = {"/v1/models": "models", "/v1/models/pricing": "pricing",
                   "/v1/models/pricing/estimate": "estimate", "/v1/models/usage": "usage"}
_PLATFORM = {*PLATFORM_STAGES.values(), "platform"}
CDN = "https://v3.fal.media"
DEFAULT_LOGS = ("Loading model", "Generating frames", "Encoding video")
RECORD = web.RequestKey("record", object)
KEY = web.RequestKey("key", object)
BODY = web.RequestKey("body", object)


@dataclass
class Script:
    """How jobs behave. `faults` are consumed in order, one per request of that stage:
    an HTTP status (401, 422, 429, 500...), "drop" (close the connection unanswered),
    "garbage" (HTTP 200 with a body that is not JSON), "badjson" (HTTP 200, JSON content
    type, a body cut short) or "hold" (never answer; the
    request stays open until its client goes away). For the status stream, as proxies
    and gateways answer it: "json" (HTTP 200 with the status as JSON, as the plain
    status URL answers), "text" (HTTP 200, text/plain) and "early" (an event stream
    that sends the current status, then ends before COMPLETED).
    Stages: submit, status, stream, result, cancel, token, upload, cdn; and fal's
    Platform API: models, pricing, estimate, usage."""

    queue_positions: int = 1  # each lasts `queue_step` seconds
    queue_step: float = 0.2
    run_time: float = 0.5
    logs: tuple[str, ...] = DEFAULT_LOGS
    faults: dict[str, list[int | str]] = field(default_factory=dict)
    fail_job: str | None = None  # the job completes with this error
    result_expired: bool = False  # the result video URL answers 404
    result_fails_once: bool = False  # the result video URL answers 404 once, then works
    cdn_delay: float = 0.0  # seconds added to every upload and CDN download
    cancel_finishes: bool = False  # a running job still finishes after a cancel request


@dataclass
class Record:
    stage: str
    method: str
    host: str
    path: str
    query: str
    key: str | None  # the key a request carried; tests check which key paid
    body: Any
    status: int = 0
    time: float = field(default_factory=time.time)


@dataclass
class Job:
    id: str
    endpoint: str
    app: str  # owner/alias, as in the status URL
    arguments: dict[str, Any]
    script: Script
    key: str
    size: tuple[int, int, float]
    submitted: float = field(default_factory=time.time)
    cancelled_at: float | None = None
    result_fetches: int = 0

    @property
    def queue_time(self) -> float:
        return self.script.queue_positions * self.script.queue_step

    def log_times(self) -> list[float]:
        """When each log line appears (wall clock); the first at the start of the run."""
        start = self.submitted + self.queue_time
        count = len(self.script.logs)
        return [start + i * self.script.run_time / count for i in range(count)]

    def state(self, now: float) -> dict[str, Any]:
        elapsed = now - self.submitted
        if self.cancelled_at is not None and (
                self.cancelled_at < self.submitted + self.queue_time
                or not self.script.cancel_finishes):
            return {"status": "COMPLETED", "logs": self._logs(min(now, self.cancelled_at)),
                    "metrics": {}, "error": "Request was cancelled by the user",
                    "error_type": "request_cancelled"}
        if elapsed < self.queue_time:
            position = self.script.queue_positions - 1 - int(elapsed / self.script.queue_step)
            return {"status": "IN_QUEUE", "queue_position": max(position, 0),
                    "response_url": self.urls()["response_url"]}
        if elapsed < self.queue_time + self.script.run_time:
            return {"status": "IN_PROGRESS", "logs": self._logs(now),
                    "response_url": self.urls()["response_url"]}
        done: dict[str, Any] = {"status": "COMPLETED", "logs": self._logs(now),
                                "metrics": {"inference_time": self.script.run_time},
                                "response_url": self.urls()["response_url"]}
        if self.script.fail_job:
            done |= {"error": self.script.fail_job, "error_type": "runner_error"}
        return done

    def completed_at(self) -> float:
        return self.submitted + self.queue_time + self.script.run_time

    def _logs(self, now: float) -> list[dict[str, Any]]:
        return [{"message": line, "level": "INFO", "source": "USER",
                 "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at))}
                for line, at in zip(self.script.logs, self.log_times(), strict=True) if at <= now]

    def urls(self) -> dict[str, str]:
        base = f"https://queue.fal.run/{self.app}/requests/{self.id}"
        return {"response_url": base, "status_url": f"{base}/status",
                "cancel_url": f"{base}/cancel"}


def _error(status: int, detail: Any, **headers: str) -> web.Response:
    return web.json_response({"detail": detail}, status=status, headers=headers)


class FakeFal:
    """Start with `start()`; `env` is what a client process needs to reach it."""

    def __init__(self) -> None:
        # What jobs cost: the queue, the CDN. The Platform API's answers (a catalog refresh,
        # which any app start may make in the background) are kept apart, so "not one
        # request reached fal" stays about jobs; `find(<platform stage>)` reads them.
        self.records: list[Record] = []
        self.platform_records: list[Record] = []
        self.jobs: dict[str, Job] = {}
        self.files: dict[str, tuple[bytes, str]] = {}  # CDN path -> (bytes, content type)
        self.keys = {FAKE_KEY}
        self.platform = PlatformState()  # what api.fal.ai answers; tests change it
        self._default = Script()
        self._scripts: dict[str, Script] = {}
        self._faults: dict[str, list[int | str]] = {}
        self._lock = threading.Lock()
        self._dir = Path(tempfile.mkdtemp(prefix="fakefal-"))
        self.env: dict[str, str] = {}
        self.control_url = ""

    # -- scripting (any thread) ----------------------------------------------------

    def script(self, endpoint: str | None = None, **settings: Any) -> Script:
        """Sets how new jobs behave, for one endpoint or all. Faults join the shared queue."""
        faults = settings.pop("faults", {})
        if "logs" in settings:
            settings["logs"] = tuple(settings["logs"])
        with self._lock:
            new = replace(Script(), **settings)
            if endpoint:
                self._scripts[endpoint] = new
            else:
                self._default, self._scripts = new, {}
            for stage, items in faults.items():
                self._faults.setdefault(stage, []).extend(items)
        return new

    def reset(self) -> None:
        with self._lock:
            self._default, self._scripts, self._faults = Script(), {}, {}
            self.records.clear()
            self.platform_records.clear()
            self.jobs.clear()
            self.keys = {FAKE_KEY}
            self.platform = PlatformState()

    def allow_key(self, key: str) -> None:
        self.keys.add(key)

    def count(self, stage: str | None = None, **match: Any) -> int:
        return len(self.find(stage, **match))

    def find(self, stage: str | None = None, **match: Any) -> list[Record]:
        """Job traffic; a Platform API stage's own records when `stage` names one, and all
        of the Platform API's for `stage="platform"`."""
        with self._lock:
            records = list(self.platform_records if stage in _PLATFORM else self.records)
        if stage == "platform":
            stage = None
        return [r for r in records if (stage is None or r.stage == stage)
                and all(getattr(r, k) == v for k, v in match.items())]

    def _take_fault(self, stage: str) -> int | str | None:
        with self._lock:
            queue = self._faults.get(stage)
            return queue.pop(0) if queue else None

    def _script_for(self, endpoint: str) -> Script:
        with self._lock:
            return self._scripts.get(endpoint, self._default)

    # -- the TLS app -----------------------------------------------------------------

    def _record(self, request: web.Request, stage: str, key: str | None, body: Any) -> Record:
        record = Record(stage, request.method, request.host.split(":")[0], request.path,
                        request.query_string, key, body)
        with self._lock:
            (self.platform_records if stage in _PLATFORM else self.records).append(record)
        return record

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        stage = self._stage(request)
        auth = request.headers.get("Authorization", "")
        key = auth[4:] if auth.startswith("Key ") else None
        body: Any = None
        if request.can_read_body and stage not in ("upload",):
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw[:200].decode(errors="replace")
        record = self._record(request, stage, key, body)
        request[RECORD], request[KEY], request[BODY] = record, key, body
        fault = self._take_fault(stage)
        if fault == "drop":
            if stage == "submit":  # fal got it: the job exists although the answer is lost
                await handler(request)
            record.status = -1
            assert request.transport is not None
            request.transport.close()
            raise asyncio.CancelledError
        if fault == "hold":
            while request.transport is not None and not request.transport.is_closing():
                await asyncio.sleep(0.05)  # held open until the client goes away
            record.status = -1
            raise asyncio.CancelledError
        if fault == "garbage":
            response = web.Response(text="<html>502 Bad Gateway</html>",
                                    content_type="text/html")
        elif fault == "badjson":
            response = web.Response(text='{"models": [{"endpoint_id": "fal-ai/pi',
                                    content_type="application/json")
        elif fault == "json":
            response = await self._status(request)
        elif fault == "text":
            response = web.Response(text="OK", content_type="text/plain")
        elif fault == "early":
            response = await self._stream(request, early=True)
        elif fault is not None:
            response = self._fault_response(int(fault))
        elif stage in ("submit", "status", "stream", "result", "cancel", "token") and (
                key not in self.keys):
            response = _error(401, "No user found for Key ID and Secret")
        elif stage in PLATFORM_STAGES.values() and not self._platform_key_ok(stage, key):
            response = web.json_response({"error": {
                "type": "authorization_error",
                "message": "Admin API key required" if stage == "usage"
                else "Invalid API key"}}, status=401 if stage != "usage" else 403)
        else:
            response = await handler(request)
        record.status = response.status
        return response

    @staticmethod
    def _fault_response(status: int) -> web.Response:
        if status == 401:
            return _error(401, "No user found for Key ID and Secret")
        if status == 403:
            return _error(403, "User is locked. Reason: Exhausted balance.")
        if status == 422:
            return _error(422, [{"loc": ["body", "prompt"], "msg": "Scripted validation error",
                                 "type": "value_error"}])
        if status == 429:
            return _error(429, "Rate limit exceeded", **{"Retry-After": "1"})
        return _error(status, "Internal server error", **{"X-Fal-Retryable": "true"})

    def _stage(self, request: web.Request) -> str:
        host, path, method = request.host.split(":")[0], request.path, request.method
        if host in QUEUE_HOSTS:
            if "/requests/" in path:
                if path.endswith("/status/stream"):
                    return "stream"
                if path.endswith("/status"):
                    return "status"
                if path.endswith("/cancel"):
                    return "cancel"
                return "result"
            return "submit" if method == "POST" else "other"
        if host == "rest.fal.ai":
            return "token" if "auth/token" in path else "initiate"
        if host.endswith("fal.media"):
            return "upload" if method in ("POST", "PUT") else "cdn"
        if host == "api.fal.ai":
            return PLATFORM_STAGES.get(path.rstrip("/"), "other")
        return "other"

    def _platform_key_ok(self, stage: str, key: str | None) -> bool:
        if stage == "usage":
            return key == FAKE_ADMIN_KEY
        if key is None:
            return stage == "models"  # listing models needs no key (lower rate limits)
        return key in self.keys or key == FAKE_ADMIN_KEY

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        stage = request[RECORD].stage
        handler = {"submit": self._submit, "status": self._status, "stream": self._stream,
                   "result": self._result, "cancel": self._cancel, "token": self._token,
                   "initiate": self._initiate, "upload": self._upload, "cdn": self._cdn,
                   "models": self._platform, "pricing": self._platform,
                   "estimate": self._platform, "usage": self._platform}
        if stage not in handler:
            return _error(404, f"Not found: {request.method} {request.path}")
        return await handler[stage](request)

    async def _platform(self, request: web.Request) -> web.Response:
        query: dict[str, list[str]] = {}
        for name, value in request.query.items():
            query.setdefault(name, []).append(value)
        stage = request[RECORD].stage
        state = self.platform
        if stage == "models":
            status, body = state.models(query)
        elif stage == "pricing":
            status, body = state.pricing(query)
        elif stage == "estimate":
            status, body = state.estimate(request[BODY])
        else:
            status, body = state.usage_answer(query)
        return web.json_response(body, status=status)

    async def _submit(self, request: web.Request) -> web.Response:
        endpoint = request.path.strip("/")
        schema = self.platform.model(endpoint)
        if schema is None:
            return _error(404, f"Application '{endpoint}' not found")
        body = request[BODY]
        model, detail = schemas.validate(endpoint, body, schema)
        if model is None:
            return _error(422, detail)
        media_errors = await asyncio.to_thread(self._check_media, model)
        if media_errors:
            return _error(422, media_errors)
        owner, alias = endpoint.split("/")[:2]
        job = Job(uuid.uuid4().hex, endpoint, f"{owner}/{alias}", body,
                  self._script_for(endpoint), request[KEY], schemas.expected_output(model))
        self.jobs[job.id] = job
        position = job.script.queue_positions - 1
        return web.json_response({"request_id": job.id, **job.urls(),
                                  "queue_position": position, "status": "IN_QUEUE"})

    def _job(self, request: web.Request) -> Job | None:
        parts = request.path.split("/")
        job_id = parts[parts.index("requests") + 1]
        return self.jobs.get(job_id)

    async def _status(self, request: web.Request) -> web.Response:
        job = self._job(request)
        if job is None:
            return _error(404, "Request not found")
        state = job.state(time.time())
        if request.query.get("logs") not in ("1", "true", "True") and "logs" in state:
            state = {**state, "logs": None}
        return web.json_response(state)

    async def _stream(self, request: web.Request, *, early: bool = False
                      ) -> web.StreamResponse:
        job = self._job(request)
        if job is None:
            return _error(404, "Request not found")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        last = None
        try:
            while True:
                # A client that went away is only noticed on a write, and a long job may
                # have nothing to write for minutes: look at the connection itself.
                if request.transport is None or request.transport.is_closing():
                    return response
                state = job.state(time.time())
                if state != last:
                    await response.write(f"data: {json.dumps(state)}\n\n".encode())
                    last = state
                if state["status"] == "COMPLETED" or early:
                    break
                await asyncio.sleep(0.05)
            await response.write_eof()
        except ConnectionError:
            pass  # the client went away, as clients do
        return response

    async def _result(self, request: web.Request) -> web.Response:
        job = self._job(request)
        if job is None:
            return _error(404, "Request not found")
        state = job.state(time.time())
        if state["status"] != "COMPLETED":
            return _error(400, "Request is still in progress")
        if state.get("error"):
            status = 400 if state.get("error_type") == "request_cancelled" else 500
            return _error(status, state["error"], **{"X-Fal-Retryable": "false",
                                                     "x-fal-error-type": state["error_type"]})
        width, height, seconds = job.size
        data = await asyncio.to_thread(videos.mp4, width, height, seconds)
        path = f"/files/{job.id}/output.mp4"
        self.files[path] = (data, "video/mp4")
        return web.json_response({"video": {"url": CDN + path, "content_type": "video/mp4",
                                            "file_name": "output.mp4", "file_size": len(data)}})

    async def _cancel(self, request: web.Request) -> web.Response:
        job = self._job(request)
        if job is None:
            return _error(404, "Request not found")
        now = time.time()
        if now >= job.completed_at() or job.cancelled_at is not None:
            return web.json_response({"status": "ALREADY_COMPLETED"}, status=400)
        job.cancelled_at = now
        return web.json_response({"status": "CANCELLATION_REQUESTED"}, status=202)

    async def _token(self, request: web.Request) -> web.Response:
        return web.json_response({"token": uuid.uuid4().hex, "token_type": "Bearer",
                                  "base_url": CDN,
                                  "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                              time.gmtime(time.time() + 3600))})

    async def _initiate(self, request: web.Request) -> web.Response:
        name = (request[BODY] or {}).get("file_name") or "upload.bin"
        path = f"/files/{uuid.uuid4().hex}/{name}"
        return web.json_response({"upload_url": CDN + path, "file_url": CDN + path})

    async def _upload(self, request: web.Request) -> web.Response:
        script = self._default
        if script.cdn_delay:
            await asyncio.sleep(script.cdn_delay)
        data = await request.read()
        content_type = request.headers.get("Content-Type", "application/octet-stream")
        if request.method == "PUT":
            path = request.path
        else:
            name = request.headers.get("X-Fal-File-Name", "upload.bin")
            path = f"/files/{uuid.uuid4().hex}/{name}"
        self.files[path] = (data, content_type)
        request[RECORD].body = {"bytes": len(data), "content_type": content_type}
        return web.json_response({"access_url": CDN + path})

    async def _cdn(self, request: web.Request) -> web.Response:
        script = self._default
        if script.cdn_delay:
            await asyncio.sleep(script.cdn_delay)
        parts = request.path.split("/")
        job = self.jobs.get(parts[2]) if len(parts) > 2 else None
        if job is not None:
            job.result_fetches += 1
            if job.script.result_expired or (job.script.result_fails_once
                                             and job.result_fetches == 1):
                return _error(404, "File not found or expired")
        if request.path not in self.files:
            return _error(404, "File not found or expired")
        data, content_type = self.files[request.path]
        return web.Response(body=data, content_type=content_type)

    # -- input files -----------------------------------------------------------------

    def _check_media(self, model: schemas.Strict) -> list[dict[str, Any]]:
        errors = []
        for name, kind, url in media_fields_of(model):
            data = self._fetch(url)
            loc = ["body", *name.split(".")]
            if data is None:
                errors.append({"loc": loc, "type": "file_download_error",
                               "msg": "Failed to download the file. Please check if the URL "
                                      "is accessible."})
            elif not _decodes(data, kind):
                errors.append({"loc": loc, "type": f"{kind}_load_error",
                               "msg": f"Failed to load the {kind}. Please ensure the file is "
                                      "not corrupted and is in a supported format."})
        return errors

    def _fetch(self, url: str) -> bytes | None:
        if url.startswith("data:"):
            try:
                return base64.b64decode(url.split(",", 1)[1], validate=True)
            except (IndexError, binascii.Error):
                return None
        for prefix in (CDN, "https://fal.media", "https://v3b.fal.media"):
            if url.startswith(prefix):
                entry = self.files.get(url[len(prefix):])
                return entry[0] if entry else None
        return None  # nothing else is reachable from here, as from a closed network

    # -- control API (plain HTTP on loopback) -----------------------------------------

    async def _control(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action == "script" and request.method == "POST":
            settings = await request.json()
            endpoint = settings.pop("endpoint", None)
            return web.json_response(asdict(self.script(endpoint, **settings)))
        if action == "reset":
            self.reset()
            return web.json_response({"ok": True})
        if action == "requests":
            stage = request.query.get("stage")
            return web.json_response([{**asdict(r), "key": bool(r.key)}
                                      for r in self.find(stage)])
        if action == "jobs":
            return web.json_response([
                {"id": j.id, "endpoint": j.endpoint, "arguments": j.arguments,
                 "submitted": j.submitted,
                 "completed": j.completed_at(), "size": j.size, "log_times": j.log_times()}
                for j in self.jobs.values()])
        return _error(404, "unknown control action")

    # -- life ----------------------------------------------------------------------------

    def start(self) -> FakeFal:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True,
                                        name="fakefal")
        self._thread.start()
        if not ready.wait(30):
            raise RuntimeError("the fake fal cloud did not start")
        return self

    def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start(ready))
        self._loop.run_forever()

    async def _start(self, ready: threading.Event) -> None:
        ca = trustme.CA()
        cert = ca.issue_cert(*HOSTS)
        ca_file = self._dir / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        app = web.Application(middlewares=[self._middleware], client_max_size=1 << 30)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        tls = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context, backlog=1024)
        await tls.start()
        tls_port = self._runner.addresses[0][1]
        control = web.Application()
        control.router.add_route("*", "/_fake/{action}", self._control)
        self._control_runner = web.AppRunner(control, access_log=None, handle_signals=False)
        await self._control_runner.setup()
        site = web.TCPSite(self._control_runner, "127.0.0.1", 0)
        await site.start()
        control_port = self._control_runner.addresses[0][1]
        self.proxy = ConnectProxy(tls_port)
        proxy_port = await self.proxy.start()
        self.ca_file = ca_file
        self.control_url = f"http://127.0.0.1:{control_port}"
        self.env = {"HTTPS_PROXY": f"http://127.0.0.1:{proxy_port}",
                    "SSL_CERT_FILE": str(ca_file), "NO_PROXY": "127.0.0.1,localhost",
                    "FAL_KEY": FAKE_KEY}
        ready.set()

    def stop(self) -> None:
        async def shutdown() -> None:
            await self.proxy.stop()
            await self._runner.cleanup()
            await self._control_runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def media_fields_of(model: schemas.Strict) -> list[tuple[str, str, str]]:
    return schemas.media_fields(model)


def _decodes(data: bytes, kind: str) -> bool:
    if kind == "image":
        from PIL import Image

        try:
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
            return True
        except Exception:  # any decoder failure means "not an image", which is the answer
            return False
    import av

    try:
        with av.open(io.BytesIO(data)) as container:
            # FFmpeg also opens a still image as a one-frame "video"; fal would not take it.
            still = container.format.name.endswith("_pipe") or container.format.name == "image2"
            return bool(container.streams.video) and not still
    except Exception:  # same: a failure to open is the answer
        return False
