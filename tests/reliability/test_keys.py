"""Keys never leak: not to a page, the config, the API schema, the browser, logs or history.

The server's key and a key pasted in a page are both used for real jobs,
then every place a key could end up is searched for either: zero hits.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from tests.apprunner import RunningApp, running_app
from tests.chromium import needs_chromium
from tests.fakefal import FAKE_KEY, FakeFal
from tests.rawqueue import RawPage
from tests.waiting import wait_for

PASTED = "pasted-key-id:pasted-key-secret-7d1c"
SECRETS = {"server key": FAKE_KEY.split(":")[1], "pasted key": PASTED.split(":")[1]}

pytestmark = needs_chromium


def paste_key_and_run(browser, url: str, prompt: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A visitor pastes a key and runs a job; returns what the browser kept."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    page.get_by_text("fal key ·").click()  # the section is folded: a key is at hand
    page.locator("#fal-key input").fill(PASTED)
    page.locator("#fal-key-use").click()
    page.get_by_text("Your key is set for this session only").wait_for()
    assert page.locator("#fal-key input").input_value() == ""  # the box does not keep it
    page.locator("#text-to-video-prompt textarea").fill(prompt)
    page.locator("#text-to-video-run").click()
    page.locator("#text-to-video-result video").wait_for(state="attached", timeout=60_000)
    kept = {
        "html": page.content(),
        "local storage": page.evaluate("JSON.stringify(Object.assign({}, localStorage))"),
        "session storage": page.evaluate("JSON.stringify(Object.assign({}, sessionStorage))"),
        "cookies": json.dumps(context.cookies()),
    }
    page.goto(url + "gradio_api/runs")  # the browser's run history page
    kept["run history"] = page.content()
    context.close()
    return kept


def everything_a_key_could_reach(app: RunningApp) -> dict[str, str]:
    places = {}
    for path in ("", "config", "gradio_api/info", "gradio_api/info?all_endpoints=true",
                 "gradio_api/openapi.json", "gradio_api/runs"):
        places[f"GET /{path}"] = httpx.get(app.url + path, trust_env=False).text
    for file in app.data_dir.rglob("*"):
        if file.is_file():
            places[str(file.relative_to(app.data_dir))] = file.read_bytes().decode("latin-1")
    return places


def test_no_key_is_ever_shown_stored_or_logged(fakefal: FakeFal, browser, tmp_path: Path) -> None:
    fakefal.allow_key(PASTED)
    with running_app(fakefal.env, tmp_path) as app:
        client = Client(app.url, verbose=False)
        status, *_ = client.predict(version="v2.2", prompt="on the server's key",
                                    api_name="/text_to_video")
        assert "Done" in status
        kept = paste_key_and_run(browser, app.url, "on a pasted key")
        wait_for(lambda: len(fakefal.find("submit")) == 2, what="both submits")
        # Each job was paid by the key that asked for it.
        by_prompt = {r.body["prompt"]: r.key for r in fakefal.find("submit")}
        assert by_prompt == {"on the server's key": FAKE_KEY, "on a pasted key": PASTED}
        # Another visitor, another session: the pasted key is not theirs.
        Client(app.url, verbose=False).predict(version="v2.2", prompt="someone else",
                                                api_name="/text_to_video")
        assert fakefal.find("submit")[-1].key == FAKE_KEY
        places = {**kept, **everything_a_key_could_reach(app)}
    hits = [(name, place) for name, secret in SECRETS.items()
            for place, text in places.items() if secret in text]
    assert hits == []
    assert len(places) >= 12  # the search looked in many places, not none


def test_a_public_space_does_not_lend_its_key(fakefal: FakeFal, tmp_path: Path) -> None:
    with running_app({**fakefal.env, "PIKA_REQUIRE_OWN_KEY": "1"}, tmp_path) as app:
        status, logs, *_ = Client(app.url, verbose=False).predict(
            version="v2.2", prompt="free ride?", api_name="/text_to_video")
    assert "Done" in status and "Local preview" in logs
    assert fakefal.records == []  # the owner's key paid for nothing


def test_team_login_and_logged_in_users_may_use_the_server_key(fakefal: FakeFal,
                                                               tmp_path: Path) -> None:
    env = {**fakefal.env, "PIKA_REQUIRE_OWN_KEY": "1", "PIKA_AUTH": "ada:lovelace-42"}
    with running_app(env, tmp_path) as app:
        assert httpx.get(app.url + "config", trust_env=False).status_code == 401
        with pytest.raises(Exception):  # noqa: B017 - gradio_client's error type varies
            Client(app.url, verbose=False, auth=("ada", "wrong"))
        client = Client(app.url, verbose=False, auth=("ada", "lovelace-42"))
        status, *_ = client.predict(version="v2.2", prompt="team job", api_name="/text_to_video")
        assert "Done" in status
        assert fakefal.count("submit") == 1
        assert "lovelace-42" not in app.output()


def fal_connections(pid: int, proxy_port: int) -> int:
    """The process's open TCP connections to fal (through the fake's proxy)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == proxy_port and fields[3] == "01" and fields[9] in inodes:
                count += 1
    return count


def test_pasted_keys_leave_nothing_behind(fakefal: FakeFal, tmp_path: Path) -> None:
    # No server key: every connection to fal belongs to a pasted key.
    env = {k: v for k, v in fakefal.env.items() if k != "FAL_KEY"}
    proxy_port = int(fakefal.env["HTTPS_PROXY"].rsplit(":", 1)[1])
    with running_app(env, tmp_path) as app:
        pid = app.process.pid
        before = fal_connections(pid, proxy_port)
        for i in range(100):
            key = f"visitor-{i:03d}:junk-secret-{i:03d}"
            page = RawPage(app.url)
            page.direct("set_key", key, None, None)
            if i % 10 == 0:  # one in ten runs a job on it, which opens connections to fal
                fakefal.allow_key(key)
                ok, outputs = page.call("text_to_video", version="v2.2", prompt=f"key {i}")
                assert ok and "Done" in outputs[1], outputs
            page.direct("forget_key")
            page.close()
        assert len({r.key for r in fakefal.find("submit")}) == 10  # each job on its own key
        wait_for(lambda: fal_connections(pid, proxy_port) == before, timeout=15,
                 what="every pasted key's connections to close")


def test_a_pasted_key_serves_only_the_login_that_pasted_it(fakefal: FakeFal,
                                                           tmp_path: Path) -> None:
    env = {**fakefal.env, "PIKA_AUTH": "ada:lovelace-42,bob:babbage-43"}
    fakefal.allow_key(PASTED)
    with running_app(env, tmp_path) as app:
        ada = RawPage(app.url, login=("ada", "lovelace-42"))
        ada.direct("set_key", PASTED, None, None)
        bob = RawPage(app.url, login=("bob", "babbage-43"))
        bob.session = ada.session  # bob holds ada's session id
        ok, message = bob.call("text_to_video", version="v2.2", prompt="on ada's key?")
        assert not ok and "pasted by someone else" in message
        assert fakefal.find("submit", key=PASTED) == []
        ok, outputs = ada.call("text_to_video", version="v2.2", prompt="on my key")
        assert ok and "Done" in outputs[1]
        assert [r.body["prompt"] for r in fakefal.find("submit", key=PASTED)] == ["on my key"]


def test_a_pasted_key_serves_only_the_visitor_that_pasted_it(fakefal: FakeFal,
                                                             tmp_path: Path) -> None:
    fakefal.allow_key(PASTED)
    with running_app(fakefal.env, tmp_path) as app:
        owner, other = RawPage(app.url), RawPage(app.url)
        owner.direct("set_key", PASTED, None, None)
        other.session = owner.session  # holds the owner's session id, not their cookie
        ok, message = other.call("text_to_video", version="v2.2", prompt="on their key?")
        assert not ok and "pasted by someone else" in message
        assert fakefal.find("submit", key=PASTED) == []
        ok, outputs = owner.call("text_to_video", version="v2.2", prompt="on my own key")
        assert ok and "Done" in outputs[1]
