"""The ways the playground is deployed (a Space, Docker, `make run`) agree with the code."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import subprocess
import tomllib
from pathlib import Path

import yaml
from packaging.specifiers import SpecifierSet

from playground.settings import Settings
from tests import dockerignore
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


def copied_into_the_image() -> list[str]:
    """The sources of the Dockerfile's COPY lines (none copies from another stage)."""
    sources = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        words = line.split()
        if words[:1] == ["COPY"]:
            assert not any(w.startswith("--from") for w in words)
            sources += [w.rstrip("/") for w in words[1:-1] if not w.startswith("--")]
    return sources


# What a checkout holds after `make run` and `make test`, whether or not this one does.
LEFT_OUT = [".venv/bin/python", ".venv/lib/python3.11/site-packages/gradio/blocks.py",
            "data/history.sqlite3", "data/videos/0123456789abcdef.mp4", "data/inputs/a.jpg",
            ".git/HEAD", ".git", "artifacts/screenshots/text-to-video.png",
            ".pytest_cache/v/cache/nodeids", ".ruff_cache/0.6.0/123", "__pycache__/app.pyc",
            "playground/__pycache__/jobs.cpython-311.pyc", "ui/__pycache__/app.cpython-311.pyc",
            "pika_playground.egg-info/PKG-INFO", "tests/test_deploy.py", "bench/__main__.py",
            "docs/screenshot.png", ".env", "Makefile", ".ci/run"]
NEEDED = ["app.py", "requirements.txt", "playground/jobs.py", "playground/backends/fal.py",
          "ui/app.py", "ui/clock.js", "presets/text-to-video.json"]


def test_the_build_context_holds_what_the_image_needs_and_nothing_else() -> None:
    ignore = ROOT / ".dockerignore"
    rules = dockerignore.read_rules(ignore.read_text() if ignore.exists() else "")
    sent = [p for p in LEFT_OUT + NEEDED if not dockerignore.excluded(rules, p)]
    assert sent == NEEDED
    # This checkout, as `docker build .` would send it: all of it copied into the image.
    context = dockerignore.context(ROOT)
    sources = copied_into_the_image()
    assert set(NEEDED) <= set(context)
    for source in sources:
        assert any(p == source or p.startswith(f"{source}/") for p in context), source
    extra = [p for p in context if not any(p == s or p.startswith(f"{s}/") for s in sources)]
    assert extra == []
    size = sum((ROOT / p).stat().st_size for p in context)
    assert size < 2 * 2**20, f"{size / 2**20:.1f} MiB"


def test_the_reader_follows_dockers_documented_examples() -> None:
    rules = dockerignore.read_rules(
        "# comment\n*/temp*\n*/*/temp*\ntemp?\n**/*.go\n/abs/./x/\n*.md\n!README*.md\n"
        "README-secret.md\n")
    assert dockerignore.excluded(rules, "somedir/temporary.txt")
    assert dockerignore.excluded(rules, "somedir/temp")  # and everything under it
    assert dockerignore.excluded(rules, "somedir/temp/file")
    assert not dockerignore.excluded(rules, "temporary.txt")
    assert dockerignore.excluded(rules, "somedir/subdir/temporary.txt")
    assert dockerignore.excluded(rules, "tempa") and not dockerignore.excluded(rules, "tempab")
    assert dockerignore.excluded(rules, "main.go") and dockerignore.excluded(rules, "a/b/c.go")
    assert dockerignore.excluded(rules, "abs/x/file")
    assert not dockerignore.excluded(rules, "README.md")  # the last matching line decides
    assert dockerignore.excluded(rules, "README-secret.md")
    assert dockerignore.excluded(rules, "notes.md")
    assert not dockerignore.excluded(rules, "# comment")  # a comment is no pattern


def make_would_run(target: str, venv: Path) -> str:
    """The commands `make` would run for a target in a fresh checkout (`make -n`)."""
    return subprocess.run(["make", "-n", target, f"VENV={venv}"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout


def test_make_run_installs_what_running_needs_and_make_test_adds_the_rest(
        tmp_path: Path) -> None:
    run = make_would_run("run", tmp_path / "venv")
    assert "pip install -q -e .\n" in run
    assert "[test]" not in run
    test = make_would_run("test", tmp_path / "venv")
    assert "pip install -q -e .\n" in test and "pip install -q -e '.[test,postgres]'" in test


def imported_modules(paths: list[Path]) -> set[str]:
    names = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return names


def test_the_app_imports_nothing_that_only_the_test_install_brings() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text()
                           )["project"]["optional-dependencies"]["test"]
    test_only = {re.split(r"[<>=!~;\[ ]", req)[0].lower() for req in extras}
    by_module = importlib.metadata.packages_distributions()
    sources = [ROOT / "app.py", *(ROOT / "ui").rglob("*.py"), *(ROOT / "playground").rglob("*.py")]
    needs = {module: by_module.get(module, []) for module in imported_modules(sources)}
    assert not {m for m, dists in needs.items() if {d.lower() for d in dists} & test_only}


def test_docker_runs_python_itself_so_that_it_gets_sigterm() -> None:
    cmd = [line for line in (ROOT / "Dockerfile").read_text().splitlines()
           if line.startswith("CMD ")]
    assert len(cmd) == 1
    assert json.loads(cmd[0][4:])[:2] == ["python", "app.py"]  # exec form, no shell
