"""The allowance: a person's jobs run up to a limit, then wait their turn, then are refused."""

from __future__ import annotations

import asyncio

import pytest

from playground.errors import LimitReached
from playground.limits import Allowance
from playground.people import Person

ADA, BOB = Person(("session:a", "address:1")), Person(("session:b", "address:1"))


async def test_run_then_wait_then_refuse_and_a_turn_comes_when_one_ends() -> None:
    allowance = Allowance(max_jobs=10, per_person=2, waiting_per_person=1)
    assert [allowance.take(ADA, f"a{i}") for i in range(3)] == [True, True, False]
    with pytest.raises(LimitReached, match="2 jobs running and 1 waiting"):
        allowance.take(ADA, "a3")
    with pytest.raises(LimitReached):  # same address, new session: the address bounds it
        allowance.take(BOB, "b0")
    turn = asyncio.create_task(allowance.turn(ADA, "a2"))
    await asyncio.sleep(0)
    assert not turn.done()
    allowance.give_back("a0")
    await asyncio.wait_for(turn, 1)  # at once: the end was on this replica
    assert allowance.in_flight == 2 and not allowance.take(ADA, "a4")  # waits: 2 running


async def test_the_server_limit_holds_for_everyone() -> None:
    allowance = Allowance(max_jobs=2, per_person=5, waiting_per_person=0)
    assert allowance.take(ADA, "a") and allowance.take(Person(("login:bob",)), "b")
    with pytest.raises(LimitReached, match="limit of 2 jobs"):
        allowance.take(Person(("login:cy",)), "c")
    assert allowance.leases.claim("resumed")  # a resumed job is never refused, and counts
    assert allowance.in_flight == 3
