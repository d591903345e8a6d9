"""Job events -> what the page shows. Pure functions of the events seen so far.

The status and the info are HTML: fal's words (messages, request ids, field names) go in
through `plain`, so they show as sent; only our own words are bold.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from playground.events import Done, Event, Failed, Queued, Running, Stage
from ui.text import plain


@dataclass
class View:
    started: float = field(default_factory=time.monotonic)
    status: str = "Starting"  # plain text
    logs: list[str] = field(default_factory=list)
    video: str | None = None
    info: str = ""  # HTML
    fields: dict[str, str] = field(default_factory=dict)  # fal's complaints, by field name
    finished: bool = False

    def apply(self, event: Event) -> None:
        match event:
            case Stage(text):
                self.status = text
            case Queued(request_id, position):
                where = "next in line" if not position else f"position {position}"
                self.status = f"Queued at fal, {where} (request {request_id})"
                if request_id.startswith("local-"):
                    self.status = "Queued for a local preview"
            case Running(lines):
                self.status = "Running"
                self.logs.extend(lines)
            case Done():
                self.status = "Done"
                self.video = str(event.video)
                self.info = describe_done(event)
                self.finished = True
            case Failed(message, retryable, cancelled, fields):
                self.status = ("Stopped: " if cancelled else "Failed: ") + message
                if retryable:
                    self.status += " Running it again may help."
                self.fields = fields
                if fields:
                    self.info = "<br>".join(f"<b>{plain(name)}</b>: {plain(text)}"
                                            for name, text in fields.items())
                self.finished = True

    def status_line(self) -> str:
        elapsed = time.monotonic() - self.started
        mark = "" if self.finished else " …"
        return f"<b>{plain(self.status)}</b>{mark} · {elapsed:.1f} s"


def describe_done(done: Done) -> str:
    parts = [f"request {plain(done.request_id)}", f"seed <b>{done.seed}</b>",
             f"{done.width}×{done.height}, {done.seconds:.1f} s"]
    timing = ", ".join(f"{name} {done.timings[name]:.1f} s"
                       for name in ("queue", "run", "download") if name in done.timings)
    if timing:
        parts.append(timing)
    return " · ".join(parts)
