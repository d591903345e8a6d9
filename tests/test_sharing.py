"""Two people in two browsers: each sees their own jobs; a share link shows one job to
anyone who has it, until its owner revokes it. Real Chromium, on the offline demo
(local previews are real MP4s, and nothing leaves the machine).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.apprunner import RunningApp, running_app
from tests.chromium import needs_chromium, playing

pytestmark = [pytest.mark.browser, needs_chromium]
PROMPT = "only mine: a kite over the dunes"


@pytest.fixture(scope="module")
def offline_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with running_app({}, tmp_path_factory.mktemp("sharing")) as app:
        yield app


@pytest.fixture(scope="module")
def people(browser, offline_app):  # type: ignore[no-untyped-def]
    """Two people, each in a browser profile of their own, both with the page open."""
    pages = []
    for _ in range(2):
        page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
        page.goto(offline_app.url)
        pages.append(page)
    yield pages
    for page in pages:
        page.context.close()


@pytest.fixture(scope="module")
def video_url(people) -> str:  # type: ignore[no-untyped-def]
    """The first person's finished job, played in their page: its video's URL."""
    owner, _ = people
    owner.locator("#text-to-video-prompt textarea").fill(PROMPT)
    owner.locator("#text-to-video-run").click()
    return playing(owner, "#text-to-video-result video")


def open_history(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("tab", name="History", exact=True).click()
    page.locator("#history-table").wait_for(state="visible")


def row(page, text: str):  # type: ignore[no-untyped-def]
    return page.locator("#history-table").get_by_text(text).locator("visible=true").first


def test_each_person_sees_only_their_own_jobs(people, video_url: str) -> None:  # type: ignore[no-untyped-def]
    owner, other = people
    assert "Visitor on this browser" in owner.locator("#whoami").inner_text()
    assert owner.locator("footer").get_by_text("API").first.is_visible()  # for developers
    owner.reload()  # the visitor id lives in the browser: a reload keeps the history
    open_history(owner)
    row(owner, PROMPT).wait_for(timeout=15_000)

    open_history(other)
    other.locator("#history-table").get_by_text("Job").first.wait_for()
    assert PROMPT not in other.locator("#history-table").inner_text()
    assert PROMPT not in other.content()
    assert other.request.get(video_url).status == 404
    assert owner.request.get(video_url).status == 200


def test_a_share_link_opens_one_job_read_only_until_revoked(people, offline_app,
                                                            video_url: str) -> None:  # type: ignore[no-untyped-def]
    owner, other = people
    open_history(owner)
    row(owner, PROMPT).click()
    owner.locator("#history-details").get_by_text("Seed").wait_for(timeout=15_000)
    owner.locator("#history-share").click()
    box = owner.locator("#history-share-url").locator("textarea, input").first
    owner.wait_for_function(
        "e => e.value.includes('?share=')", arg=box.element_handle(), timeout=15_000)
    link = box.input_value()
    assert link.startswith(offline_app.url)  # built from the request: this server

    other.goto(link)
    details = other.locator("#shared-details")
    details.get_by_text(PROMPT).wait_for(timeout=15_000)
    assert "Seed" in details.inner_text() and "request" not in details.inner_text()
    shared_src = playing(other, "#shared-video video")
    assert "file=shared/" in shared_src and video_url != shared_src
    # Nothing else of the owner: their history stays theirs.
    open_history(other)
    assert PROMPT not in other.locator("#history-table").inner_text()

    other.locator("#shared-remix").click()
    other.wait_for_function(
        "t => document.querySelector('#text-to-video-prompt textarea').value === t",
        arg=PROMPT, timeout=15_000)

    open_history(owner)
    row(owner, PROMPT).click()
    owner.locator("#history-details").get_by_text("Seed").wait_for(timeout=15_000)
    owner.locator("#history-revoke").click()
    owner.get_by_text("Share link revoked").first.wait_for(timeout=15_000)
    other.goto(link)
    other.locator("#shared-details").get_by_text("revoked by its owner").wait_for(
        timeout=15_000)
    assert other.request.get(shared_src).status == 404


def test_a_job_link_opens_ones_own_job_and_nothing_of_others(people, offline_app,
                                                              video_url: str) -> None:  # type: ignore[no-untyped-def]
    owner, other = people
    job_id = video_url.rsplit("/", 1)[1].removesuffix(".mp4")
    owner.goto(f"{offline_app.url}?job={job_id}")
    owner.locator("#history-details").get_by_text(PROMPT).wait_for(timeout=15_000)
    assert owner.locator("#history-table").is_visible()  # the History tab, open
    playing(owner, "#history-video video")

    other.goto(f"{offline_app.url}?job={job_id}")
    other.locator("#history-details").get_by_text("No such job").wait_for(timeout=15_000)
    assert PROMPT not in other.content()


def test_start_afresh_is_a_new_visitor(browser, offline_app) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_context().new_page()
    try:
        page.goto(offline_app.url)
        page.locator("#text-to-video-prompt textarea").fill("left behind on purpose")
        page.locator("#text-to-video-run").click()
        playing(page, "#text-to-video-result video")
        page.locator("#start-afresh").click()
        page.get_by_text("You start afresh").first.wait_for(timeout=15_000)
        page.reload()
        open_history(page)
        page.locator("#history-table").get_by_text("Job").first.wait_for()
        assert "left behind on purpose" not in page.locator("#history-table").inner_text()
    finally:
        page.context.close()


def test_after_a_reload_a_running_job_is_followed_live_from_the_history(
        browser, app, fakefal) -> None:  # type: ignore[no-untyped-def]
    # Long enough to be still running after a reload and a click on a busy machine.
    fakefal.script(queue_positions=2, queue_step=1.0, run_time=10.0)
    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    try:
        page.goto(app.url)
        page.locator("#text-to-video-prompt textarea").fill("still running: a slow tide")
        page.locator("#text-to-video-run").click()
        page.locator("#text-to-video-status").get_by_text("Queued").wait_for(timeout=30_000)
        page.reload()
        page.locator("#whoami").get_by_text("1 job running").wait_for(timeout=15_000)
        # The page goes back to the job's tab on its own; then the person opens the History.
        # (A click before that lands can still be undone by it: see the README.)
        page.locator("#text-to-video-status").get_by_text("Queued").or_(
            page.locator("#text-to-video-status").get_by_text("Running")).first.wait_for(
            timeout=15_000)
        open_history(page)
        still = row(page, "still running: a slow tide")
        still.click()
        details = page.locator("#history-details")
        page.wait_for_function(  # the job's own status, as it moves
            "e => /Queued|Running/.test(e.innerText)", arg=details.element_handle(),
            timeout=15_000)
        playing(page, "#history-video video")
        details.get_by_text("Status: done").wait_for(timeout=15_000)
        # The table follows too: it said the job was running, and now says done.
        page.locator("#history-table").get_by_text("done").locator("visible=true").first \
            .wait_for(timeout=15_000)
    finally:
        page.context.close()
