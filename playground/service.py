"""The playground's parts put together once per server: history, backends, jobs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from playground.backends import Backend
from playground.backends.local import LocalBackend
from playground.history import History
from playground.jobs import JobManager
from playground.settings import Settings
from playground.storage import GB, Storage


class Playground:
    def __init__(self, settings: Settings, *, input_dirs: Sequence[Path] = ()) -> None:
        self.settings = settings
        self.history = History(settings.data_dir / "history.sqlite3")
        self.local = LocalBackend(settings.data_dir / "previews")
        self.storage = Storage(self.history, settings.data_dir, keep_days=settings.keep_days,
                               max_bytes=None if settings.max_data_gb is None
                               else round(settings.max_data_gb * GB))
        self._fal: dict[str, Backend] = {}  # by key, in memory only
        self.jobs = JobManager(self.history, settings.data_dir, self.choose_backend,
                               self.server_backend, input_dirs=input_dirs,
                               max_jobs=settings.max_jobs,
                               max_image_mb=settings.max_image_mb,
                               max_video_mb=settings.max_video_mb,
                               storage=self.storage)

    def _fal_backend(self, key: str) -> Backend:
        if key not in self._fal:
            from playground.backends.fal import FalBackend  # fal-client loads on first real job

            self._fal[key] = FalBackend(key)
        return self._fal[key]

    def server_backend(self) -> Backend | None:
        key = self.settings.server_key
        return self._fal_backend(key) if key else None

    def server_key_allowed(self, logged_in: bool = False) -> bool:
        return bool(self.settings.server_key) and (logged_in or not self.settings.require_own_key)

    def choose_backend(self, session_key: str | None, logged_in: bool = False
                       ) -> tuple[Backend, str]:
        """A key pasted in the page wins; then the server's key; else the offline preview."""
        if session_key:
            return self._fal_backend(session_key), "session"
        if self.server_key_allowed(logged_in):
            return self.server_backend(), "server"  # type: ignore[return-value]
        return self.local, "none"
