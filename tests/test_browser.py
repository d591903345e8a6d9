"""Each tab filled in and run in real Chromium; the result video must play.

The tabs, history and remix run on the offline demo (no key), so the page, queue,
events and video element are all real while nothing leaves the machine; the
running clock and fal's complaints run against the fake fal cloud. Screenshots
of every tab go to `artifacts/screenshots/`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from playground import catalog
from tests.apprunner import ROOT, RunningApp, running_app
from tests.chromium import needs_chromium
from tests.fakefal import FakeFal

ARTIFACTS = ROOT / "artifacts" / "screenshots"
MEDIA = ROOT / "presets" / "media"
TABS = {**catalog.MODES, "compare": "Compare", "history": "History"}  # id -> label, as shown
VIEWPORTS = {"desktop": {"width": 1366, "height": 850}, "phone": {"width": 390, "height": 844}}
pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture(scope="module")
def offline_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with running_app({}, tmp_path_factory.mktemp("browser")) as app:
        yield app


def open_page(browser, url: str, viewport: dict[str, int] | None = None):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=viewport or {"width": 1400, "height": 1100})
    page = context.new_page()
    page.goto(url)
    return page


@pytest.fixture
def page(browser, offline_app):  # type: ignore[no-untyped-def]
    page = open_page(browser, offline_app.url)
    yield page
    page.context.close()


@pytest.fixture
def cloud_page(browser, app):  # type: ignore[no-untyped-def]
    """A page of the playground on the fake fal cloud, with the server's key."""
    page = open_page(browser, app.url)
    yield page
    page.context.close()


def upload(page, selector: str, *files: Path) -> None:  # type: ignore[no-untyped-def]
    page.locator(f"{selector} input[type=file]").set_input_files([str(f) for f in files])


def prompt(page, mode: str, text: str) -> None:  # type: ignore[no-untyped-def]
    page.locator(f"#{mode}-prompt textarea").fill(text)


FILLERS: dict[str, Callable[..., None]] = {
    "text-to-video": lambda page: prompt(page, "text-to-video", "a paper boat on a rainy street"),
    "image-to-video": lambda page: (
        upload(page, "#image-to-video-image_url", MEDIA / "sailboat.jpg"),
        prompt(page, "image-to-video", "the boat drifts, slow dolly out")),
    "keyframes": lambda page: (
        upload(page, "#keyframes-image_urls", MEDIA / "dawn-hills.jpg", MEDIA / "sailboat.jpg",
               MEDIA / "night-city.jpg"),
        page.locator("#keyframes-t2-prompt textarea, #keyframes-t2-prompt input").first.wait_for(),
        prompt(page, "keyframes", "from hills to sea to city")),
    "scenes": lambda page: (
        upload(page, "#scenes-image_urls", MEDIA / "teacup.jpg", MEDIA / "sailboat.jpg"),
        prompt(page, "scenes", "a giant teacup floats beside the boat")),
    "effects": lambda page: (
        upload(page, "#effects-image_url", MEDIA / "teacup.jpg"),
        page.locator("#effects-pikaffect").get_by_label("Melt", exact=True).check()),
    "additions": lambda page: (
        upload(page, "#additions-video_url", MEDIA / "street.mp4"),
        upload(page, "#additions-image_url", MEDIA / "sailboat.jpg")),
    "swaps": lambda page: (
        upload(page, "#swaps-video_url", MEDIA / "street.mp4"),
        page.locator("#swaps-modify_region input, #swaps-modify_region textarea").first.fill(
            "the tallest building")),
}


def tab_labels(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Every tab a person can pick: the bar's own, then those folded into "More tabs"."""
    return page.evaluate("""() => [
        ...document.querySelectorAll('[role=tablist] [role=tab]'),
        ...document.querySelectorAll('.overflow-dropdown button'),
    ].map(b => b.innerText.trim())""")


def click_tab(page, label: str) -> None:  # type: ignore[no-untyped-def]
    """As a person does: the tab in the bar, or through "More tabs" on a narrow screen."""
    tab = page.locator("[role=tablist] [role=tab]", has_text=label)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
        return
    page.get_by_role("button", name="More tabs").click()
    page.locator(".overflow-dropdown button", has_text=label).first.click()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_every_tab_is_reachable_in_any_order(browser, offline_app, viewport: str
                                             ) -> None:  # type: ignore[no-untyped-def]
    page = open_page(browser, offline_app.url, VIEWPORTS[viewport])
    expected = sorted(TABS.values())
    ids = list(TABS)
    shuffled = random.Random(7).sample(ids, len(ids))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        page.locator("[role=tablist]").wait_for()
        for order in (ids, ids[::-1], shuffled):
            for tab_id in order:
                click_tab(page, TABS[tab_id])
                # The History is a table on a laptop, cards on a phone (tests/test_layout.py).
                content = ("#history-table, #history-cards" if tab_id == "history"
                           else f"#{tab_id}-run")
                page.locator(content).locator("visible=true").first.wait_for(timeout=10_000)
                labels = tab_labels(page)
                assert sorted(labels) == expected, f"after {TABS[tab_id]}: {labels}"
                if order is ids:
                    page.screenshot(path=str(ARTIFACTS / f"tab-{viewport}-{tab_id}.png"))
    finally:
        page.context.close()


def pick_version(page, mode: str, version: str) -> None:  # type: ignore[no-untyped-def]
    page.locator(f"#{mode}-version").get_by_label(version, exact=True).check()
    # The form follows once the page has the new version's fields (its id shows).
    endpoint = catalog.lookup(mode, version)
    page.get_by_text(endpoint.id).first.wait_for(timeout=10_000)


@pytest.mark.parametrize("endpoint", catalog.ENDPOINTS,
                         ids=[f"{e.mode}-{e.version}" for e in catalog.ENDPOINTS])
def test_each_tab_runs_at_each_version_and_its_video_plays(  # type: ignore[no-untyped-def]
        page, endpoint: catalog.Endpoint) -> None:
    mode, version = endpoint.mode, endpoint.version
    page.get_by_role("tab", name=catalog.MODES[mode], exact=True).click()
    others = [e.version for e in catalog.versions(mode) if e.version != version]
    # Through every other version first: what they set (v2.2's aspect ratio) must not
    # follow the person to one that lacks it.
    for other in [*others, version] if others else []:
        pick_version(page, mode, other)
    negative = endpoint.properties["negative_prompt"].get("default")
    if negative is not None:  # each version shows its own default
        box = page.locator(f"#{mode}-negative_prompt").locator("textarea, input").first
        expect(box).to_have_value(negative, timeout=10_000)
    FILLERS[mode](page)
    page.locator(f"#{mode}-run").click()
    video = page.locator(f"#{mode}-result video")
    refused = page.locator(f"#{mode}-status .has-problem")
    video.or_(refused).first.wait_for(state="attached", timeout=90_000)
    assert not refused.count(), refused.first.inner_text()
    handle = video.element_handle()
    page.wait_for_function("v => v.readyState >= 2 && v.duration > 0", arg=handle,
                           timeout=30_000)
    page.evaluate("v => { v.muted = true; return v.play(); }", handle)
    page.wait_for_function("v => v.currentTime > 0.2", arg=handle, timeout=30_000)
    assert "Done" in page.locator(f"#{mode}-status").inner_text()
    assert "seed" in page.locator(f"#{mode}-info").inner_text()
    assert page.get_by_text(endpoint.id).first.is_visible()  # the version it ran at
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = mode if not others else f"{mode}-{version.replace(' ', '-')}"
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_remix_puts_a_past_jobs_settings_back_in_its_tab(page) -> None:  # type: ignore[no-untyped-def]
    text = "remix me: a lighthouse at dusk"
    page.locator("#text-to-video-version").get_by_label("v2.1", exact=True).check()
    prompt(page, "text-to-video", text)
    seed = page.locator("#text-to-video-seed input, #text-to-video-seed textarea").first
    seed.fill("4242")
    page.locator("#text-to-video-run").click()
    page.locator("#text-to-video-result video").wait_for(state="attached", timeout=90_000)
    # Move on: another version, another prompt, no seed.
    page.locator("#text-to-video-version").get_by_label("v2.5", exact=True).check()
    prompt(page, "text-to-video", "something else")
    seed.fill("")

    page.get_by_role("tab", name="History", exact=True).click()
    page.locator("#history-table").get_by_text(text).locator("visible=true").first.click()
    page.locator("#history-details").get_by_text("Seed: 4242").wait_for(timeout=15_000)
    page.locator("#history-remix").click()

    box = page.locator("#text-to-video-prompt textarea")
    box.wait_for(state="visible", timeout=15_000)  # back on its tab
    page.wait_for_function("t => document.querySelector('#text-to-video-prompt textarea')"
                           ".value === t", arg=text, timeout=15_000)
    assert seed.input_value() == "4242"
    assert page.locator("#text-to-video-version").get_by_label("v2.1", exact=True).is_checked()


def test_a_remixed_image_runs_again(page) -> None:  # type: ignore[no-untyped-def]
    # The stored input comes back to the page as an upload of its own: inputs are taken
    # only from uploads, never from the store, and a Remix must still run.
    text = "remix my picture: the boat sails on"
    page.get_by_role("tab", name="Image to video", exact=True).click()
    FILLERS["image-to-video"](page)
    prompt(page, "image-to-video", text)
    page.locator("#image-to-video-run").click()
    status = page.locator("#image-to-video-status")
    status.get_by_text("Done").wait_for(timeout=90_000)
    page.reload()  # a fresh, empty form

    page.get_by_role("tab", name="History", exact=True).click()
    page.locator("#history-table").get_by_text(text).locator("visible=true").first.click()
    page.locator("#history-details").get_by_text("Image to video").wait_for(timeout=15_000)
    page.locator("#history-remix").click()
    page.locator("#image-to-video-image_url img").wait_for(timeout=15_000)
    page.wait_for_function("t => document.querySelector('#image-to-video-prompt textarea')"
                           ".value === t", arg=text, timeout=15_000)
    page.locator("#image-to-video-run").click()
    page.wait_for_function(
        "() => /Done|Failed/.test(document.querySelector('#image-to-video-status').innerText)",
        timeout=90_000)
    assert "Done" in status.inner_text(), status.inner_text()


def test_a_remix_into_a_tab_already_open_replaces_what_was_typed(page) -> None:  # type: ignore[no-untyped-def]
    # The tab was built when it was opened; the Remix reaches its form all the same.
    sent = "sent: a kite over the dunes"
    page.get_by_role("tab", name="Image to video", exact=True).click()
    FILLERS["image-to-video"](page)
    prompt(page, "image-to-video", sent)
    page.locator("#image-to-video-version").get_by_label("v2.2", exact=True).check()
    page.locator("#image-to-video-run").click()
    page.locator("#image-to-video-status").get_by_text("Done").wait_for(timeout=90_000)
    prompt(page, "image-to-video", "typed afterwards, never sent")
    page.locator("#image-to-video-version").get_by_label("v2.5", exact=True).check()

    page.get_by_role("tab", name="History", exact=True).click()
    page.locator("#history-table").get_by_text(sent).locator("visible=true").first.click()
    page.locator("#history-details").get_by_text("Image to video").wait_for(timeout=15_000)
    page.locator("#history-remix").click()
    page.wait_for_function("t => document.querySelector('#image-to-video-prompt textarea')"
                           ".value === t", arg=sent, timeout=15_000)
    expect(page.locator("#image-to-video-version").get_by_label("v2.2", exact=True)
           ).to_be_checked()
    assert page.locator("#image-to-video-prompt").count() == 1  # one form, not a second


def test_bad_input_is_named_in_the_page_and_nothing_runs(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("tab", name="Text to video", exact=True).click()
    page.locator("#text-to-video-run").click()
    page.locator("#text-to-video-status").get_by_text("Prompt is required").wait_for(
        timeout=15_000)
    page.locator("#text-to-video-prompt").get_by_text("Prompt ⚠ is required").wait_for()
    assert page.locator("#text-to-video-result video").count() == 0


def test_the_page_keeps_a_running_jobs_clock_without_server_updates(  # type: ignore[no-untyped-def]
        cloud_page, fakefal: FakeFal) -> None:
    # No queue and no log lines: after "Running" the server has nothing to send for 4 s.
    fakefal.script(queue_positions=0, run_time=4.0, logs=[])
    page = cloud_page
    prompt(page, "text-to-video", "a clock on the wall")
    page.locator("#text-to-video-run").click()
    status = page.locator("#text-to-video-status")
    status.get_by_text("Running").wait_for(timeout=30_000)
    page.wait_for_function(
        r"""() => {
            const text = document.querySelector('#text-to-video-status').innerText;
            const m = text.match(/Running … · ([\d.]+) s/);
            return m && parseFloat(m[1]) >= 2.5;
        }""", timeout=15_000)
    status.get_by_text("Done").wait_for(timeout=30_000)
    assert "…" not in status.inner_text()  # a finished job's time stands still


def test_fal_field_complaint_shows_on_its_widget_until_a_good_run(  # type: ignore[no-untyped-def]
        cloud_page, fakefal: FakeFal) -> None:
    fakefal.script(faults={"submit": [422]})
    page = cloud_page
    prompt(page, "text-to-video", "a paper boat on a rainy street")
    page.locator("#text-to-video-run").click()
    label = page.locator("#text-to-video-prompt").get_by_text("Prompt ⚠")
    label.wait_for(timeout=30_000)
    assert "Scripted validation error" in label.inner_text()
    assert "HTTP 422" in page.locator("#text-to-video-status").inner_text()
    page.locator("#text-to-video-run").click()  # the fault was one-shot: this run succeeds
    page.locator("#text-to-video-result video").wait_for(state="attached", timeout=60_000)
    label.wait_for(state="detached", timeout=15_000)
    assert fakefal.count("submit") == 2
