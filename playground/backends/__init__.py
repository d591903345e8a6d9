"""Where a job runs: fal (through fal-client) or a local preview. Both follow one shape."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from playground.catalog import Endpoint
from playground.events import Queued, Running


@dataclass(frozen=True)
class Submission:
    """What fal answered to a submit; enough to follow the job after a restart."""

    request_id: str
    status_url: str
    response_url: str
    cancel_url: str


class Backend(Protocol):
    name: str

    async def upload(self, path: Path) -> str: ...

    async def submit(self, endpoint: Endpoint, arguments: dict[str, Any]) -> Submission: ...

    def follow(self, submission: Submission, *, endpoint: str = ...
               ) -> AsyncIterator[Queued | Running]:
        """Yields until the job completes; raises FalError if it failed at fal. `endpoint`
        names the job's endpoint in messages and logs."""
        ...

    async def result_url(self, submission: Submission, *, endpoint: str = ...) -> str: ...

    async def fetch(self, url: str, dest: Path) -> None: ...

    async def cancel(self, submission: Submission) -> bool:
        """Asks fal to drop a queued job; True when fal accepted."""
        ...

    async def aclose(self) -> None:
        """Closes its connections; the backend is not used again."""
        ...
