"""The ways the playground is deployed (a Space, Docker, `make run`) agree with the code."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml
from packaging.specifiers import SpecifierSet

from playground.settings import Settings
from tests.apprunner import ROOT


def front_matter() -> dict[str, object]:
    text = (ROOT / "README.md").read_text()
    match = re.match(r"---\n(.*?)\n---\n", text, re.DOTALL)
    assert match, "README.md starts with the Space's front matter"
    return yaml.safe_load(match.group(1))


def test_the_space_docker_and_pyproject_ask_for_the_same_python() -> None:
    wanted = SpecifierSet(tomllib.loads((ROOT / "pyproject.toml").read_text())
                          ["project"]["requires-python"])
    space = str(front_matter().get("python_version", "3.10"))  # 3.10: what Spaces assume
    docker = re.search(r"^FROM python:([\d.]+)", (ROOT / "Dockerfile").read_text(), re.M)
    assert docker
    assert f"{space}.0" in wanted, f"the Space runs Python {space}; pyproject wants {wanted}"
    assert f"{docker.group(1)}.0" in wanted
    assert space == docker.group(1)  # one Python version tested, one deployed


def test_on_a_space_the_data_lives_on_its_persistent_storage(tmp_path: Path) -> None:
    persistent = tmp_path / "persistent"
    persistent.mkdir()
    settings = Settings.from_env({"SYSTEM": "spaces"}, persistent_dir=persistent)
    assert settings.data_dir == persistent
    assert not settings.data_lost_on_restart


def test_a_space_without_persistent_storage_keeps_data_beside_the_app(tmp_path: Path) -> None:
    settings = Settings.from_env({"SYSTEM": "spaces"}, persistent_dir=tmp_path / "absent")
    assert settings.data_dir == Path("data")
    assert settings.data_lost_on_restart  # and the start-up line says so


def test_pika_data_dir_wins_and_off_a_space_the_persistent_dir_is_not_taken(
        tmp_path: Path) -> None:
    persistent = tmp_path / "persistent"
    persistent.mkdir()
    chosen = tmp_path / "chosen"
    on_space = Settings.from_env({"SYSTEM": "spaces", "PIKA_DATA_DIR": str(chosen)},
                                 persistent_dir=persistent)
    assert on_space.data_dir == chosen and on_space.data_lost_on_restart
    assert Settings.from_env({}, persistent_dir=persistent).data_dir == Path("data")
    assert not Settings.from_env({}, persistent_dir=persistent).data_lost_on_restart
