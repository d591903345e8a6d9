"""No key: every mode still runs end to end and yields a real MP4 of the asked size."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from gradio_client import Client

from tests.apprunner import RunningApp, running_app
from tests.builders import JOBS, api_form, api_name


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with running_app({}, tmp_path_factory.mktemp("offline")) as app:
        yield app


def video_path(output: object) -> Path:
    return Path(output["video"] if isinstance(output, dict) else output)  # type: ignore[index]


@pytest.mark.parametrize(("mode", "version", "form", "size", "seconds"), JOBS,
                         ids=[f"{j[0]}-{j[1]}" for j in JOBS])
def test_offline_preview_for_every_endpoint(offline: RunningApp, mode, version, form, size,
                                            seconds) -> None:
    client = Client(offline.url, verbose=False)
    status, logs, video, info = client.predict(version=version, **api_form(form),
                                               api_name=api_name(mode))
    assert "Done" in status, status
    assert "Local preview" in logs
    path = video_path(video)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == size
        assert float(stream.duration * stream.time_base) == pytest.approx(seconds, abs=0.2)
        assert stream.codec_context.name == "h264"
    assert "seed" in info
