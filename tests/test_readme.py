"""The README's "Use it from code" block, run as written against the offline demo."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from playground.media import describe_video
from tests.apprunner import ROOT, RunningApp, running_app


@pytest.fixture(scope="module")
def offline_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with running_app({}, tmp_path_factory.mktemp("readme")) as app:
        yield app


def test_the_readme_api_example_makes_a_video(offline_app: RunningApp) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Use it from code", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)[1]  # type: ignore[index]
    assert 'Client("http://127.0.0.1:7860/")' in code
    scope: dict[str, object] = {}
    exec(code.replace("http://127.0.0.1:7860/", offline_app.url), scope)  # noqa: S102
    assert "Done" in str(scope["status"])
    width, height, seconds = describe_video(Path(str(scope["video"])))
    assert (width, height) == (1280, 720) and 4.5 < seconds < 5.5


def test_every_public_output_has_a_name(offline_app: RunningApp) -> None:
    from gradio_client import Client

    api = Client(offline_app.url, verbose=False).view_api(print_info=False,
                                                          return_format="dict")
    unnamed = [(name, item["label"]) for name, endpoint in api["named_endpoints"].items()
               for item in endpoint["returns"] if item["label"].startswith("value_")]
    assert unnamed == []
