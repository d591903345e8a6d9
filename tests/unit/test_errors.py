"""Error wording: one base, and every HTTP failure from fal said the same way."""

from __future__ import annotations

import httpx
import pytest

from playground.backends.fal import _as_fal_error, explain
from playground.errors import FalError, InputError, LimitReached, PlaygroundError, StorageFull

T2V = "fal-ai/pika/v2.2/text-to-video"


def test_every_failure_a_person_sees_shares_one_base() -> None:
    errors = [InputError("prompt", "Prompt is required."), FalError("fal is down"),
              LimitReached("busy"), StorageFull("full")]
    for error in errors:
        assert isinstance(error, PlaygroundError)
        assert error.message and isinstance(error.fields, dict)


def test_an_input_error_names_its_field() -> None:
    error = InputError("prompt", "Prompt is required.")
    assert str(error) == "prompt: Prompt is required."
    assert error.fields == {"prompt": "Prompt is required."} and not error.retryable


@pytest.mark.parametrize(("status", "stage", "words", "retryable"), [
    (401, "submit", "did not accept the API key (HTTP 401)", False),
    (403, "submit", "refused this request (HTTP 403): locked. Check that your fal account",
     False),
    (404, "submit", "does not serve this endpoint any more (HTTP 404)", False),
    (404, "poll", "no longer knows this request (HTTP 404)", False),
    (429, "submit", "rate-limiting this key (HTTP 429). Try again in 7 s.", True),
    (500, "poll", "server error (HTTP 500) when we tried to poll: locked", True),
    (418, "submit", "answered HTTP 418 when we tried to submit: locked", False),
])
def test_fal_answers_are_worded_with_endpoint_status_and_advice(status, stage, words,
                                                               retryable) -> None:
    error = explain(status, "locked", {"retry-after": "7"} if status == 429 else {},
                    endpoint=T2V, stage=stage)
    assert error.message.startswith(f"[{T2V}] ")
    assert words in error.message
    assert error.status == status and error.retryable is retryable


def test_a_422_is_split_into_field_messages() -> None:
    detail = [{"loc": ["body", "prompt"], "msg": "too long", "type": "value_error"},
              {"loc": ["body", "image_urls", 1], "msg": "not an image"}, "garbage"]
    error = explain(422, detail, {}, endpoint=T2V, stage="submit")
    assert error.fields == {"prompt": "prompt: too long",
                            "image_urls": "image_urls.1: not an image"}
    assert error.message.endswith("(HTTP 422): prompt: too long; image_urls.1: not an image")


def test_an_answer_is_explained_from_its_json_detail() -> None:
    request = httpx.Request("GET", "https://queue.fal.run/x")
    response = httpx.Response(403, json={"detail": "Exhausted balance."}, request=request)
    error = _as_fal_error(httpx.HTTPStatusError("", request=request, response=response),
                          endpoint=T2V, stage="poll")
    assert "(HTTP 403): Exhausted balance." in error.message


def test_a_submit_cut_after_sending_may_be_queued_but_one_never_sent_is_not() -> None:
    request = httpx.Request("POST", "https://queue.fal.run/x")
    cut = _as_fal_error(httpx.ReadError("reset", request=request), endpoint=T2V, stage="submit")
    assert cut.maybe_queued and "not charged twice" in cut.message
    refused = _as_fal_error(httpx.ConnectError("refused", request=request), endpoint=T2V,
                            stage="submit")
    assert not refused.maybe_queued and "could not reach fal" in refused.message
    assert refused.retryable
