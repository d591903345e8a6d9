"""Pasted keys: a backend opens for the first job on its key and closes after the last."""

from __future__ import annotations

import asyncio

from playground.keyring import PastedKeys


class Recorded:
    def __init__(self, key: str) -> None:
        self.key = key
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True


async def test_a_hundred_keys_come_and_go_and_nothing_stays() -> None:
    made: list[Recorded] = []

    def make(key: str) -> Recorded:
        made.append(Recorded(key))
        return made[-1]

    keys = PastedKeys(make)  # type: ignore[arg-type]
    for i in range(100):
        first, release_first = keys.acquire(f"key-{i}")
        second, release_second = keys.acquire(f"key-{i}")  # two jobs on one key
        assert first is second and len(keys) == 1
        release_first()
        assert not first.closed and len(keys) == 1  # still in use by the other job
        release_second()
        assert len(keys) == 0
    assert len(made) == 100
    await asyncio.sleep(0)  # the closes were scheduled on this loop
    assert all(backend.closed for backend in made)
