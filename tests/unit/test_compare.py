"""A comparison's grid, planned and started in the core: what it refuses before anything
is recorded or sent, and a total price the day's budgets must take whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from playground import compare
from playground.errors import InputError, OverBudget
from playground.identity import Identity
from playground.spend import Budgets
from tests.test_spend import NeverAnswers, manager

ASK = {"prompt": "a fox", "resolution": "720p", "duration": "5"}
ADA = Identity("visitor:ada")


def test_the_grid_is_each_version_with_every_seed_in_the_catalogs_order() -> None:
    cells = compare.plan("text-to-video", ["v2 Turbo", "v2.2", "v2.2"], [7, 8], ASK)
    assert [(c.version, c.seed) for c in cells] == [
        ("v2.2", 7), ("v2.2", 8), ("v2 Turbo", 7), ("v2 Turbo", 8)]
    assert all(c.form == {**ASK, "seed": c.seed} for c in cells)
    assert compare.total(cells).usd == pytest.approx(0.80)


@pytest.mark.parametrize(("mode", "versions", "seeds", "form", "field", "says"), [
    ("text-to-video", ["v2.5", "v2.2", "v2.1"], [1, 2, 3], ASK, "seeds", "9 videos"),
    ("text-to-video", [], [1], ASK, "versions", "at least one"),
    ("text-to-video", ["v9"], [1], ASK, "versions", "v9 is not a version"),
    ("text-to-video", "v2.2", [1], ASK, "versions", "at least one"),
    ("text-to-video", ["v2.2"], [], ASK, "seeds", "at least one seed"),
    ("effects", ["v1.5"], [1], ASK, "mode", "Compare takes"),
    ("text-to-video", ["v2.2"], [1], {**ASK, "prompt": ""}, "prompt", "v2.2:"),
    ("image-to-video", ["v2.2"], [1], ASK, "image_url", "v2.2:"),
    # 480p is v2.5's alone: the version that refuses it is named.
    ("text-to-video", ["v2.5", "v2.2"], [1], {**ASK, "resolution": "480p"}, "resolution",
     "v2.2:"),
])
def test_a_grid_is_refused_naming_the_field(mode: str, versions: object, seeds: list[int],
                                            form: dict[str, object], field: str,
                                            says: str) -> None:
    with pytest.raises(InputError) as refused:
        compare.plan(mode, versions, seeds, form)  # type: ignore[arg-type]
    assert refused.value.field == field and says in refused.value.message


async def test_the_days_budget_takes_the_grid_whole_or_refuses_it_whole(
        tmp_path: Path) -> None:
    backend = NeverAnswers()
    cells = compare.plan("text-to-video", ["v2.2", "v2 Turbo"], [1, 2], ASK)  # $0.80
    async with manager(tmp_path, backend, "server", Budgets(per_person_day=0.70)) as jobs:
        with pytest.raises(OverBudget, match=r"This comparison of 4 videos is about \$0\.80; "
                                             r"you have \$0\.70 left"):
            await compare.start(jobs, "text-to-video", cells, session_key=None,
                                logged_in=False, owner=ADA)
        assert jobs.history.recent() == [] and backend.submits == 0
        started = await compare.start(jobs, "text-to-video", cells[:3], session_key=None,
                                      logged_in=False, owner=ADA)
        assert [j.record.seed for j in started] == [1, 2, 1]  # type: ignore[union-attr]
        assert sum(r.price or 0 for r in jobs.history.recent()) == pytest.approx(0.60)


async def test_more_cells_than_a_grid_holds_are_refused_in_the_core(tmp_path: Path) -> None:
    cells = compare.plan("text-to-video", ["v2.2"], [1], ASK) * (compare.MAX_CELLS + 1)
    async with manager(tmp_path, NeverAnswers(), "server", Budgets()) as jobs:
        with pytest.raises(InputError, match="at most 8"):
            await compare.start(jobs, "text-to-video", cells, session_key=None,
                                logged_in=False, owner=ADA)
        assert jobs.history.recent() == []
