"""No path of this machine reaches a visitor: results go out by an opaque name.

Everything a client receives is searched for the data directory (which holds
Gradio's temp dir in these tests) and the app's own folder: the event stream
of a job, the page config, the API description, the History, the video URL
a page plays, and a message about an error that concerned a file. The video
URL must still play: 200 or 206, video/mp4.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client

from tests.apprunner import ROOT, RunningApp, running_app
from tests.chromium import needs_chromium
from tests.fakefal import FakeFal
from tests.rawqueue import RawPage

OPAQUE = re.compile(r"videos/[0-9a-f]{16}\.mp4")


def server_paths(app: RunningApp) -> dict[str, str]:
    return {"data dir": str(app.data_dir), "data dir, resolved": str(app.data_dir.resolve()),
            "Gradio's temp dir": str(app.data_dir / "gradio-tmp"), "app folder": str(ROOT)}


def assert_no_server_path(app: RunningApp, places: dict[str, str]) -> None:
    hits = [f"{name} in {place}: ...{text[max(text.find(path) - 60, 0):][:160]}..."
            for place, text in places.items() for name, path in server_paths(app).items()
            if path in text]
    assert hits == [], "\n".join(hits)


def assert_plays(url: str, cookies: httpx.Cookies) -> None:
    """A video plays for its owner, known by the cookie the server gave them."""
    whole = httpx.get(url, cookies=cookies, trust_env=False)
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4", url
    part = httpx.get(url, headers={"Range": "bytes=100-"}, cookies=cookies, trust_env=False)
    assert part.status_code == 206 and part.headers["content-type"] == "video/mp4", url
    assert part.content == whole.content[100:]


@pytest.fixture(scope="module")
def raw(app: RunningApp) -> Iterator[RawPage]:
    page = RawPage(app.url)
    yield page
    page.close()


def run(raw: RawPage, prompt: str) -> tuple[str, list[Any]]:
    """A job's event stream as sent, and its last outputs."""
    messages = list(raw.messages(raw.join("text_to_video", version="v2.2", prompt=prompt)))
    assert messages[-1]["msg"] == "process_completed" and messages[-1]["success"], messages[-1]
    return json.dumps(messages), messages[-1]["output"]["data"]


def test_a_job_through_the_api_names_no_server_path(app: RunningApp, fakefal: FakeFal,
                                                    raw: RawPage) -> None:
    fakefal.script(queue_positions=1, run_time=0.3)
    stream, (_, status, _, video, *_) = run(raw, "an api job")
    assert "Done" in status, status
    assert OPAQUE.fullmatch(video["path"]), video
    assert_plays(video["url"], raw.http.cookies)
    ok, history = raw.call("history")
    assert ok
    places = {"the job's event stream": stream, "the History": json.dumps(history)}
    for path in ("config", "gradio_api/info", "gradio_api/openapi.json"):
        places[f"GET /{path}"] = httpx.get(app.url + path, trust_env=False).text
    assert_no_server_path(app, places)


def test_an_error_about_a_file_names_no_server_path(app: RunningApp, fakefal: FakeFal,
                                                    raw: RawPage) -> None:
    # The result link answers with a web page instead of a video: opening it fails, and
    # PyAV's message names the file it opened.
    fakefal.script(queue_positions=0, run_time=0.2, faults={"cdn": ["garbage"]})
    stream, (_, status, *_) = run(raw, "a broken result")
    assert "Failed" in status and "InvalidDataError" in status, status
    assert_no_server_path(app, {"the job's event stream": stream})


def test_a_video_by_its_name_still_needs_the_login(fakefal: FakeFal, tmp_path: Path) -> None:
    with running_app({**fakefal.env, "PIKA_AUTH": "ada:lovelace-42"}, tmp_path) as app:
        client = Client(app.url, verbose=False, auth=("ada", "lovelace-42"))
        _, _, video, _ = client.predict(version="v2.2", prompt="a team job",
                                        api_name="/text_to_video")
        assert Path(video["video"] if isinstance(video, dict) else video).stat().st_size > 0
        job = next((app.data_dir / "videos").glob("*.mp4")).stem
        url = f"{app.url}gradio_api/file=videos/{job}.mp4"
        # Without the login nobody is its owner: the same answer as for a job that is not
        # there, so nothing is learnt of which exist.
        assert httpx.get(url, trust_env=False).status_code == 404
        assert httpx.get(url, trust_env=False, cookies=client.cookies).status_code == 200


# The page's event streams as it receives them (Chromium keeps no copy of a streamed body):
# Gradio's client reads them with fetch, so a copy of each is kept in `window.streams`.
RECORD_STREAMS = """
window.streams = [];
const pageFetch = window.fetch;
window.fetch = async (...args) => {
    const response = await pageFetch(...args);
    const url = String(args[0]?.url ?? args[0]);
    if (!url.includes("queue/data") || !response.body) return response;
    const [copy, body] = response.body.tee();
    const index = window.streams.push("") - 1;
    (async () => {
        const reader = copy.pipeThrough(new TextDecoderStream()).getReader();
        for (let r = await reader.read(); !r.done; r = await reader.read()) {
            window.streams[index] += r.value;
        }
    })();
    return new Response(body, {status: response.status, headers: response.headers});
};
"""


@pytest.mark.browser
@needs_chromium
def test_a_job_in_the_page_names_no_server_path(app: RunningApp, fakefal: FakeFal,  # type: ignore[no-untyped-def]
                                                browser) -> None:
    fakefal.script(queue_positions=1, run_time=0.3)
    context = browser.new_context()
    page = context.new_page()
    page.add_init_script(RECORD_STREAMS)
    responses: list[Any] = []
    page.on("response", lambda response: responses.append(response))
    page.goto(app.url)
    page.locator("#text-to-video-prompt textarea").fill("a page job")
    page.locator("#text-to-video-run").click()
    played = {}
    for where, video in (("the tab", "#text-to-video-result video"),
                         ("History", "video:visible")):
        if where == "History":
            page.get_by_role("tab", name="History", exact=True).click()
            cell = page.locator("#history-table").get_by_text("a page job", exact=True)
            cell.locator("visible=true").first.click()
        handle = page.locator(video).element_handle(timeout=60_000)
        page.wait_for_function("v => v.readyState >= 2 && v.duration > 0", arg=handle,
                               timeout=30_000)
        played[where] = handle.get_attribute("src")
    assert_no_server_path(app, {f"{where}'s video src": src for where, src in played.items()})
    cookies = httpx.Cookies({c["name"]: c["value"] for c in context.cookies()})
    for src in played.values():
        assert_plays(src, cookies)

    places = {"the page as shown": page.content(), **{f"{w}'s video src": s
                                                       for w, s in played.items()}}
    streams = page.evaluate("() => window.streams")
    # Read whole: the job's (its video) and History's (the job's details, its video).
    assert sum("file=videos/" in text for text in streams) >= 2, streams
    assert any("a page job" in text for text in streams), streams
    places |= {f"event stream {index + 1}": text for index, text in enumerate(streams)}
    for response in responses:  # the page and its config, every JSON answer
        kind = response.headers.get("content-type", "")
        if kind.startswith(("text/html", "text/css", "text/plain", "application/json")):
            places[f"{response.request.method} {response.url}"] = response.text()
    context.close()
    assert "components" in places["GET " + app.url]  # the page, with its config inside
    assert_no_server_path(app, places)
