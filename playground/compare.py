"""A comparison: one prompt (and first frame) across model versions and seeds, a grid of
ordinary jobs.

Every cell is checked before any starts, and their total price against the day's
budgets, so a grid is refused whole rather than half run. Each cell then starts as
Generate starts a job (the same limits, history and recovery); a limit met part-way
(the person's jobs in flight, the storage) is said in that cell, the others run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from playground import catalog
from playground.errors import InputError, LimitReached
from playground.identity import Identity
from playground.jobs import ANYONE, Job, JobManager
from playground.people import Person
from playground.requests import build_request

MODES = ("text-to-video", "image-to-video")  # one prompt, one first frame: what compares
MAX_CELLS = 8
_seeds = random.SystemRandom()


@dataclass(frozen=True)
class Cell:
    version: str
    seed: int
    form: dict[str, Any]
    price: catalog.JobPrice


def new_seeds(count: int) -> list[int]:
    """`count` different seeds."""
    seeds: set[int] = set()
    while len(seeds) < count:
        seeds.add(_seeds.randint(0, catalog.SEED_MAX))
    return list(seeds)


def plan(mode: str, versions: list[str], seeds: list[int], form: dict[str, Any]
         ) -> list[Cell]:
    """The grid, version by version, each with every seed: `form` with each version's own
    defaults where a field is not given. Raises InputError, naming the field (and the
    version where only one refuses it), before anything is recorded or sent."""
    if mode not in MODES:
        raise InputError("mode", f"Compare takes {' or '.join(MODES)}, not {mode!r}.")
    known = [e.version for e in catalog.versions(mode)]
    if not isinstance(versions, list) or not versions:
        raise InputError("versions", "Choose at least one model version.")
    unknown = [str(v) for v in versions if v not in known]
    if unknown:
        raise InputError("versions", f"{', '.join(unknown)} is not a version of {mode}; "
                                     f"choose from {', '.join(known)}.")
    chosen = [v for v in known if v in versions]  # the catalog's order, each once
    if not seeds:
        raise InputError("seeds", "Run at least one seed.")
    count = len(chosen) * len(seeds)
    if count > MAX_CELLS:
        raise InputError("seeds", f"{len(chosen)} versions × {len(seeds)} seeds is {count} "
                                  f"videos; a comparison runs at most {MAX_CELLS}. Choose "
                                  "fewer versions or seeds.")
    cells = []
    for version in chosen:
        endpoint = catalog.lookup(mode, version)
        for seed in seeds:
            values = {**form, "seed": seed}
            try:
                request = build_request(endpoint, values)
            except InputError as exc:
                raise InputError(exc.field, f"{version}: {exc.message}") from None
            cells.append(Cell(version, seed, values,
                              catalog.job_price(endpoint, request.arguments)))
    return cells


def total(cells: list[Cell]) -> catalog.JobPrice:
    return catalog.JobPrice(round(sum(c.price.usd for c in cells), 4),
                            estimated=any(c.price.estimated for c in cells))


async def start(jobs: JobManager, mode: str, cells: list[Cell], *, session_key: str | None,
                logged_in: bool, person: Person = ANYONE, owner: Identity | None = None
                ) -> list[Job | LimitReached]:
    """Starts every cell, in order; a cell a limit refuses holds that refusal. Raises
    OverBudget before any starts when the grid's total passes a budget."""
    if len(cells) > MAX_CELLS:  # a caller that did not plan: the cap holds all the same
        raise InputError("seeds", f"A comparison runs at most {MAX_CELLS} videos.")
    await jobs.affordable(total(cells).usd, owner, session_key=session_key,
                          logged_in=logged_in, what=f"This comparison of {len(cells)} videos")
    started: list[Job | LimitReached] = []
    for cell in cells:
        try:
            started.append(await jobs.start(mode, cell.version, cell.form,
                                            session_key=session_key, logged_in=logged_in,
                                            person=person, owner=owner))
        except LimitReached as exc:
            started.append(exc)
    return started
