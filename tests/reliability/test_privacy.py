"""Each person sees their own jobs only: in the History, every API endpoint, the page,
its config and every file URL. Two API clients stand for two visitors: each keeps the
cookie the server gave it, as gradio_client and a browser do.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from playground.history import History, JobRecord
from tests.apprunner import RunningApp, running_app
from tests.builders import IMAGE
from tests.rawqueue import RawPage

PROMPT = "a private prompt: the red umbrella"


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with running_app({}, tmp_path_factory.mktemp("privacy")) as app:
        yield app


@pytest.fixture(scope="module")
def visitors(offline: RunningApp) -> Iterator[tuple[RawPage, RawPage]]:
    first, second = RawPage(offline.url), RawPage(offline.url)
    yield first, second
    first.close()
    second.close()


@pytest.fixture(scope="module")
def job(visitors: tuple[RawPage, RawPage]) -> dict[str, str]:
    """The first visitor's finished job: its id and its video's URL."""
    owner, _ = visitors
    ok, outputs = owner.call("text_to_video", version="v2.2", prompt=PROMPT)
    assert ok, outputs
    url = outputs[3]["url"]  # the page's URL for it: videos/<job id>.mp4
    return {"id": url.rsplit("/", 1)[1].removesuffix(".mp4"), "video": url}


def history_of(page: RawPage) -> str:
    ok, outputs = page.call("history")
    assert ok, outputs
    return json.dumps(outputs)


def test_the_owner_sees_their_job_and_nobody_else_does(offline: RunningApp, visitors,
                                                       job) -> None:  # type: ignore[no-untyped-def]
    owner, other = visitors
    assert PROMPT in history_of(owner)
    assert PROMPT not in history_of(other)
    assert job["id"] not in history_of(other)
    for path in ("", "config", "gradio_api/info", "gradio_api/info?all_endpoints=true"):
        assert PROMPT not in other.http.get(f"/{path}").text, path
    # Rows from before the restart were in the page's config (a Dataframe's value): now
    # the table starts empty for everyone, and fills once the page says who it is.
    assert job["id"] not in httpx.get(offline.url + "config", trust_env=False).text


def test_another_persons_job_cannot_be_opened_by_its_id(visitors, job) -> None:  # type: ignore[no-untyped-def]
    owner, other = visitors
    # A click on a table row, forged: the event data names the other person's job.
    row = {"row_value": ["", "", "", "", PROMPT, 0, "", job["id"]], "index": [0, 0],
           "value": job["id"]}
    ok, said = other.private("show", None, event_data=row)
    assert ok and PROMPT not in said and "No such job" in said
    ok, said = owner.private("show", None, event_data=row)
    assert ok and PROMPT in said
    # The page's own `?job=<id>` is the same: the owner's job opens, for the owner only.
    ok, said = other.private("arrive_1", None, query=f"?job={job['id']}")
    assert ok and PROMPT not in said
    ok, said = owner.private("arrive_1", None, query=f"?job={job['id']}")
    assert ok and PROMPT in said


def test_a_video_url_answers_its_owner_only(offline: RunningApp, visitors, job) -> None:  # type: ignore[no-untyped-def]
    owner, other = visitors
    answer = owner.http.get(job["video"])
    assert answer.status_code == 200 and answer.content[4:8] == b"ftyp"
    assert other.http.get(job["video"]).status_code == 404
    assert httpx.get(job["video"], trust_env=False).status_code == 404  # no cookie at all
    # Nor by its path in the store, for anyone: that would skip the owner check.
    stored = (offline.data_dir / "videos" / f"{job['id']}.mp4").resolve()
    assert stored.is_file()
    for page in (owner, other):
        for route in (f"/gradio_api/file={stored}", f"/gradio_api/file/{stored}"):
            assert page.http.get(route).status_code == 404, route


def test_stop_answers_nothing_of_another_persons_job(visitors, job) -> None:  # type: ignore[no-untyped-def]
    _, other = visitors
    ok, said = other.call("stop_text_to_video")
    assert ok and said == ["Nothing to stop."]


def test_rows_from_before_owners_are_shown_to_nobody(offline: RunningApp, visitors) -> None:  # type: ignore[no-untyped-def]
    history = History(offline.data_dir / "history.sqlite3")
    try:
        history.save(JobRecord(id="0123456789abcdef", mode="text-to-video", version="v2.2",
                               endpoint="fal-ai/pika/v2.2/text-to-video", backend="local",
                               key_source="none", form={"prompt": "an ownerless old row"},
                               status="done", created=time.time()))
    finally:
        history.close()
    for page in visitors:
        assert "an ownerless old row" not in history_of(page)


def test_start_afresh_leaves_the_old_history_behind(offline: RunningApp) -> None:
    page = RawPage(offline.url)
    try:
        ok, outputs = page.call("text_to_video", version="v2.2", prompt="before afresh")
        assert ok, outputs
        assert "before afresh" in history_of(page)
        # The page's visitor id is what it sends; a new one is a new person.
        ok, said = page.private("arrive_1", "N" * 43)
        assert ok and "before afresh" not in said
    finally:
        page.close()


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    env = {"PIKA_AUTH": "alice:alice-pw,bob:bob-pw", "PIKA_TEAM_HISTORY": "1"}
    with running_app(env, tmp_path_factory.mktemp("team")) as app:
        yield app


def test_a_team_sees_each_others_jobs_with_who_made_them(team: RunningApp) -> None:
    alice = RawPage(team.url, login=("alice", "alice-pw"))
    bob = RawPage(team.url, login=("bob", "bob-pw"))
    try:
        ok, outputs = alice.call("text_to_video", version="v2.2", prompt="alice's lighthouse")
        assert ok, outputs
        ok, table = bob.call("history")
        rows = [r for r in table[0]["data"] if "alice's lighthouse" in r]
        assert rows and rows[0][0] == "alice", table
        assert bob.http.get(outputs[3]["url"]).status_code == 200  # the team's video too
    finally:
        alice.close()
        bob.close()


def test_a_restart_keeps_owners_and_share_links(fakefal_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fakefal_server.reset()
    data = tmp_path / "restart"
    with running_app(fakefal_server.env, data) as app:
        owner, other = RawPage(app.url), RawPage(app.url)
        ok, outputs = owner.call("text_to_video", version="v2.2", prompt="kept across a kill")
        assert ok, outputs
        job_id = outputs[3]["url"].rsplit("/", 1)[1].removesuffix(".mp4")
        row = {"row_value": [job_id], "index": [0, 0], "value": job_id}
        assert owner.private("show", None, event_data=row)[0]
        link = owner.direct("share", None, None)["data"][0]
        assert "?share=" in link
        # A second job, still running at fal when the server dies.
        fakefal_server.script(run_time=3.0)
        assert owner.hang_up_once_started("text_to_video", version="v2.2",
                                          prompt="resumed for its owner") is None
        app.kill()
    with running_app(fakefal_server.env, data) as app:
        owner.http.base_url = other.http.base_url = httpx.URL(app.url.rstrip("/"))
        deadline = time.monotonic() + 60
        while "resumed for its owner" not in history_of(owner):
            assert time.monotonic() < deadline, "the resumed job is not in its owner's history"
            time.sleep(0.2)
        assert "resumed for its owner" not in history_of(other)
        token = link.split("?share=")[1]
        shared = other.http.get(f"/gradio_api/file=shared/{token}.mp4")
        assert shared.status_code == 200 and shared.content[4:8] == b"ftyp"
        video = f"/gradio_api/file=videos/{job_id}.mp4"  # on the new port
        assert other.http.get(video).status_code == 404
        assert owner.http.get(video).status_code == 200


def test_an_uploaded_input_answers_the_browsers_it_was_handed_to(visitors) -> None:  # type: ignore[no-untyped-def]
    owner, other = visitors
    image = owner.upload(IMAGE)
    url = f"/gradio_api/file={image['path']}"
    assert owner.http.get(url).status_code == 200
    assert other.http.get(url).status_code == 404
    ok, outputs = owner.call("image_to_video", version="v2.2", prompt="my own picture",
                             image_url=image)
    assert ok, outputs
    # A Remix hands the job's input back as a fresh copy: the owner's alone too.
    job_id = outputs[3]["url"].rsplit("/", 1)[1].removesuffix(".mp4")
    assert owner.private("show", None, event_data={"row_value": [job_id], "index": [0, 0],
                                                   "value": job_id})[0]
    ok, said = owner.private("remix", None, None)
    assert ok, said
    # The page opens the job's tab, which builds it (a render) and puts the form back: the
    # copies come there.
    pending = owner._calls["remix"]["outputs"][2]  # the Tabs, then each mode's; this second
    render = next(n for n, d in owner._calls.items()
                  if d["inputs"] == [pending] and d.get("render_id") is not None)
    put_back = next(d["id"] for d in owner.render(render)
                    if d["targets"] == [[pending, "change"]])
    ok, said = owner.private(put_back, None)
    assert ok, said
    copies = {p for p in re.findall(r'"(/[^"]+\.jpe?g)"', said) if p != image["path"]}
    assert copies, said
    for copy in copies:
        assert owner.http.get(f"/gradio_api/file={copy}").status_code == 200
        assert other.http.get(f"/gradio_api/file={copy}").status_code == 404
