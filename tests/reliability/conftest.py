"""An app on the fake fal cloud with the server's key, shared by a module's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.apprunner import RunningApp, running_app
from tests.fakefal import FakeFal


@pytest.fixture(scope="module")
def app(fakefal_server: FakeFal, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[RunningApp]:
    with running_app(fakefal_server.env, tmp_path_factory.mktemp("app")) as running:
        yield running
