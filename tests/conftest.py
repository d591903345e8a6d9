"""Shared fixtures: the fake fal cloud, started once, scripted and counted per test, and
a playground on it with the server's key, shared by a module's tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.apprunner import RunningApp, running_app
from tests.fakefal import FakeFal


@pytest.fixture(scope="session")
def fakefal_server() -> Iterator[FakeFal]:
    fake = FakeFal().start()
    yield fake
    fake.stop()


@pytest.fixture
def fakefal(fakefal_server: FakeFal) -> FakeFal:
    """The fake with a clean script and no records."""
    fakefal_server.reset()
    return fakefal_server


@pytest.fixture
def fal_env(fakefal: FakeFal, monkeypatch: pytest.MonkeyPatch) -> FakeFal:
    """This process reaches the fake through the environment, as a client would."""
    for name, value in fakefal.env.items():
        monkeypatch.setenv(name, value)
    return fakefal


@pytest.fixture(scope="module")
def app(fakefal_server: FakeFal, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[RunningApp]:
    # Started against fal as it is by default: it reads fal's schemas as it starts.
    fakefal_server.reset()
    with running_app(fakefal_server.env, tmp_path_factory.mktemp("app")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per module: its pages are cheap, its start is not."""
    from tests.chromium import launched  # Playwright only where a browser is wanted

    with launched() as browser:
        yield browser
