"""The page's layout and its messages as people meet them (issue 13, items 3, 5 and 9):
what is in view without scrolling on a laptop and a phone, what stays in view while a
long form scrolls, the order of inputs, and how a refusal is said. Real Chromium against
the fake fal cloud; screenshots in `artifacts/screenshots/`.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from playground import catalog
from tests.chromium import needs_chromium
from tests.fakefal import FakeFal
from tests.test_browser import ARTIFACTS, VIEWPORTS, click_tab, prompt

pytestmark = [pytest.mark.browser, needs_chromium]

IN_VIEW = """sel => {
    const box = document.querySelector(sel).getBoundingClientRect();
    return box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight
        && box.left >= 0 && box.right <= window.innerWidth;
}"""


# Gradio keeps an "Error" badge in each output's status tracker, unseen (opacity 0) until
# an event fails: these are the ones a person sees.
SEEN_BADGES = """() => [...document.querySelectorAll('.error')]
    .filter(e => e.textContent.trim() === 'Error' && e.getClientRects().length)
    .filter(e => { for (let a = e; a; a = a.parentElement) {
        const s = getComputedStyle(a);
        if (s.opacity === '0' || s.visibility === 'hidden') return false; }
        return true; })
    .map(e => e.closest('[id]')?.id)"""


def open_page(browser, url: str, viewport: str):  # type: ignore[no-untyped-def]
    page = browser.new_context(viewport=VIEWPORTS[viewport]).new_page()
    page.goto(url)
    page.locator("#whoami").get_by_text("Visitor").wait_for()  # the page has arrived
    return page


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def in_view(page, selector: str) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate(IN_VIEW, selector))


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_every_mode_is_one_tap_away_and_generate_is_in_view(  # type: ignore[no-untyped-def]
        browser, app, viewport: str) -> None:
    page = open_page(browser, app.url, viewport)
    try:
        # No "More tabs": every mode's tab is in the bar, in view, for one tap.
        assert not page.get_by_role("button", name="More tabs").is_visible()
        tabs = page.locator("[role=tablist] [role=tab]")
        labels = [t.strip() for t in tabs.all_inner_texts()]
        assert sorted(labels) == sorted([*catalog.MODES.values(), "Compare", "History"])
        height = VIEWPORTS[viewport]["height"]
        for i in range(tabs.count()):
            box = tabs.nth(i).bounding_box()
            assert box and box["y"] >= 0 and box["y"] + box["height"] <= height, labels[i]
        runnable = [*catalog.MODES.items(), ("compare", "Compare")]
        for mode, label in reversed(runnable):  # in an order no test took
            tabs.filter(has_text=label).first.click()
            page.locator(f"#{mode}-run").wait_for(state="visible")
            page.evaluate("window.scrollTo(0, 0)")
            # Generate and its price are in reach on every tab, however long the form.
            for part in (f"#{mode}-run", f"#{mode}-stop", f"#{mode}-price"):
                assert in_view(page, part), f"{part} is not in view on landing ({viewport})"
            if viewport == "desktop":  # side by side: the status too
                assert in_view(page, f"#{mode}-status"), f"{mode}'s status is out of view"
            shot(page, f"layout-{mode}-{viewport}")
    finally:
        page.context.close()


def test_the_job_stays_in_view_while_a_long_form_scrolls(  # type: ignore[no-untyped-def]
        browser, app) -> None:
    page = open_page(browser, app.url, "desktop")
    try:
        click_tab(page, "Keyframes")
        # To the foot of the longest form, as a person scrolls once it is drawn (the tab is
        # built as it opens: its parts take their height as their scripts arrive).
        page.wait_for_function(
            "() => { const seed = document.querySelector('#keyframes-seed');"
            " if (!seed) return false; seed.scrollIntoView({block: 'center'});"
            " const box = seed.getBoundingClientRect();"
            " return window.scrollY > 100 && box.top >= 0 && box.bottom <= innerHeight; }",
            timeout=15_000)
        for part in ("#keyframes-status", "#keyframes-result", "#keyframes-run",
                     "#keyframes-price", "#keyframes-seed"):
            assert in_view(page, part), f"{part} scrolled out of view"
        shot(page, "layout-keyframes-scrolled-desktop")
    finally:
        page.context.close()


@pytest.mark.parametrize("mode", ["additions", "swaps"])
def test_the_video_worked_on_comes_before_what_goes_in_it(  # type: ignore[no-untyped-def]
        browser, app, mode: str) -> None:
    page = open_page(browser, app.url, "desktop")
    try:
        click_tab(page, catalog.MODES[mode])
        video = page.locator(f"#{mode}-video_url").bounding_box()
        image = page.locator(f"#{mode}-image_url").bounding_box()
        assert video and image and video["y"] < image["y"]
        if mode == "swaps":  # what to replace, then what replaces it
            region = page.locator("#swaps-modify_region").bounding_box()
            assert region and video["y"] < region["y"] < image["y"]
    finally:
        page.context.close()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_a_refusal_is_one_message_in_the_status_and_on_its_field(  # type: ignore[no-untyped-def]
        browser, app, fakefal: FakeFal, viewport: str) -> None:
    page = open_page(browser, app.url, viewport)
    errors: list[int] = []
    page.on("response", lambda r: errors.append(r.status) if r.status >= 500 else None)
    try:
        status = page.locator("#text-to-video-status")
        field = page.locator("#text-to-video-prompt")
        for _ in range(3):  # pressed again and again: still one message, nothing piles up
            page.locator("#text-to-video-run").click()
            status.locator(".has-problem").get_by_text("Prompt is required").wait_for()
        assert "has-problem" in (field.get_attribute("class") or "")
        field.get_by_text("Prompt ⚠ is required").wait_for()
        outline = field.evaluate("e => getComputedStyle(e).outlineStyle")
        assert outline == "solid", "the field is not outlined"
        # No toast, and none of Gradio's "Error" badges over the outputs.
        assert page.locator(".toast-body").count() == 0
        assert page.evaluate(SEEN_BADGES) == []
        assert "Ready" not in status.inner_text()
        shot(page, f"refusal-{viewport}")
        assert fakefal.count() == 0

        prompt(page, "text-to-video", "a paper boat on a rainy street")
        page.locator("#text-to-video-run").click()
        status.get_by_text("Done").wait_for(timeout=60_000)
        # The next run put the message away, and the field's mark with it.
        assert status.locator(".has-problem").count() == 0
        page.wait_for_function(
            "() => !document.querySelector('#text-to-video-prompt')"
            ".classList.contains('has-problem')", timeout=15_000)
        assert field.get_by_text("⚠").count() == 0

        page.get_by_text("fal key ·").click()
        page.locator("#fal-key input").fill("not a key!")
        page.locator("#fal-key-use").click()
        said = page.locator("#fal-key-status")
        said.get_by_text("does not look like a fal key").wait_for()
        assert "still" not in said.inner_text()  # no key was set before
        assert page.locator("#fal-key input").input_value() == ""
        assert errors == [], f"HTTP {errors} for a malformed key"
    finally:
        page.context.close()


def test_the_history_is_cards_on_a_phone_and_a_table_on_a_laptop(  # type: ignore[no-untyped-def]
        browser, app, fakefal: FakeFal) -> None:
    typed = "<b>a boat</b> & a *storm*"
    page = open_page(browser, app.url, "phone")
    try:
        prompt(page, "text-to-video", typed)
        page.locator("#text-to-video-run").click()
        page.locator("#text-to-video-status").get_by_text("Done").wait_for(timeout=60_000)
        click_tab(page, "History")
        card = page.locator("#history-cards .job-card").first
        card.wait_for(timeout=15_000)
        assert not page.locator("#history-table").is_visible()
        text = card.inner_text()
        for part in ("Text to video", "v2.5", "done", typed, "UTC"):
            assert part in text, f"{part!r} is not on the card: {text!r}"
        assert card.locator("b", has_text="a boat").count() == 0  # typed text stays text
        thumb = card.locator("video").element_handle()
        page.wait_for_function("v => v.readyState >= 1 && v.videoWidth > 0", arg=thumb,
                               timeout=15_000)
        box = card.bounding_box()
        assert box and box["width"] <= VIEWPORTS["phone"]["width"]
        shot(page, "history-cards-phone")
        card.click()  # one tap: the job, scrolled to
        page.locator("#history-details").get_by_text("Text to video").wait_for(timeout=15_000)
        top = page.evaluate("document.querySelector('#history-video')"
                            ".getBoundingClientRect().top")
        assert 0 <= top < VIEWPORTS["phone"]["height"] / 2, f"the job is at {top} px"
    finally:
        page.context.close()

    page = open_page(browser, app.url, "desktop")  # a new visitor: a job of their own
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if "file=videos" in r.url else None)
    try:
        prompt(page, "text-to-video", "a lighthouse")
        page.locator("#text-to-video-run").click()
        page.locator("#text-to-video-status").get_by_text("Done").wait_for(timeout=60_000)
        fetched.clear()  # the tab's own result played; the History's thumbnails must not load
        click_tab(page, "History")
        expect(page.locator("#history-table")).to_contain_text("a lighthouse", timeout=15_000)
        assert not page.locator("#history-cards").is_visible()
        assert page.locator("#history-cards .job-card").count() == 1  # there, unseen
        assert page.locator("#history-cards video[src]").count() == 0
        assert fetched == []
    finally:
        page.context.close()
