"""The playground's parts put together once per server: history, backends, jobs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from playground.backends import Backend
from playground.backends.local import LocalBackend
from playground.database import connect
from playground.falusage import FalUsage
from playground.history import History
from playground.identity import digest
from playground.jobs import JobManager
from playground.keyring import PastedKeys
from playground.leases import Leases
from playground.limits import Allowance
from playground.livecatalog import LiveCatalog
from playground.settings import Settings
from playground.spend import Budgets
from playground.storage import GB, Storage


def _fal(key: str) -> Backend:
    from playground.backends.fal import FalBackend  # fal-client loads on first real job

    return FalBackend(key)


def _nothing() -> None:
    pass


class Playground:
    def __init__(self, settings: Settings, *, input_dirs: Sequence[Path] = ()) -> None:
        self.settings = settings
        # Not started here: the page's builder starts it (ui/app.py), before the tabs.
        self.catalog = LiveCatalog(settings)
        self.fal_usage = FalUsage(settings)  # fal's own figures, with an admin key
        self.history = History(connect(settings.database_url, settings.data_dir))
        self.local = LocalBackend(settings.data_dir / "previews")
        self.storage = Storage(self.history, settings.data_dir, keep_days=settings.keep_days,
                               max_bytes=None if settings.max_data_gb is None
                               else round(settings.max_data_gb * GB))
        self._server: Backend | None = None
        self.pasted = PastedKeys(_fal)
        self.jobs = JobManager(self.history, settings.data_dir, self.choose_backend,
                               self.server_backend, input_dirs=input_dirs,
                               allowance=Allowance(
                                   max_jobs=settings.max_jobs,
                                   per_person=settings.max_jobs_per_person,
                                   waiting_per_person=settings.max_queued_per_person,
                                   leases=Leases(self.history.db,
                                                 seconds=settings.lease_seconds)),
                               max_image_mb=settings.max_image_mb,
                               max_video_mb=settings.max_video_mb,
                               storage=self.storage,
                               budgets=Budgets(settings.budget_per_person_day,
                                               settings.budget_server_day))
        self._bound: dict[str, str] = {}  # browser digest -> owner, as last written

    def bind_browser(self, browser: str, owner: str) -> None:
        """Notes that this browser (its cookie) now acts as `owner`: its file requests are
        judged as that owner's. Written only when it changes."""
        key = digest(browser)
        # With replicas, another one may have noted a change since: the cache would hide it.
        if self._bound.get(key) != owner or self.history.db.shared:
            if len(self._bound) > 100_000:  # a cache, not a record: the history has them
                self._bound.clear()
            self.history.bind(key, owner)
            self._bound[key] = owner

    def server_backend(self) -> Backend | None:
        """The server's own key: one backend for the life of the process."""
        if self._server is None and self.settings.server_key:
            self._server = _fal(self.settings.server_key)
        return self._server

    def server_key_allowed(self, logged_in: bool = False) -> bool:
        return bool(self.settings.server_key) and (logged_in or not self.settings.require_own_key)

    def choose_backend(self, session_key: str | None, logged_in: bool = False
                       ) -> tuple[Backend, str, Callable[[], None]]:
        """A key pasted in the page wins; then the server's key; else the offline preview.
        The last item lets go of the backend when the job ends."""
        if session_key:
            backend, release = self.pasted.acquire(session_key)
            return backend, "session", release
        if self.server_key_allowed(logged_in):
            return self.server_backend(), "server", _nothing  # type: ignore[return-value]
        return self.local, "none", _nothing
