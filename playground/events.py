"""What a job says while it runs. Both backends speak only these; the page only renders them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Stage:
    """Work on our side before or after fal: preparing, uploading, submitting, downloading."""

    text: str


@dataclass(frozen=True)
class Queued:
    request_id: str
    position: int | None


@dataclass(frozen=True)
class Running:
    lines: tuple[str, ...]  # only the lines not seen before


@dataclass(frozen=True)
class Done:
    video: Path
    request_id: str
    seed: int
    width: int
    height: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Failed:
    message: str
    retryable: bool = False
    cancelled: bool = False
    fields: dict[str, str] = field(default_factory=dict)


Event = Stage | Queued | Running | Done | Failed
