"""The page as people use it (issue 13): Stop on a running job, a reload mid-job, switching
version, picking an effect, and what a download is called. Real Chromium against the fake
fal cloud with the server's key; screenshots in `artifacts/screenshots/`.
"""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import expect

from playground import catalog
from tests.chromium import needs_chromium, playing
from tests.fakefal import FakeFal
from tests.test_browser import ARTIFACTS, FILLERS, MEDIA, VIEWPORTS, click_tab, prompt, upload

pytestmark = [pytest.mark.browser, needs_chromium]


def open_page(browser, url: str, viewport: str = "desktop"):  # type: ignore[no-untyped-def]
    page = browser.new_context(viewport=VIEWPORTS[viewport]).new_page()
    page.goto(url)
    page.locator("[role=tablist]").wait_for()
    return page


@pytest.fixture
def page(browser, app):  # type: ignore[no-untyped-def]
    page = open_page(browser, app.url)
    yield page
    page.context.close()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def field(page, mode: str, name: str):  # type: ignore[no-untyped-def]
    return page.locator(f"#{mode}-{name}").locator("textarea, input").first


def test_stop_on_a_running_job_says_it_finishes_and_shows_its_video(  # type: ignore[no-untyped-def]
        page, fakefal: FakeFal) -> None:
    fakefal.script(queue_positions=0, run_time=4.0)
    stop = page.locator("#text-to-video-stop")
    expect(stop).to_be_disabled()  # nothing runs yet
    prompt(page, "text-to-video", "a lantern that keeps burning")
    page.locator("#text-to-video-run").click()
    status = page.locator("#text-to-video-status")
    status.get_by_text("Running").wait_for(timeout=30_000)
    expect(stop).to_be_enabled()
    stop.click()
    said = page.locator("#text-to-video-note")
    said.get_by_text("cannot stop").wait_for(timeout=15_000)
    assert "charged" in said.inner_text()
    shot(page, "stop-running-desktop")
    playing(page, "#text-to-video-result video", 60_000)  # still followed: the paid video lands
    status.get_by_text("Done").wait_for(timeout=15_000)
    assert page.locator("#text-to-video-status, #text-to-video-info, #text-to-video-result"
                        ).get_by_text("Error", exact=True).count() == 0
    expect(stop).to_be_disabled()
    assert fakefal.count("submit") == 1


def test_stop_on_a_queued_job_cancels_it_and_the_tab_says_so(  # type: ignore[no-untyped-def]
        page, fakefal: FakeFal) -> None:
    fakefal.script(queue_positions=30, queue_step=1.0)
    prompt(page, "text-to-video", "a long wait")
    page.locator("#text-to-video-run").click()
    status = page.locator("#text-to-video-status")
    status.get_by_text("Queued").wait_for(timeout=30_000)
    page.locator("#text-to-video-stop").click()
    status.get_by_text("Stopped").wait_for(timeout=30_000)  # the job's own last event
    assert fakefal.count("cancel") == 1
    expect(page.locator("#text-to-video-stop")).to_be_disabled()


def test_a_reload_mid_job_reattaches_the_tab_and_its_form(  # type: ignore[no-untyped-def]
        browser, app, fakefal: FakeFal) -> None:
    fakefal.script(queue_positions=3, queue_step=1.0, run_time=8.0)
    page = browser.new_context(viewport=VIEWPORTS["desktop"]).new_page()
    with page.expect_request(lambda r: "/queue/join" in r.url):  # the first load's own,
        page.goto(app.url)  # counted nowhere: it can come after `goto` returns
    joins: list[str] = []
    page.on("request", lambda r: joins.append(r.url) if "/queue/join" in r.url else None)
    try:
        with page.expect_request(lambda r: "/queue/join" in r.url):  # the History's
            page.reload()  # nothing runs: the page's load costs what it did
        page.locator("#whoami").get_by_text("Visitor").wait_for(timeout=15_000)
        idle_joins = len(joins)  # what a load costs when nothing runs
        click_tab(page, "Image to video")
        upload(page, "#image-to-video-image_url", MEDIA / "sailboat.jpg")
        page.locator("#image-to-video-version").get_by_label("v2.1", exact=True).check()
        prompt(page, "image-to-video", "come back to me: the boat turns")
        field(page, "image-to-video", "seed").fill("4321")
        page.locator("#image-to-video-run").click()
        status = page.locator("#image-to-video-status")
        status.get_by_text("Queued").wait_for(timeout=30_000)
        joins.clear()
        page.reload()
        status.get_by_text("Queued").or_(status.get_by_text("Running")).first.wait_for(
            timeout=30_000)
        expect(page.locator("#image-to-video-stop")).to_be_enabled()
        box = field(page, "image-to-video", "prompt")
        expect(box).to_be_visible()  # its tab, open
        expect(box).to_have_value("come back to me: the boat turns")
        expect(field(page, "image-to-video", "seed")).to_have_value("4321")
        assert page.locator("#image-to-video-version").get_by_label(
            "v2.1", exact=True).is_checked()
        page.locator("#image-to-video-image_url img").wait_for(timeout=15_000)
        # Its presets too, built when the tab opens rather than in every page's config.
        expect(page.get_by_role("button", name="Sailboat drifts (v2.2)")).to_be_visible()
        shot(page, "reload-mid-job-desktop")
        playing(page, "#image-to-video-result video", 60_000)
        status.get_by_text("Done").wait_for(timeout=15_000)
        assert page.locator("#image-to-video-info").get_by_text("seed 4321").count() == 1
        # Three queued events more than an idle load, for every tab together: the job
        # found, its tab opened (which builds the tab: ui/weight.py), the job followed.
        assert len(joins) == idle_joins + 3, (idle_joins, joins)
        assert fakefal.count("submit") == 1
    finally:
        page.context.close()


def test_a_reload_with_jobs_in_two_tabs_brings_both_back(  # type: ignore[no-untyped-def]
        page, fakefal: FakeFal) -> None:
    fakefal.script(queue_positions=3, queue_step=1.0, run_time=6.0)
    prompt(page, "text-to-video", "the older one: a lantern at dusk")
    page.locator("#text-to-video-run").click()
    page.locator("#text-to-video-status").get_by_text("Queued").wait_for(timeout=30_000)
    click_tab(page, "Image to video")
    upload(page, "#image-to-video-image_url", MEDIA / "sailboat.jpg")
    prompt(page, "image-to-video", "the newer one: the boat turns")
    page.locator("#image-to-video-run").click()
    page.locator("#image-to-video-status").get_by_text("Queued").wait_for(timeout=30_000)
    page.reload()
    # The newest job's tab opens; the older job is back in its own tab, followed too.
    expect(field(page, "image-to-video", "prompt")).to_have_value(
        "the newer one: the boat turns", timeout=30_000)
    click_tab(page, "Text to video")
    expect(field(page, "text-to-video", "prompt")).to_have_value(
        "the older one: a lantern at dusk", timeout=15_000)
    expect(page.locator("#text-to-video-stop")).to_be_enabled()
    playing(page, "#text-to-video-result video", 60_000)
    click_tab(page, "Image to video")
    playing(page, "#image-to-video-result video", 60_000)
    assert fakefal.count("submit") == 2


def test_a_reload_mid_keyframes_job_brings_back_its_rows_and_total(  # type: ignore[no-untyped-def]
        page, fakefal: FakeFal) -> None:
    # The tab is built after the reload with the job's form: what follows from the values
    # (a row per transition, the total, the price) must follow them there too.
    fakefal.script(queue_positions=3, queue_step=1.0, run_time=6.0)
    click_tab(page, "Keyframes")
    FILLERS["keyframes"](page)
    seconds = page.locator("#keyframes-t2-seconds input")
    seconds.fill("4")
    seconds.press("Tab")
    page.locator("#keyframes-total").get_by_text("9 s").wait_for(timeout=10_000)
    page.locator("#keyframes-run").click()
    status = page.locator("#keyframes-status")
    status.get_by_text("Queued").wait_for(timeout=30_000)
    page.reload()
    status.get_by_text("Queued").or_(status.get_by_text("Running")).first.wait_for(
        timeout=30_000)
    expect(field(page, "keyframes", "prompt")).to_have_value("from hills to sea to city")
    expect(page.locator("#keyframes-image_urls img")).to_have_count(3)
    expect(seconds).to_have_value("4")
    expect(page.locator("#keyframes-t3-seconds")).to_be_hidden()  # 3 keyframes, 2 steps
    page.locator("#keyframes-total").get_by_text("9 s").wait_for(timeout=10_000)
    expect(page.locator("#keyframes-price")).to_contain_text("9 s")
    playing(page, "#keyframes-result video", 60_000)


def test_switching_version_keeps_what_the_new_version_accepts(page) -> None:  # type: ignore[no-untyped-def]
    mode = "text-to-video"
    page.locator(f"#{mode}-version").get_by_label("v2.5", exact=True).check()
    prompt(page, mode, "a fox in the snow")
    field(page, mode, "negative_prompt").fill("blurry, watermark")
    page.locator(f"#{mode}-duration").get_by_label("10", exact=True).check()
    page.locator(f"#{mode}-resolution").get_by_label("480p", exact=True).check()
    about = page.locator(f"#{mode}-about")

    page.locator(f"#{mode}-version").get_by_label("v2.2", exact=True).check()
    about.get_by_text("fal-ai/pika/v2.2/text-to-video").wait_for(timeout=10_000)
    expect(field(page, mode, "negative_prompt")).to_have_value("blurry, watermark")
    expect(page.locator(f"#{mode}-duration").get_by_label("10", exact=True)).to_be_checked()
    expect(page.locator(f"#{mode}-resolution").get_by_label("720p", exact=True)).to_be_checked()
    assert "Resolution" in about.inner_text() and "480p" in about.inner_text()
    assert "Duration" not in about.inner_text()

    page.locator(f"#{mode}-version").get_by_label("v2.1", exact=True).check()
    about.get_by_text("fal-ai/pika/v2.1/text-to-video").wait_for(timeout=10_000)
    expect(field(page, mode, "prompt")).to_have_value("a fox in the snow")
    expect(field(page, mode, "negative_prompt")).to_have_value("blurry, watermark")
    expect(page.locator(f"#{mode}-duration").get_by_label("10", exact=True)).to_be_checked()
    shot(page, "switch-version-desktop")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_an_effect_is_picked_never_preselected_nor_typed(  # type: ignore[no-untyped-def]
        browser, app, fakefal: FakeFal, viewport: str) -> None:
    page = open_page(browser, app.url, viewport)
    try:
        click_tab(page, "Effects")
        effects = page.locator("#effects-pikaffect")
        effects.get_by_label("Melt", exact=True).wait_for(timeout=10_000)
        assert effects.locator("input[type=radio]").count() == 16
        assert effects.locator("input:checked").count() == 0  # fal has no default
        assert effects.locator("input[type=text], textarea").count() == 0  # no typing
        upload(page, "#effects-image_url", MEDIA / "teacup.jpg")
        page.locator("#effects-image_url img").wait_for(timeout=15_000)
        page.locator("#effects-run").click()
        page.get_by_text("pick an effect").first.wait_for(timeout=15_000)
        effects.get_by_text("Pikaffect ⚠").wait_for(timeout=15_000)
        assert fakefal.count() == 0
        effects.scroll_into_view_if_needed()
        shot(page, f"effects-{viewport}")
        effects.get_by_label("Melt", exact=True).check()
        page.locator("#effects-run").click()
        playing(page, "#effects-result video", 60_000)
        [submit] = fakefal.find("submit")
        assert submit.body["pikaffect"] == "Melt"
    finally:
        page.context.close()


def test_a_download_says_what_it_is(page, fakefal: FakeFal) -> None:  # type: ignore[no-untyped-def]
    mode = "text-to-video"
    page.locator(f"#{mode}-version").get_by_label("v2.2", exact=True).check()
    prompt(page, mode, "a paper boat, named")
    field(page, mode, "seed").fill("1234")
    page.locator(f"#{mode}-run").click()
    src = playing(page, f"#{mode}-result video", 60_000)
    job_id = src.rsplit("/", 1)[1].removesuffix(".mp4")
    assert src.endswith(f"/gradio_api/file=videos/{job_id}.mp4")  # the owner check's URL
    page.locator(f"#{mode}-result").hover()
    with page.expect_download() as download:
        page.locator(f"#{mode}-result").get_by_role("button", name="Download").click()
    assert download.value.suggested_filename == "pika-v2-2-text-to-video-seed-1234.mp4"
    # Saved from the History too: the name comes with the file, wherever it is played.
    page.get_by_role("tab", name="History", exact=True).click()
    page.locator("#history-table").get_by_text("a paper boat, named").locator(
        "visible=true").first.click()
    playing(page, "#history-video video", 60_000)
    page.locator("#history-video").hover()
    with page.expect_download() as again:
        page.locator("#history-video").get_by_role("button", name="Download").click()
    assert again.value.suggested_filename == download.value.suggested_filename


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_a_preset_brings_its_rows_total_and_price(browser, app, viewport: str) -> None:  # type: ignore[no-untyped-def]
    page = open_page(browser, app.url, viewport)
    try:
        click_tab(page, "Keyframes")
        page.get_by_role("button", name="Dawn to night (3 keyframes)").click()
        page.locator("#keyframes-image_urls img").nth(2).wait_for(timeout=15_000)
        expect(page.locator("#keyframes-t2-prompt")).to_be_visible()  # 3 images: 2 steps
        expect(page.locator("#keyframes-t3-prompt")).to_be_hidden()
        expect(page.locator("#keyframes-total")).to_contain_text("10 s")
        endpoint = catalog.lookup("keyframes", "v2.2")
        price = catalog.estimate_price(endpoint, {"resolution": "720p", "transitions": [
            {"duration": 5}, {"duration": 5}]})
        expect(page.get_by_text(f"Price: {price}")).to_be_visible()
        page.locator("#keyframes-total").scroll_into_view_if_needed()
        shot(page, f"keyframes-preset-{viewport}")
    finally:
        page.context.close()


def selected_frame(page) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The highlighted keyframe: its place as the gallery says it, and its file's name."""
    thumb = page.locator("#keyframes-image_urls .thumbnail-item.selected").first
    src = thumb.locator("img").get_attribute("src") or ""
    return thumb.get_attribute("aria-label") or "", src.rsplit("/", 1)[-1]


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_keyframe_moves_follow_the_image_and_a_sixth_is_refused(  # type: ignore[no-untyped-def]
        browser, app, tmp_path, viewport: str) -> None:
    frames = []
    for i, name in enumerate(["dawn-hills", "sailboat", "night-city", "teacup", "dawn-hills",
                              "sailboat"]):
        frames.append(tmp_path / f"frame-{i + 1}.jpg")
        shutil.copy(MEDIA / f"{name}.jpg", frames[-1])
    page = open_page(browser, app.url, viewport)
    try:
        click_tab(page, "Keyframes")
        gallery = page.locator("#keyframes-image_urls")
        upload(page, "#keyframes-image_urls", *frames)
        page.get_by_text("1 left out").first.wait_for(timeout=15_000)
        expect(gallery.locator(".thumbnail-item")).to_have_count(5)
        assert "frame-6" not in gallery.inner_html()

        # The controls sit with the gallery: right under it, above the rest of the form.
        earlier = page.get_by_role("button", name="◀ Move earlier")
        below = earlier.bounding_box()["y"] - (gallery.bounding_box()["y"]
                                               + gallery.bounding_box()["height"])
        assert 0 <= below < 60, below
        assert earlier.bounding_box()["y"] < page.locator("#keyframes-prompt").bounding_box()["y"]

        gallery.get_by_label("Thumbnail 1 of 5").click()
        page.get_by_role("button", name="Move later ▶").click()
        expect(gallery.locator(".thumbnail-item.selected").first).to_have_attribute(
            "aria-label", "Thumbnail 2 of 5", timeout=15_000)
        assert selected_frame(page)[1] == "frame-1.jpg"
        page.get_by_role("button", name="Move later ▶").click()  # the highlighted one again
        expect(gallery.locator(".thumbnail-item.selected").first).to_have_attribute(
            "aria-label", "Thumbnail 3 of 5", timeout=15_000)
        assert selected_frame(page)[1] == "frame-1.jpg"
        gallery.scroll_into_view_if_needed()
        shot(page, f"keyframes-moves-{viewport}")
    finally:
        page.context.close()
