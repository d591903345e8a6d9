"""The app's history as a test reads it: straight from its SQLite file, opened and closed."""

from __future__ import annotations

from pathlib import Path

from playground.history import History, JobRecord


def recorded(data_dir: Path, limit: int = 500) -> list[JobRecord]:
    history = History(data_dir / "history.sqlite3")
    try:
        return history.recent(limit)
    finally:
        history.close()


def record(data_dir: Path, prompt: str) -> JobRecord | None:
    """The job with this prompt, if it was recorded."""
    return next((r for r in recorded(data_dir) if r.form.get("prompt") == prompt), None)
