"""When a request to fal is tried again, and after how long: pure rules, in one place.

fal-client retries inside its own queue calls with rules of its own, so the fal backend
makes its queue requests (submit, status, result) itself and asks only these rules;
fal-client is left the uploads, where nothing of ours retries.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

# Answers that say "not now" rather than "no": a timeout, a conflict, too early, too many,
# or a server or gateway that failed on the way.
TRANSIENT = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


def never_sent(failure: BaseException) -> bool:
    """The connection was never made, so fal cannot have seen the request."""
    return isinstance(failure, httpx.ConnectError | httpx.ConnectTimeout)


def _retry_after(failure: BaseException) -> float | None:
    if not isinstance(failure, httpx.HTTPStatusError):
        return None
    try:
        return max(float(failure.response.headers.get("retry-after", "")), 0.0)
    except ValueError:  # absent, or an HTTP date: fal sends seconds
        return None


@dataclass(frozen=True)
class Policy:
    """Capped exponential backoff within a time budget and a number of attempts.

    `repeatable` is False for a request fal acts on each time it receives it (a submit is
    queued, and charged, again): such a request is tried again only when fal provably did
    not take it, because it was never sent or fal answered 429.
    """

    base: float = 0.25
    cap: float = 8.0
    budget: float = 120.0  # seconds from the first attempt
    attempts: int | None = None
    repeatable: bool = True
    also: frozenset[int] = frozenset()  # more statuses worth another try, for this request

    def may_retry(self, failure: BaseException) -> bool:
        if never_sent(failure):
            return True
        if isinstance(failure, httpx.HTTPStatusError):
            status = failure.response.status_code
            if not self.repeatable:
                return status == 429
            return status in TRANSIENT or status in self.also
        return self.repeatable and isinstance(failure, httpx.TransportError)

    def wait(self, failure: BaseException, attempt: int, elapsed: float) -> float | None:
        """Seconds to wait before trying again, after `attempt` failed tries (the last one
        failing with `failure`) and `elapsed` seconds since the first; None: give up."""
        if not self.may_retry(failure):
            return None
        if self.attempts is not None and attempt >= self.attempts:
            return None
        delay = min(self.base * 2 ** (attempt - 1), self.cap)
        asked = _retry_after(failure)
        if asked is not None:
            delay = min(max(delay, asked), self.cap)
        return delay if elapsed + delay <= self.budget else None


# Status polls and the result: reads, so any transient failure is ridden out for 2 minutes.
POLL = Policy()
# A submit: fal queues (and charges) every one it receives, so only what it never took.
SUBMIT = Policy(base=0.5, cap=5.0, attempts=4, repeatable=False)
# The finished video from fal's CDN; a new file's link can answer 404 for a moment.
DOWNLOAD = Policy(base=0.5, cap=4.0, attempts=4, also=frozenset({404}))
