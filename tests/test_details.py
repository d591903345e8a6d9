"""A job's details read as a person reads: dates, step times and settings by their names."""

from __future__ import annotations

import time

from playground.history import JobRecord
from ui.history_tab import describe

CREATED = time.mktime((2026, 11, 28, 9, 30, 0, 0, 0, -1)) - time.timezone


def test_details_say_when_how_long_and_what_was_set_in_words() -> None:
    record = JobRecord(
        id="0123456789abcdef", mode="text-to-video", version="v2.2",
        endpoint="fal-ai/pika/v2.2/text-to-video", backend="fal", key_source="server",
        form={"prompt": "a <b>bold</b> heron", "negative_prompt": "", "resolution": "1080p",
              "seed": 7}, status="done", created=CREATED, seed=7, request_id="req-1",
        timings={"created": CREATED, "prepare": 0.41, "queue": 1.25, "run": 30.4,
                 "download": 0.12})
    html = describe(record)
    assert "Made 2026-11-28 09:30 UTC" in html
    assert "Took: preparing 0.4 s, queued 1.2 s, running 30.4 s, saving 0.1 s" in html
    assert str(int(CREATED)) not in html and "{" not in html  # no raw dict, no Unix time
    assert "<li>Prompt: a &lt;b&gt;bold&lt;/b&gt; heron</li>" in html
    assert "<li>Resolution: 1080p</li>" in html
    assert "Negative prompt" not in html  # left empty: nothing to say


def test_the_price_line_says_what_fal_publishes_and_what_runs_here(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from playground.service import Playground
    from playground.settings import Settings
    from ui.modes import ModeTab

    def price(version: str, key: str | None) -> str:
        app = Playground(Settings(data_dir=tmp_path / str(key), server_key=key))
        try:
            return ModeTab(app, "text-to-video", None, None)._price(version)  # type: ignore[arg-type]
        finally:
            app.history.close()

    assert price("v2.2", "id:secret") == "Price: about $0.20 for 5 s"
    unpublished = price("v2.5", "id:secret")
    assert "not published by fal" in unpublished
    assert "https://fal.ai/models/fal-ai/pika/v2.5/text-to-video" in unpublished
    offline = price("v2.2", None)
    assert offline.startswith("Price: **free local preview**") and "$0.20" in offline
