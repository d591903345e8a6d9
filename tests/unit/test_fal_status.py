"""fal's statuses -> our events: parsed in one place, logs de-duplicated, the stream read by
httpx-sse, polling when there is no stream, and one retry policy for the polls. fal is an
httpx.MockTransport here: no sockets, no waiting."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fal_client.client import Completed, InProgress, Queued

from playground.backends import Submission, retry
from playground.backends.fal import FalBackend, _digest, _status_of
from playground.errors import FalError
from playground.events import Queued as QueuedEvent
from playground.events import Running

BASE = "https://queue.fal.run/fal-ai/pika/requests/r1"
SUB = Submission("r1", BASE + "/status", BASE, BASE + "/cancel")
T2V = "fal-ai/pika/v2.2/text-to-video"


def logs(*lines: str) -> list[dict[str, str]]:
    return [{"message": line, "level": "INFO"} for line in lines]


def test_statuses_are_parsed_in_one_place() -> None:
    assert _status_of({"status": "IN_QUEUE", "queue_position": 3}) == Queued(position=3)
    assert _status_of({"status": "IN_PROGRESS", "logs": logs("a")}) == InProgress(logs("a"))
    done = _status_of({"status": "COMPLETED", "logs": [], "metrics": {"t": 1.0}})
    assert isinstance(done, Completed) and done.metrics == {"t": 1.0}
    for strange in ({"status": "PAUSED"}, ["IN_QUEUE"]):
        with pytest.raises(FalError, match="fal sent a status"):
            _status_of(strange)


def test_the_digest_says_only_new_log_lines_and_where_the_job_is() -> None:
    seen, events, finished = _digest(Queued(position=2), 0, SUB, T2V)
    assert events == [QueuedEvent("r1", 2)] and not finished
    seen, events, _ = _digest(InProgress(logs("a", "b")), seen, SUB, T2V)
    assert (seen, events) == (2, [Running(("a", "b"))])
    seen, events, _ = _digest(InProgress(logs("a", "b")), seen, SUB, T2V)
    assert events == [Running(())]  # the page still hears that it runs
    warn = [*logs("a", "b"), {"message": "hot", "level": "WARN"}]
    seen, events, finished = _digest(Completed(warn, {}), seen, SUB, T2V)
    assert (seen, events, finished) == (3, [Running(("WARN: hot",))], True)


def test_a_job_that_failed_at_fal_raises_its_reason() -> None:
    with pytest.raises(FalError, match=r"\[fal-ai/x\] the job failed at fal: CUDA out of memory"):
        _digest(Completed([], {}, error="CUDA out of memory"), 0, SUB, "fal-ai/x")


class Fal:
    """Answers the stream and the polls as scripted, and counts what was asked."""

    def __init__(self, stream: Callable[[], httpx.Response],
                 polls: list[httpx.Response] | None = None) -> None:
        self.stream, self.polls = stream, polls or []
        self.asked: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        kind = "stream" if request.url.path.endswith("/stream") else "status"
        self.asked.append(kind)
        if kind == "stream":
            return self.stream()
        return self.polls.pop(0) if len(self.polls) > 1 else self.polls[0]

    def backend(self) -> FalBackend:
        return FalBackend("key-id:secret", poll_interval=0.001,
                          transport=httpx.MockTransport(self))


def sse(*chunks: str, kind: str = "text/event-stream") -> Callable[[], httpx.Response]:
    return lambda: httpx.Response(200, headers={"content-type": kind},
                                  content="".join(chunks).encode())


def event(state: dict[str, Any]) -> str:
    return f"data: {json.dumps(state)}\n\n"


async def follow(backend: FalBackend) -> list[Any]:
    try:
        return [e async for e in backend.follow(SUB, endpoint=T2V)]
    finally:
        await backend.aclose()


async def test_the_stream_is_read_as_server_sent_events() -> None:
    fal = Fal(sse(": ping\n\n",  # a comment, as keep-alives are sent
                  event({"status": "IN_QUEUE", "queue_position": 1}),
                  # one event's data over two lines, as SSE allows
                  'data: {"status": "IN_PROGRESS",\ndata: "logs": [{"message": "a"}]}\n\n',
                  event({"status": "COMPLETED", "logs": logs("a", "b")})))
    assert await follow(fal.backend()) == [QueuedEvent("r1", 1), Running(("a",)),
                                           Running(("b",))]
    assert fal.asked == ["stream"]


@pytest.mark.parametrize("answer", [
    sse(event({"status": "IN_QUEUE", "queue_position": 0}), kind="application/json"),
    sse("OK", kind="text/plain"),
    lambda: httpx.Response(405),
    sse(event({"status": "IN_QUEUE", "queue_position": 0})),  # ends before the job does
], ids=["json", "text", "405", "early"])
async def test_without_a_stream_it_polls_and_never_reopens_it(answer) -> None:
    fal = Fal(answer, polls=[httpx.Response(200, json={"status": "IN_PROGRESS", "logs": []}),
                             httpx.Response(200, json={"status": "COMPLETED", "logs": []})])
    events = await follow(fal.backend())
    assert events[-1] == Running(())
    assert fal.asked == ["stream", "status", "status"]


async def test_a_failing_poll_is_retried_by_one_policy_only(monkeypatch) -> None:
    # fal-client's own poll would retry each of these up to 10 times inside ours.
    monkeypatch.setattr(retry, "POLL", retry.Policy(base=0.001, attempts=3))
    fal = Fal(lambda: httpx.Response(405), polls=[httpx.Response(429)])
    with pytest.raises(FalError, match="rate-limiting this key"):
        await follow(fal.backend())
    assert fal.asked == ["stream", "status", "status", "status"]


async def test_a_poll_that_recovers_goes_on(monkeypatch) -> None:
    monkeypatch.setattr(retry, "POLL", retry.Policy(base=0.001))
    fal = Fal(lambda: httpx.Response(503),  # a broken stream: polls bridge it, then reopen
              polls=[httpx.Response(502, text="<html>nginx</html>"), httpx.Response(503),
                     httpx.Response(200, json={"status": "COMPLETED", "logs": logs("x")})])
    assert await follow(fal.backend()) == [Running(("x",))]
    assert fal.asked == ["stream", "status", "status", "status"]


async def test_a_refusal_while_following_is_not_retried() -> None:
    fal = Fal(lambda: httpx.Response(401, json={"detail": "No user found"}))
    with pytest.raises(FalError, match="did not accept the API key"):
        await follow(fal.backend())
    assert fal.asked == ["stream"]
