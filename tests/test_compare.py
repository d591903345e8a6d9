"""Compare (issue 14, item 2) in a real Chromium against the fake fal cloud: one prompt
across four versions, one of which fails at fal while the others land; the total price
before running; Play all; a cell remixed, shared and shown as code; refusals that cost
nothing; Stop all; a phone; a reload mid-grid.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import pytest
from playwright.sync_api import expect

from tests.apprunner import RunningApp, running_app
from tests.chromium import needs_chromium, playing
from tests.fakefal import FakeFal
from tests.records import recorded
from tests.test_browser import ARTIFACTS, MEDIA, VIEWPORTS, upload
from tests.waiting import wait_for

pytestmark = [pytest.mark.browser, needs_chromium]
VERSIONS = ("v2.5", "v2.2", "v2.1", "v2 Turbo")


def open_compare(browser: Any, app: RunningApp, viewport: str = "desktop") -> Any:
    context = browser.new_context(viewport=VIEWPORTS[viewport])
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app.url[:-1])
    page = context.new_page()
    page.goto(app.url)
    page.get_by_role("tab", name="Compare").click()
    return page


@pytest.fixture
def page(browser: Any, app: RunningApp) -> Iterator[Any]:
    page = open_compare(browser, app)
    yield page
    page.context.close()


def cell(page: Any, n: int) -> Any:
    return page.locator(f"#compare-cell-{n}")


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_four_versions_side_by_side_one_failing_the_others_land(
        page: Any, app: RunningApp, fakefal: FakeFal) -> None:
    fakefal.script(endpoint="fal-ai/pika/v2.1/text-to-video",
                   fail_job="The model could not render this prompt.")
    text = "compare: a <b>lighthouse</b> in a storm"
    page.locator("#compare-prompt textarea").fill(text)
    for version in VERSIONS:  # all four, chosen by default
        expect(page.locator("#compare-versions").get_by_label(version, exact=True)
               ).to_be_checked()
    # The total before running: four videos, some at an estimated price.
    expect(page.locator("#compare-price")).to_contain_text("for 4 videos")
    before = page.locator("#compare-price").inner_text()
    page.locator("#compare-run").click()
    urls = [playing(page, f"#compare-cell-{n} video") for n in (1, 2, 4)]
    assert len(set(urls)) == 3
    failed = cell(page, 3)
    expect(failed).to_contain_text("Failed", timeout=30_000)
    expect(failed).to_contain_text("could not render this prompt")
    assert failed.locator("video").count() == 0
    for n, version in enumerate(VERSIONS, start=1):
        expect(cell(page, n)).to_contain_text(version)
    assert cell(page, 5).inner_text().strip() == ""
    status = page.locator("#compare-status").inner_text()
    assert "4 of 4 started" in status and before.split("about ")[1].split(" ")[0] in status

    # fal saw one prompt, one seed, four endpoints; each cell is a job in the history.
    submits = fakefal.find("submit", status=200)
    assert sorted(r.path for r in submits) == sorted(
        f"/fal-ai/pika/{p}/text-to-video" for p in ("v2.5", "v2.2", "v2.1", "v2/turbo"))
    assert {r.body["prompt"] for r in submits} == {text}
    seeds = {r.body["seed"] for r in submits}
    assert len(seeds) == 1
    jobs = [r for r in recorded(app.data_dir) if r.form.get("prompt") == text]
    assert sorted(r.version for r in jobs) == sorted(VERSIONS)
    assert sorted(r.status for r in jobs) == ["done", "done", "done", "failed"]
    # The prompt shows as typed: no markup from it.
    assert cell(page, 1).locator("b", has_text="lighthouse").count() == 0

    page.locator("#compare-play").click()
    page.wait_for_function("""() => [...document.querySelectorAll('#compare-grid video')]
        .every(v => !v.paused && v.currentTime > 0)""", timeout=15_000)
    shot(page, "compare-desktop")

    # A cell as code: its own request, with its version's endpoint and seed.
    cell(page, 2).get_by_role("button", name="Code").click()
    note = page.locator("#compare-code-note")
    expect(note).to_contain_text("v2.2", timeout=15_000)
    python = page.locator("#compare-code-python")
    expect(python).to_contain_text("fal-ai/pika/v2.2/text-to-video", timeout=15_000)
    assert str(seeds.pop()) in python.inner_text()

    # Shared: a link that opens it for anyone.
    cell(page, 1).get_by_role("button", name="Share").click()
    link = page.locator("#compare-share-url textarea, #compare-share-url input").first
    expect(link).to_have_value(re.compile(r"\?share=[\w-]+$"), timeout=15_000)

    # Remixed: its tab opens with its version, prompt and seed.
    cell(page, 4).get_by_role("button", name="Remix").click()
    expect(page.locator("#text-to-video-prompt textarea")).to_have_value(text, timeout=15_000)
    assert page.locator("#text-to-video-version").get_by_label(
        "v2 Turbo", exact=True).is_checked()
    turbo = next(r for r in jobs if r.version == "v2 Turbo")
    expect(page.locator("#text-to-video-seed input, #text-to-video-seed textarea").first
           ).to_have_value(str(turbo.seed))


def test_refusals_name_the_field_and_cost_nothing(page: Any, fakefal: FakeFal) -> None:
    page.locator("#compare-run").click()  # no prompt
    status = page.locator("#compare-status")
    expect(status).to_contain_text("Check the form", timeout=15_000)
    expect(status).to_contain_text("Prompt")
    expect(page.locator("#compare-prompt")).to_have_class(re.compile("has-problem"))

    # Nine videos: more than a grid holds, said before running and on running.
    page.locator("#compare-prompt textarea").fill("too many")
    seeds = page.locator("#compare-seeds input[type=number]")
    seeds.fill("3")
    seeds.press("Enter")
    expect(page.locator("#compare-price")).to_contain_text("at most 8")
    page.locator("#compare-run").click()
    expect(status).to_contain_text("12 videos", timeout=15_000)
    expect(page.locator("#compare-seeds")).to_have_class(re.compile("has-problem"))
    expect(page.locator("#compare-prompt")).not_to_have_class(re.compile("has-problem"))

    # Image to video without its first frame.
    page.locator("#compare-mode").get_by_label("Image to video").check()
    seeds.fill("1")
    seeds.press("Enter")
    page.locator("#compare-run").click()
    expect(status).to_contain_text("First frame", timeout=15_000)
    assert fakefal.count("submit") == 0


def test_image_to_video_two_versions_two_seeds_on_a_phone_then_stop_all(
        browser: Any, app: RunningApp, fakefal: FakeFal) -> None:
    fakefal.script(queue_positions=30, queue_step=1.0)
    page = open_compare(browser, app, "phone")
    try:
        page.locator("#compare-mode").get_by_label("Image to video").check()
        upload(page, "#compare-image_url", MEDIA / "sailboat.jpg")
        page.locator("#compare-image_url img").wait_for(timeout=15_000)
        versions = page.locator("#compare-versions")
        versions.get_by_label("v2.5", exact=True).uncheck()
        versions.get_by_label("v2.1", exact=True).uncheck()
        seeds = page.locator("#compare-seeds input[type=number]")
        seeds.fill("2")
        seeds.press("Enter")
        expect(page.locator("#compare-price")).to_contain_text("for 4 videos")
        page.locator("#compare-prompt textarea").fill("the boat sails on")
        page.locator("#compare-run").click()
        for n in range(1, 5):
            expect(cell(page, n)).to_contain_text("Queued at fal", timeout=30_000)
        # Two to a line, nothing wider than the phone.
        boxes = [cell(page, n).bounding_box() for n in (1, 2, 3)]
        assert boxes[0]["y"] == boxes[1]["y"] < boxes[2]["y"]  # type: ignore[index]
        assert page.evaluate("document.documentElement.scrollWidth") <= \
            VIEWPORTS["phone"]["width"]
        shot(page, "compare-phone")
        page.locator("#compare-stop").click()
        for n in range(1, 5):
            expect(cell(page, n)).to_contain_text("Stopped", timeout=30_000)
        assert fakefal.count("cancel") == 4
        bodies = [r.body for r in fakefal.find("submit", status=200)]
        assert len(bodies) == 4 and len({b["seed"] for b in bodies}) == 2
        assert all(b["image_url"] for b in bodies)
    finally:
        page.context.close()


def test_a_reload_mid_grid_brings_the_grid_back_and_follows_it(
        browser: Any, app: RunningApp, fakefal: FakeFal) -> None:
    fakefal.script(queue_positions=2, queue_step=1.0, run_time=8.0)
    page = open_compare(browser, app)
    other = open_compare(browser, app)  # another browser: its own last grid, none
    try:
        versions = page.locator("#compare-versions")
        for version in ("v2.1", "v2 Turbo"):
            versions.get_by_label(version, exact=True).uncheck()
        page.locator("#compare-prompt textarea").fill("back after a reload")
        page.locator("#compare-run").click()
        for n in (1, 2):
            expect(cell(page, n)).to_contain_text("Queued at fal", timeout=30_000)
        page.reload()
        page.get_by_role("tab", name="Compare").click()
        status = page.locator("#compare-status")
        expect(status).to_contain_text(re.compile(r"Your last comparison: 2 videos, [12] still "
                                                  r"running"), timeout=15_000)
        urls = [playing(page, f"#compare-cell-{n} video") for n in (1, 2)]
        assert len(set(urls)) == 2
        for n, version in ((1, "v2.5"), (2, "v2.2")):
            expect(cell(page, n)).to_contain_text(version)
        assert fakefal.count("submit") == 2  # followed again, never sent again

        other.reload()
        other.get_by_role("tab", name="Compare").click()
        expect(other.locator("#compare-status")).to_contain_text("The videos appear here")
        assert "back after a reload" not in other.content()
        assert other.locator("#compare-grid video").count() == 0
    finally:
        page.context.close()
        other.context.close()


def test_a_grid_killed_mid_run_lands_whole_after_a_restart(
        browser: Any, fakefal: FakeFal, tmp_path: Path) -> None:
    fakefal.script(queue_positions=2, queue_step=0.5, run_time=6.0)
    with running_app(fakefal.env, tmp_path) as app:
        page = open_compare(browser, app)
        page.locator("#compare-prompt textarea").fill("survivors, side by side")
        page.locator("#compare-run").click()
        wait_for(lambda: len([r for r in recorded(tmp_path) if r.request_id]) == 4,
                 what="four request ids on record")
        app.kill()
        page.context.close()
    with running_app(fakefal.env, tmp_path):
        done = wait_for(lambda: (jobs := recorded(tmp_path)) and
                        all(r.status == "done" for r in jobs) and jobs,
                        timeout=60, what="every cell to land after the restart")
    assert sorted(r.version for r in done) == sorted(VERSIONS)
    assert fakefal.count("submit") == 4  # followed by request id, never sent again
    for record in done:
        with av.open(str(tmp_path / record.video)) as container:
            assert container.streams.video[0].duration
