"""Spend on the core alone: prices from the catalog, which jobs count, UTC days and months,
the budgets' refusals, and the check that two jobs started at once cannot both pass."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from playground import catalog, spend
from playground.backends import Submission
from playground.errors import OverBudget
from playground.history import History, JobRecord
from playground.identity import Identity
from playground.jobs import JobManager
from playground.spend import Budgets, Charge

V22_T2V = catalog.BY_ID["fal-ai/pika/v2.2/text-to-video"]
V25_T2V = catalog.BY_ID["fal-ai/pika/v2.5/text-to-video"]


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def charge(*, usd: float = 0.2, key: str = "server", status: str = "done",
           request_id: str | None = "req", estimated: bool = False, when: str = "2026-03-15 12:00",
           owner: str = "visitor:a") -> Charge:
    return Charge(owner, key, status, request_id, usd, estimated, at(when))


# -- prices ---------------------------------------------------------------------------------

def test_a_published_price_is_the_price_for_those_arguments() -> None:
    assert catalog.job_price(V22_T2V, {"resolution": "1080p", "duration": "10"}) == (
        catalog.JobPrice(0.90))
    frames = catalog.BY_ID["fal-ai/pika/v2.2/pikaframes"]
    # 3 s asked, 5 billed at $0.06 a second
    assert catalog.job_price(frames, {"resolution": "1080p", "image_urls": [1, 2],
                                      "transitions": [{"duration": 3}]}) == catalog.JobPrice(0.30)
    effects = catalog.BY_ID["fal-ai/pika/v1.5/pikaffects"]
    assert catalog.job_price(effects, {}) == catalog.JobPrice(0.465)


def test_no_published_price_counts_the_highest_of_its_mode_for_those_arguments() -> None:
    # v2.2 at 1080p for 10 s ($0.90) beats Turbo's $0.20 a video
    assert catalog.job_price(V25_T2V, {"resolution": "1080p", "duration": "10"}) == (
        catalog.JobPrice(0.90, estimated=True))
    # v2.2 names no 480p price: Turbo's is the only one known
    assert catalog.job_price(V25_T2V, {"resolution": "480p", "duration": "5"}) == (
        catalog.JobPrice(0.20, estimated=True))


def test_a_mode_without_any_price_counts_the_highest_known_of_any_mode() -> None:
    scenes = catalog.BY_ID["fal-ai/pika/v2.2/pikascenes"]
    assert catalog.job_price(scenes, {"resolution": "1080p", "duration": "10"}) == (
        catalog.JobPrice(0.90, estimated=True))
    additions = catalog.BY_ID["fal-ai/pika/v2/pikadditions"]
    assert catalog.job_price(additions, {}) == catalog.JobPrice(0.465, estimated=True)


def test_the_forms_price_line_says_the_numbers_spend_counts() -> None:
    assert catalog.estimate_price(V22_T2V, {"resolution": "1080p", "duration": "5"}) == (
        "about $0.45 for 5 s")
    frames = catalog.BY_ID["fal-ai/pika/v2.2/pikaframes"]
    assert catalog.estimate_price(frames, {"resolution": "720p", "image_urls": [1, 2],
                                           "transitions": [{"duration": 3}]}) == (
        "about $0.20 for 5 s")
    assert catalog.estimate_price(V25_T2V, {"resolution": "1080p", "duration": "10"}) == (
        "not published by fal; counted as about $0.90, the highest known price of a "
        "similar job")


# -- what counts ---------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "request_id", "counted"), [
    ("done", "req", True),
    ("waiting", None, True),  # in flight: may reach fal, so it holds its share of a budget
    ("preparing", None, True),
    ("submitting", None, True),
    ("queued", "req", True),
    ("running", "req", True),
    ("downloading", "req", True),
    ("unknown", None, True),  # may have been queued at fal
    ("failed", "req", True),  # fal had it: a result that expired is billed all the same
    ("failed", None, False),  # refused or stopped before fal took it
    ("cancelled", None, False),  # stopped before it was sent
    ("cancelled", "req", False),  # cancelled at fal while still queued
])
def test_what_counts_as_spent(status: str, request_id: str | None, counted: bool) -> None:
    assert spend.counts(charge(status=status, request_id=request_id)) is counted


def test_today_and_this_month_are_utc_split_by_whose_key_paid() -> None:
    now = at("2026-03-15 00:30")  # past midnight in UTC, still the 14th in New York
    charges = [
        charge(usd=0.45, when="2026-03-15 00:10"),
        charge(usd=0.90, estimated=True, when="2026-03-14 23:50"),  # yesterday
        charge(usd=0.20, key="session", when="2026-03-15 00:20"),
        charge(usd=0.0, key="none", when="2026-03-15 00:25"),
        charge(usd=0.0, key="none", when="2026-03-01 00:00"),  # the month's first second
        charge(usd=5.00, when="2026-02-28 23:59"),  # last month
        charge(usd=7.00, status="cancelled", when="2026-03-15 00:05"),
    ]
    summary = spend.summarise(charges, now)
    today, month = summary.today.by_payer, summary.month.by_payer
    assert (today["server"].usd, today["server"].estimated) == (0.45, False)
    assert (today["session"].usd, today["none"].jobs) == (0.20, 1)
    assert month["server"].usd == pytest.approx(1.35) and month["server"].estimated
    assert (month["session"].usd, month["none"].jobs) == (0.20, 2)


# -- budgets -------------------------------------------------------------------------------

def test_the_person_budget_refuses_with_the_numbers() -> None:
    budgets = Budgets(per_person_day=2.00)
    with pytest.raises(OverBudget) as refused:
        budgets.check(0.45, person_today=1.80, server_today=1.80)
    assert str(refused.value).startswith(
        "This job is about $0.45; you have $0.20 left today on the server's key (budget "
        "$2.00 a day per person). Paste your own fal key")
    budgets.check(0.20, person_today=1.80, server_today=50.0)  # fits exactly: runs
    budgets.check(0.45, person_today=None, server_today=0.0)  # nobody in particular


def test_the_server_budget_refuses_with_the_numbers() -> None:
    budgets = Budgets(server_day=5.00)
    with pytest.raises(OverBudget, match=r"about \$0\.90; the server's key has \$0\.30 left "
                                         r"today for everyone \(budget \$5\.00 a day\)"):
        budgets.check(0.90, person_today=0.0, server_today=4.70)
    budgets.check(0.30, person_today=0.0, server_today=4.70)
    Budgets().check(1000.0, person_today=1000.0, server_today=1000.0)  # none set: none


def test_spent_counts_only_what_counts_since_then() -> None:
    charges = [charge(usd=0.45), charge(usd=0.20, status="failed", request_id=None),
               charge(usd=0.90, when="2026-03-14 23:59")]
    assert spend.spent(charges, at("2026-03-15 00:00")) == 0.45


# -- the history keeps it ------------------------------------------------------------------

def test_the_history_keeps_the_price_and_adds_its_columns_to_an_old_file(tmp_path: Path
                                                                        ) -> None:
    path = tmp_path / "history.sqlite3"
    with sqlite3.connect(path) as db:  # a history from before prices: no such columns
        db.execute("CREATE TABLE jobs (id, mode, version, endpoint, backend, key_source, form, "
                   "status, created, request_id, owner, PRIMARY KEY (id))")
        db.execute("INSERT INTO jobs VALUES ('old', 'effects', 'v1.5', 'x', 'fal', 'server', "
                   "'{}', 'done', 1.0, 'r', 'visitor:a')")
    history = History(path)
    try:
        history.save(JobRecord("new", "text-to-video", "v2.5", V25_T2V.id, "fal", "server",
                               {}, created=2.0, owner="visitor:a", price=0.9,
                               price_estimated=True))
        new = history.get("new")
        assert new is not None and (new.price, new.price_estimated) == (0.9, True)
        assert history.charges(0.0, owner="visitor:a") == [
            Charge("visitor:a", "server", "done", "r", None, False, 1.0),
            Charge("visitor:a", "server", "preparing", None, 0.9, True, 2.0)]
        assert history.charges(1.5, key_source="server") == history.charges(1.5)[-1:]
        assert history.charges(0.0, owner="visitor:b") == []
    finally:
        history.close()


# -- the job manager ----------------------------------------------------------------------

class NeverAnswers:
    """A backend on the server's key whose submit never returns: every job stays in flight."""

    name = "fal"

    def __init__(self) -> None:
        self.submits = 0

    async def upload(self, path: Path) -> str:
        raise AssertionError("nothing to upload")

    async def submit(self, endpoint: Any, arguments: dict[str, Any]) -> Submission:
        self.submits += 1
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


@contextlib.asynccontextmanager
async def manager(tmp_path: Path, backend: NeverAnswers, key_source: str, budgets: Budgets
                  ) -> AsyncIterator[JobManager]:
    history = History(tmp_path / "history.sqlite3")
    jobs = JobManager(history, tmp_path, lambda key, logged_in: (backend, key_source,
                                                                 lambda: None), budgets=budgets)
    try:
        yield jobs
    finally:
        jobs.close()
        for job in list(jobs._jobs.values()):
            if job.task:
                job.task.cancel()
        await asyncio.sleep(0.05)
        history.close()


ASK = {"prompt": "a fox", "resolution": "720p", "duration": "5"}  # $0.20 on v2.2


async def test_two_jobs_started_at_once_cannot_both_take_the_last_of_a_budget(
        tmp_path: Path) -> None:
    backend = NeverAnswers()
    ada = Identity("visitor:ada")
    async with manager(tmp_path, backend, "server", Budgets(per_person_day=0.50)) as jobs:
        first = await jobs.start("text-to-video", "v2.2", ASK, owner=ada)
        both = await asyncio.gather(*(jobs.start("text-to-video", "v2.2", ASK, owner=ada)
                                      for _ in range(2)), return_exceptions=True)
        refused = [r for r in both if isinstance(r, OverBudget)]
        assert len(refused) == 1, both
        assert "about $0.20; you have $0.10 left today" in str(refused[0])
        await asyncio.sleep(0.05)
        assert backend.submits == 2  # the refused one never reached the backend
        records = jobs.history.recent()
        assert len(records) == 2 and {r.price for r in records} == {0.20}
        # Another person on the same key still has a budget of their own.
        await jobs.start("text-to-video", "v2.2", ASK, owner=Identity("visitor:bob"))
        assert first.record.price == 0.20 and not first.record.price_estimated


async def test_a_free_preview_costs_nothing_and_no_budget_holds_it(tmp_path: Path) -> None:
    backend = NeverAnswers()
    backend.name = "local"
    async with manager(tmp_path, backend, "none", Budgets(0.0, 0.0)) as jobs:
        job = await jobs.start("text-to-video", "v2.2", ASK, owner=Identity("visitor:ada"))
        assert (job.record.key_source, job.record.price) == ("none", 0.0)


def test_the_line_splits_by_whose_key_paid_and_marks_estimates() -> None:
    from ui.spending import spend_line  # no Gradio in it: a pure function of the numbers

    now = at("2026-03-15 12:00")
    summary = spend.summarise([charge(usd=0.45), charge(usd=0.90, estimated=True,
                                                        when="2026-03-02 08:00"),
                               charge(usd=0.2, key="session"), charge(usd=0.0, key="none"),
                               charge(usd=0.0, key="none")], now)
    line = spend_line(summary, Budgets(per_person_day=2.0))
    assert ("Your spend today: <b>$0.45</b> on the server's key, <b>$0.20</b> on your own "
            "key, 2 free previews ($0); this month: <b>$1.35</b> (estimated) on the server's "
            "key, <b>$0.20</b> on your own key, 2 free previews ($0). Left today on the "
            "server's key: $1.55 of $2.00.") in line
    assert "Days and months in UTC" in line
    assert "Left today" not in spend_line(summary, Budgets())
