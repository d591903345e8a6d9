"""The start-up log says in one line which mode the app runs in and where its data lives."""

from __future__ import annotations

from pathlib import Path

import pytest

from playground.settings import Settings
from tests.apprunner import running_app
from tests.fakefal import FAKE_KEY

MODES = {
    "offline": ({}, "Mode: offline demo (no FAL_KEY)"),
    "server-key": ({"FAL_KEY": FAKE_KEY}, "Mode: fal with the server's key;"),
    "own-keys": ({"FAL_KEY": FAKE_KEY, "PIKA_REQUIRE_OWN_KEY": "1"},
                 "Mode: own keys only (PIKA_REQUIRE_OWN_KEY)"),
}


@pytest.mark.parametrize("mode", MODES)
def test_the_log_says_the_mode_and_where_the_data_lives(mode: str, tmp_path: Path) -> None:
    env, said = MODES[mode]
    with running_app(env, tmp_path) as app:
        output = app.output()
    lines = [line for line in output.splitlines() if " Mode: " in line]
    assert len(lines) == 1, output
    assert said in lines[0]
    assert lines[0].endswith(f"; data in {tmp_path.resolve()}")
    for secret in (FAKE_KEY, *FAKE_KEY.split(":")):
        assert secret not in output


def test_on_a_space_without_persistent_storage_the_line_says_the_data_goes(
        tmp_path: Path) -> None:
    settings = Settings.from_env({"SYSTEM": "spaces", "FAL_KEY": FAKE_KEY},
                                 persistent_dir=tmp_path / "absent")
    line = settings.describe()
    assert "lost when the Space restarts" in line
    assert FAKE_KEY.split(":")[1] not in line
    persistent = tmp_path / "persistent"
    persistent.mkdir()
    line = Settings.from_env({"SYSTEM": "spaces"}, persistent_dir=persistent).describe()
    assert line.endswith(f"; data in {persistent.resolve()}")
