"""What people spend: which jobs count, at what price, by whose key, per UTC day and month;
and the day's budgets on the server's key.

Pure functions of what the history keeps of each job (its price and whose key paid,
written when the job is recorded), so that the page, the budgets and the tests count
alike. Days and months are UTC: one server, people anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from playground.errors import OverBudget

PAYERS = ("server", "session", "none")  # the server's key, a key pasted in the page, none


@dataclass(frozen=True)
class Charge:
    """What counting needs of one job."""

    owner: str | None
    key_source: str
    status: str
    request_id: str | None
    usd: float | None  # None for a job recorded before jobs had a price
    estimated: bool
    created: float


def counts(charge: Charge) -> bool:
    """A job is spent unless it surely never ran at fal: stopped before it ran (here, or
    cancelled at fal while still queued), or failed before fal took it (no request id).

    A job in flight counts from the moment it is recorded, before it reaches fal: two jobs
    started at once then cannot both fit in what is left of a budget. A failure after fal
    took it counts, as fal may have billed it (a result that expired, a run whose result
    a restart could not fetch), and so does one that may have been queued ("unknown").
    """
    if charge.status == "cancelled":
        return False
    return not (charge.status == "failed" and charge.request_id is None)


@dataclass
class Amount:
    usd: float = 0.0
    jobs: int = 0
    estimated: bool = False  # some of it at the highest known price of a similar job


@dataclass
class Spend:
    """A period's spend by whose key paid (PAYERS)."""

    by_payer: dict[str, Amount] = field(default_factory=lambda: {p: Amount() for p in PAYERS})

    def add(self, charge: Charge) -> None:
        amount = self.by_payer.setdefault(charge.key_source, Amount())
        amount.usd += charge.usd or 0.0
        amount.jobs += 1
        amount.estimated |= bool(charge.estimated)


@dataclass(frozen=True)
class Summary:
    today: Spend
    month: Spend


def day_start(now: float) -> float:
    return datetime.fromtimestamp(now, UTC).replace(
        hour=0, minute=0, second=0, microsecond=0).timestamp()


def month_start(now: float) -> float:
    return datetime.fromtimestamp(day_start(now), UTC).replace(day=1).timestamp()


def summarise(charges: Iterable[Charge], now: float) -> Summary:
    """Today's and this month's spend of these jobs (all of them one person's)."""
    today, month = Spend(), Spend()
    day, first = day_start(now), month_start(now)
    for charge in charges:
        if not counts(charge) or charge.created < first:
            continue
        month.add(charge)
        if charge.created >= day:
            today.add(charge)
    return Summary(today, month)


def spent(charges: Iterable[Charge], since: float) -> float:
    return sum(c.usd or 0.0 for c in charges if c.created >= since and counts(c))


@dataclass(frozen=True)
class Budgets:
    """USD a day on the server's key: per person, and for everyone together. None: none."""

    per_person_day: float | None = None
    server_day: float | None = None

    @property
    def any(self) -> bool:
        return self.per_person_day is not None or self.server_day is not None

    def check(self, usd: float, *, person_today: float | None, server_today: float,
              what: str = "This job") -> None:
        """Refuses a job of `usd` that would take the day past a budget, with the numbers.
        `person_today` is None when nobody in particular asks (the core alone)."""
        # Float noise (0.1 + 0.2 > 0.3) must not refuse a job that exactly fits.
        if (self.per_person_day is not None and person_today is not None
                and person_today + usd > self.per_person_day + 1e-9):
            left = max(self.per_person_day - person_today, 0.0)
            raise OverBudget(
                f"{what} is about ${usd:.2f}; you have ${left:.2f} left today on the "
                f"server's key (budget ${self.per_person_day:.2f} a day per person). Paste "
                "your own fal key to go on, or come back after 00:00 UTC.")
        if self.server_day is not None and server_today + usd > self.server_day + 1e-9:
            left = max(self.server_day - server_today, 0.0)
            raise OverBudget(
                f"{what} is about ${usd:.2f}; the server's key has ${left:.2f} left today "
                f"for everyone (budget ${self.server_day:.2f} a day). Paste your own fal key "
                "to go on, or come back after 00:00 UTC.")
