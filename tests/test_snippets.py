"""Copy as code (issue 14): the Python, JavaScript and cURL that a tab shows for its form, or
the History for a job, run as they are, each in a process of its own, against the fake fal
cloud. Each reaches it with the body the app sent for the same form and ends with the
video's URL.

The JavaScript runs on Node with `@fal-ai/client` installed from npm into a temporary folder
(CI does the same); Node's fetch ignores HTTPS_PROXY, so a preloaded file hands it undici's
proxy agent, the one change a person behind a proxy would make too. The test is skipped
only when npm's registry cannot be reached.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client, handle_file

from playground import catalog, snippets
from playground.history import JobRecord
from playground.requests import build_request
from tests.apprunner import RunningApp
from tests.builders import IMAGE, IMAGES, gallery
from tests.fakefal import FakeFal, Record
from tests.records import recorded

LANGUAGES = ["python", "javascript", "curl"]
# Quotes of every kind, a shell's command substitution and variable, a backslash, a line
# break, an emoji and a right-to-left override: none may end its string or run anything.
HOSTILE = ("it's a \"paper\" boat `date` $(touch pwned) $HOME \\n\nnext line 🚣 \u202eevil")
NPM_OFFLINE = ("ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNREFUSED", "ECONNRESET",
               "ENETUNREACH", "network")
PROXY_JS = """// Node's fetch ignores HTTPS_PROXY; undici's agent reads it (and NO_PROXY).
const { setGlobalDispatcher, EnvHttpProxyAgent } = require("undici");
setGlobalDispatcher(new EnvHttpProxyAgent());
"""


@dataclass
class Sent:
    body: dict[str, Any]  # what the app sent to fal's queue
    record: JobRecord  # the job, as the history keeps it
    form: dict[str, Any]  # the form the app was given


def submits(fake: FakeFal, endpoint: str) -> list[Record]:
    return fake.find("submit", path=f"/{endpoint}", status=200)


def run_through_app(app: RunningApp, fake: FakeFal, mode: str, version: str,
                    api: dict[str, Any], form: dict[str, Any]) -> Sent:
    endpoint = catalog.lookup(mode, version).id
    before = len(submits(fake, endpoint))
    status, *_ = Client(app.url, verbose=False).predict(
        version=version, **api, api_name="/" + mode.replace("-", "_"))
    assert "Done" in status, status
    sent = submits(fake, endpoint)[before:]
    assert len(sent) == 1
    record = next(r for r in recorded(app.data_dir) if r.arguments == sent[0].body)
    return Sent(sent[0].body, record, form)


@pytest.fixture(scope="module")
def sent(app: RunningApp, fakefal_server: FakeFal) -> dict[str, Sent]:
    """Three jobs run through the app's API, as a page runs them."""
    fakefal_server.reset()
    text = {"prompt": HOSTILE, "aspect_ratio": "9:16", "duration": "10", "seed": 4321}
    image = {"prompt": "waves", "duration": "10", "seed": 5}
    keyframes = {"prompt": "a journey", "transition_1_prompt": "rise",
                 "transition_1_seconds": 3, "transition_2_seconds": 4, "seed": 77}
    return {
        "text": run_through_app(app, fakefal_server, "text-to-video", "v2.2", text, text),
        "image": run_through_app(app, fakefal_server, "image-to-video", "v2.2",
                                 {**image, "image_url": handle_file(str(IMAGE))},
                                 {**image, "image_url": str(IMAGE)}),
        "keyframes": run_through_app(app, fakefal_server, "keyframes", "v2.2",
                                     {**keyframes, "image_urls": gallery(IMAGES)}, keyframes),
    }


@pytest.fixture(scope="module")
def node_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder with `@fal-ai/client` (and undici, for the proxy) installed from npm."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: the JavaScript snippet needs Node 20+")
    major = int(subprocess.run(["node", "--version"], capture_output=True, text=True,
                               check=True).stdout.strip().lstrip("v").split(".")[0])
    assert major >= 20, "the JavaScript snippet needs Node 20+ (fetch, File)"
    folder = tmp_path_factory.mktemp("fal-js")
    (folder / "package.json").write_text('{"private": true}\n')
    done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error",
                           "@fal-ai/client@1", "undici@7"], cwd=folder, capture_output=True,
                          text=True, timeout=600)
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip()
        if any(word in said for word in NPM_OFFLINE):
            pytest.skip(f"npm's registry is unreachable, so @fal-ai/client cannot be "
                        f"installed: {said.splitlines()[-1] if said else done.returncode}")
        pytest.fail(f"npm install failed:\n{said}")
    (folder / "proxy.cjs").write_text(PROXY_JS)
    yield folder


def snippet_env(fake: FakeFal) -> dict[str, str]:
    """What a person's shell holds, pointed at the fake: its proxy, its CA, the key."""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **fake.env,
           "CURL_CA_BUNDLE": str(fake.ca_file), "NODE_EXTRA_CA_CERTS": str(fake.ca_file)}
    return env


def run(language: str, code: snippets.Snippets, cwd: Path, fake: FakeFal,
        node: Path | None) -> str:
    """Runs one form as a person would, in `cwd`; what it printed."""
    text = code.as_dict()[language]
    if language == "python":
        script = cwd / "pika.py"
        command = [sys.executable, str(script)]
    elif language == "javascript":
        assert node is not None
        script = node / "pika.mjs"  # beside node_modules, which is where Node looks
        command = ["node", "--require", str(node / "proxy.cjs"), str(script)]
    else:
        script = cwd / "pika.sh"
        command = ["bash", str(script)]
    script.write_text(text)
    done = subprocess.run(command, cwd=cwd, env=snippet_env(fake), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, f"{language} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def video_url(language: str, output: str) -> str:
    last = output.strip().splitlines()[-1]
    return json.loads(last)["video"]["url"] if language == "curl" else last


def assert_ends_with_the_video(language: str, output: str, fake: FakeFal,
                               body: dict[str, Any]) -> None:
    """The last line is the URL of the video of the job fal made of `body`, and it plays."""
    job = next(j for j in fake.jobs.values() if j.arguments == body)
    url = video_url(language, output)
    assert url == f"https://v3.fal.media/files/{job.id}/output.mp4"
    tls = ssl.create_default_context(cafile=str(fake.ca_file))
    with httpx.Client(proxy=fake.env["HTTPS_PROXY"], verify=tls) as client:
        video = client.get(url)
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"


@pytest.fixture
def node(request: pytest.FixtureRequest) -> Path | None:
    if request.node.callspec.params["language"] != "javascript":
        return None
    return request.getfixturevalue("node_folder")  # type: ignore[no-any-return]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_forms_code_sends_what_generate_sent(
        language: str, sent: dict[str, Sent], fakefal: FakeFal, tmp_path: Path,
        node: Path | None) -> None:
    job = sent["text"]
    endpoint = catalog.lookup("text-to-video", "v2.2")
    code = snippets.for_request(build_request(endpoint, job.form))
    assert code.local_files == ()
    output = run(language, code, tmp_path, fakefal, node)
    [mine] = submits(fakefal, endpoint.id)
    assert mine.body == job.body  # exact JSON types: "10" a string, 4321 a number
    assert isinstance(mine.body["duration"], str) and mine.body["seed"] == 4321
    assert mine.key == fakefal.env["FAL_KEY"]  # read from FAL_KEY, never written in
    assert_ends_with_the_video(language, output, fakefal, job.body)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_jobs_code_sends_what_the_job_sent(
        language: str, sent: dict[str, Sent], fakefal: FakeFal, tmp_path: Path,
        node: Path | None) -> None:
    job = sent["keyframes"]
    code = snippets.for_record(job.record)
    assert code.local_files == ()  # the files are fal's already: their URLs go as sent
    output = run(language, code, tmp_path, fakefal, node)
    [mine] = submits(fakefal, job.record.endpoint)
    assert mine.body == job.body
    assert len(mine.body["image_urls"]) == 3 and mine.body["transitions"][0] == {
        "duration": 3, "prompt": "rise"}
    assert_ends_with_the_video(language, output, fakefal, job.body)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_forms_code_uploads_a_local_file_by_its_name(
        language: str, sent: dict[str, Sent], fakefal: FakeFal, tmp_path: Path,
        node: Path | None) -> None:
    job = sent["image"]
    endpoint = catalog.lookup("image-to-video", "v2.2")
    code = snippets.for_request(build_request(endpoint, job.form))
    assert code.local_files == (IMAGE.name,)
    assert str(IMAGE.parent) not in json.dumps(code.as_dict())  # no path of this machine
    shutil.copyfile(IMAGE, tmp_path / IMAGE.name)
    output = run(language, code, tmp_path, fakefal, node)
    [mine] = submits(fakefal, endpoint.id)
    body = dict(mine.body)
    url = body.pop("image_url")
    assert body == {k: v for k, v in job.body.items() if k != "image_url"}
    if language == "curl":  # inline
        assert url.startswith("data:image/jpeg;base64,")
        assert base64.b64decode(url.split(",", 1)[1]) == IMAGE.read_bytes()
    else:  # uploaded to fal's storage first
        assert url.startswith("https://v3.fal.media/files/")
        assert fakefal.files[url.removeprefix("https://v3.fal.media")][0] == IMAGE.read_bytes()
    assert_ends_with_the_video(language, output, fakefal, mine.body)
