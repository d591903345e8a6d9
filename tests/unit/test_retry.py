"""The one retry policy, as pure rules: what is tried again, after how long, until when."""

from __future__ import annotations

import httpx
import pytest

from playground.backends import retry
from playground.backends.retry import DOWNLOAD, POLL, SUBMIT, Policy


def answered(status: int, **headers: str) -> httpx.HTTPStatusError:
    request = httpx.Request("GET", "https://queue.fal.run/x/requests/1/status")
    response = httpx.Response(status, headers=headers, request=request)
    return httpx.HTTPStatusError(f"HTTP {status}", request=request, response=response)


REQUEST = httpx.Request("POST", "https://queue.fal.run/fal-ai/pika")
NEVER_SENT = [httpx.ConnectError("refused", request=REQUEST),
              httpx.ConnectTimeout("slow", request=REQUEST)]
SENT = [httpx.ReadError("reset", request=REQUEST), httpx.ReadTimeout("slow", request=REQUEST),
        httpx.RemoteProtocolError("closed", request=REQUEST)]


@pytest.mark.parametrize("status", sorted(retry.TRANSIENT))
def test_a_read_is_tried_again_after_an_answer_that_means_not_now(status: int) -> None:
    assert POLL.may_retry(answered(status))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 422, 501])
def test_a_read_is_not_tried_again_after_an_answer_that_means_no(status: int) -> None:
    assert not POLL.may_retry(answered(status))
    assert POLL.wait(answered(status), 1, 0.0) is None


@pytest.mark.parametrize("failure", NEVER_SENT + SENT, ids=type)
def test_a_read_is_tried_again_after_any_network_failure(failure: Exception) -> None:
    assert POLL.may_retry(failure)


@pytest.mark.parametrize("failure", NEVER_SENT, ids=type)
def test_a_submit_is_sent_again_only_when_fal_never_saw_it(failure: Exception) -> None:
    assert SUBMIT.may_retry(failure)


@pytest.mark.parametrize("failure", SENT, ids=type)
def test_a_submit_that_may_have_reached_fal_is_never_sent_again(failure: Exception) -> None:
    assert not SUBMIT.may_retry(failure)


def test_a_submit_is_sent_again_after_429_but_not_after_a_server_error() -> None:
    assert SUBMIT.may_retry(answered(429))
    for status in (500, 502, 503, 504, 408, 409):  # fal may have queued it meanwhile
        assert not SUBMIT.may_retry(answered(status))


def test_a_new_video_link_answering_404_is_tried_again_but_a_status_poll_is_not() -> None:
    assert DOWNLOAD.may_retry(answered(404))
    assert not POLL.may_retry(answered(404))


def test_other_exceptions_are_never_retried() -> None:
    assert not POLL.may_retry(ValueError("a bug"))
    assert not SUBMIT.may_retry(ValueError("a bug"))


def test_backoff_doubles_up_to_its_cap() -> None:
    policy = Policy(base=0.25, cap=2.0, budget=1000)
    waits = [policy.wait(answered(503), attempt, 0.0) for attempt in range(1, 7)]
    assert waits == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]


def test_retry_after_is_honoured_within_the_cap() -> None:
    policy = Policy(base=0.25, cap=5.0)
    assert policy.wait(answered(429, **{"Retry-After": "3"}), 1, 0.0) == 3.0
    assert policy.wait(answered(429, **{"Retry-After": "60"}), 1, 0.0) == 5.0
    assert policy.wait(answered(429, **{"Retry-After": "soon"}), 1, 0.0) == 0.25


def test_it_gives_up_when_the_next_wait_would_pass_the_budget() -> None:
    policy = Policy(base=1.0, cap=8.0, budget=10.0)
    assert policy.wait(answered(503), 3, 6.0) == 4.0
    assert policy.wait(answered(503), 3, 6.5) is None


def test_it_gives_up_after_its_attempts() -> None:
    assert SUBMIT.wait(answered(429), 3, 0.0) is not None
    assert SUBMIT.wait(answered(429), 4, 0.0) is None


def test_polls_ride_out_two_minutes_of_trouble() -> None:
    elapsed, attempt = 0.0, 1
    while (wait := POLL.wait(answered(503), attempt, elapsed)) is not None:
        elapsed += wait
        attempt += 1
    assert 110 <= elapsed <= 120 and attempt > 10
