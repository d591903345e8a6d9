"""fal's own figures for what the Pika endpoints cost, beside the playground's estimate.

Read with an ADMIN-scope key (`PIKA_FAL_ADMIN_KEY`) from `GET /v1/models/usage`: the
account's usage today and this month (UTC), all of its keys together. Asked on a thread
at most every `FRESH_S`, never while a page waits: a page gets the last figures known.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from playground import catalog
from playground.platform import Platform, PlatformError
from playground.settings import Settings

log = logging.getLogger(__name__)
FRESH_S = 600.0


@dataclass(frozen=True)
class Usage:
    today: float
    month: float
    at: float  # when fal said so (epoch seconds)


class FalUsage:
    def __init__(self, settings: Settings) -> None:
        self._key = settings.admin_key
        self._url = settings.fal_api_url
        self._lock = threading.Lock()
        self._asking = False
        self._asked = 0.0
        self.last: Usage | None = None
        self.failed = ""

    @property
    def enabled(self) -> bool:
        return bool(self._key)

    def latest(self) -> Usage | None:
        """The last figures known; asks fal again in the background when they are old."""
        if not self._key:
            return None
        with self._lock:
            due = not self._asking and time.time() - self._asked >= FRESH_S
            if due:
                self._asking, self._asked = True, time.time()
        if due:
            threading.Thread(target=self._ask, daemon=True, name="fal-usage").start()
        return self.last

    def _ask(self) -> None:
        try:
            now = datetime.now(UTC)
            day = now.replace(hour=0, minute=0, second=0, microsecond=0)
            month = day.replace(day=1)
            ids = [e.id for e in catalog.current()]
            with Platform(self._key, self._url) as platform:
                this_month = platform.usage(ids, month, now)
                today = platform.usage(ids, day, now)
            self.last = Usage(sum(today.values()), sum(this_month.values()), time.time())
            self.failed = ""
        except PlatformError as exc:
            self.failed = str(exc)
            log.info("fal usage not read: %s", exc)  # the message never holds the key
        finally:
            with self._lock:
                self._asking = False

    def line(self) -> str:
        """One sentence of numbers and our own words (HTML as it stands), or "" when none."""
        usage = self.latest()
        if usage is None:
            return ("<small>fal's own usage figures: not read yet.</small>"
                    if self._key else "")
        stamp = time.strftime("%H:%M UTC", time.gmtime(usage.at))
        return (f"<small>fal's own usage for the Pika endpoints, all keys of the account: "
                f"today <b>${usage.today:.2f}</b>, this month <b>${usage.month:.2f}</b> "
                f"(as of {stamp}; discounts applied).</small>")
