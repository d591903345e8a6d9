"""People's text is shown as text, in a real browser.

Prompts, a region to modify, an uploaded file's name, a value typed in a wrong
box and fal's own messages and log lines all reach a page: the status line,
the info, the logs, a toast, a widget's label, the History table and its
details. Each must appear as typed, never as Markdown or HTML (no image
fetched, no link, no bold, no script), and never push the page wider than the
screen. The History is shared by every visitor, so a prompt is text someone
else's page shows.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.apprunner import ROOT, RunningApp
from tests.chromium import needs_chromium
from tests.fakefal import FakeFal
from tests.test_browser import VIEWPORTS, click_tab

MEDIA = ROOT / "presets" / "media"
LONG = "w" * 1990 + "-the-end"  # a 2,000-character line with no spaces (the prompt's limit)
HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "a` <b>x</b> `b",
    "[x](javascript:alert(1))",
    "![i](http://127.0.0.1:9/x.png)",
    "**bold**",
    "$$x^2$$ &lt;i&gt;entity&lt;/i&gt;",
    "${alert(1)} {{constructor.constructor('alert(2)')()}}",  # gr.HTML's template syntax
    LONG,
]
# Whatever a page shows, none of this may be in it: the elements the strings above would
# make if they were taken for Markdown, HTML or LaTeX.
INJECTED = """(root) => {
    const found = [...root.querySelectorAll(
        "img[src='x'], img[src*='127.0.0.1:9'], a[href^='javascript'], .katex")];
    for (const el of root.querySelectorAll("b, strong, em, i, code, a")) {
        if (["x", "bold", "i", "entity"].includes(el.textContent.trim())) found.push(el);
    }
    return found.map(el => el.outerHTML.slice(0, 120));
}"""
# Wider than the screen by more than a rounding error: a line that does not wrap.
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture(params=list(VIEWPORTS))
def page(request: pytest.FixtureRequest, browser, app: RunningApp):  # type: ignore[no-untyped-def]
    """A visitor's page, on a laptop and on a phone, that records every dialog (an alert()
    that ran) instead of showing it."""
    context = browser.new_context(viewport=VIEWPORTS[request.param])
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(app.url)
    page.locator("[role=tablist]").wait_for()
    yield page
    page.context.close()
    assert dialogs == [], f"a script ran in the page: {dialogs}"


def shown(page, selector: str) -> str:  # type: ignore[no-untyped-def]
    return page.locator(selector).inner_text()


def assert_nothing_injected(page, where: str, typed: str) -> None:  # type: ignore[no-untyped-def]
    found = page.evaluate(INJECTED, page.locator("body").element_handle())
    assert found == [], f"{typed!r} was taken for markup in {where}: {found}"


def assert_fits(page, where: str, typed: str) -> None:  # type: ignore[no-untyped-def]
    extra = page.evaluate(OVERFLOW)
    assert extra <= 4, f"{where} with {typed[:40]!r}... is {extra} px wider than the screen"


def run_in_tab(page, mode: str) -> str:  # type: ignore[no-untyped-def]
    """Presses Generate and waits for this job to end; returns the status line. A new job
    has a new video (its name is the job's), so an earlier job's "Done" is not taken."""
    video = f"#{mode}-result video"
    before = page.evaluate("s => document.querySelector(s)?.src ?? ''", video)
    page.locator(f"#{mode}-run").click()
    page.wait_for_function(
        """([mode, video, before]) => {
            const status = document.querySelector(`#${mode}-status`).innerText;
            const src = document.querySelector(video)?.src ?? "";
            return /Failed|Stopped/.test(status) || (/Done/.test(status) && src !== before);
        }""", arg=[mode, video, before], timeout=60_000)
    return shown(page, f"#{mode}-status")


def history_list(page):  # type: ignore[no-untyped-def]
    """The History's list as shown: the table on a laptop, the cards on a phone."""
    table = page.locator("#history-table")
    return table if table.is_visible() else page.locator("#history-cards")


def open_in_history(page, prompt: str) -> str:  # type: ignore[no-untyped-def]
    """Clicks the History row (or card) of a job by its prompt; returns the details once
    they are that job's."""
    click_tab(page, "History")
    page.locator("#history-table, #history-cards").locator("visible=true").first.wait_for()
    if page.locator("#history-table").is_visible():
        cell = page.locator("#history-table").get_by_text(prompt[:80], exact=True)
        cell = cell.locator("visible=true").first
        request_id = cell.evaluate(  # the row's seventh cell
            "e => e.closest('.virtual-row, tr').querySelectorAll('.body-cell, td')[6].innerText")
        cell.click()
        mark = request_id.strip()
    else:
        card = page.locator("#history-cards .job-card").filter(has_text=prompt[:120]).first
        card.click()
        mark = prompt[:120]
    page.wait_for_function("([sel, mark]) => document.querySelector(sel).innerText"
                           ".includes(mark)", arg=["#history-details", mark], timeout=15_000)
    return page.locator("#history-details").inner_text()


def logs_shown(page) -> str:  # type: ignore[no-untyped-def]
    return page.get_by_label("Model logs").locator("visible=true").first.input_value()


def test_prompts_show_as_typed_in_the_tab_and_in_history(page, fakefal: FakeFal) -> None:  # type: ignore[no-untyped-def]
    fakefal.script(queue_positions=0, run_time=0.2)
    box = page.locator("#text-to-video-prompt textarea")
    for typed in HOSTILE:
        box.fill(typed)
        status = run_in_tab(page, "text-to-video")
        assert "Done" in status, f"{typed!r}: {status}"
        assert_nothing_injected(page, "the text-to-video tab", typed)
    assert_fits(page, "the text-to-video tab", LONG)

    for typed in HOSTILE:
        details = open_in_history(page, typed)
        assert typed in details, f"History details do not show {typed!r} as typed:\n{details}"
        listed = history_list(page).inner_text()
        assert typed[:80] in listed, f"the History list does not show {typed[:80]!r}"
        assert_nothing_injected(page, "History", typed)
        assert_fits(page, "History details", typed)


def test_a_region_and_a_file_name_show_as_typed(page, fakefal: FakeFal, tmp_path: Path  # type: ignore[no-untyped-def]
                                                ) -> None:
    fakefal.script(queue_positions=0, run_time=0.2)
    region, file_name = HOSTILE[0], "<img src=x onerror=alert(2)> **bold**.mp4"
    clip = tmp_path / file_name
    shutil.copyfile(MEDIA / "street.mp4", clip)
    click_tab(page, "Swaps")
    page.locator("#swaps-video_url input[type=file]").set_input_files(str(clip))
    page.locator("#swaps-modify_region input, #swaps-modify_region textarea").first.fill(region)
    page.locator("#swaps-prompt textarea").fill("swap marker: a red bus")
    status = run_in_tab(page, "swaps")
    assert "Done" in status, status
    assert_nothing_injected(page, "the Swaps tab", file_name)

    details = open_in_history(page, "swap marker: a red bus")
    assert region in details, f"History details do not show {region!r} as typed:\n{details}"
    assert_nothing_injected(page, "History", region)


def test_fals_messages_and_log_lines_show_as_text(page, fakefal: FakeFal) -> None:  # type: ignore[no-untyped-def]
    said = " | ".join(HOSTILE[:-1])
    # Long enough a run that every line arrives before the job ends.
    fakefal.script(queue_positions=0, run_time=1.5, logs=HOSTILE[:-1], fail_job=said)
    page.locator("#text-to-video-prompt textarea").fill("fal says no")
    status = run_in_tab(page, "text-to-video")
    assert "Failed" in status and said in status, f"fal's message is not shown as sent:\n{status}"
    assert logs_shown(page).splitlines() == HOSTILE[:-1]
    assert_nothing_injected(page, "the status line", said)
    assert_fits(page, "the status line", said)

    details = open_in_history(page, "fal says no")
    assert said in details, f"History details do not show fal's message as sent:\n{details}"
    assert_nothing_injected(page, "History", said)


def test_a_complaint_quotes_what_was_typed_as_text(page) -> None:  # type: ignore[no-untyped-def]
    typed = HOSTILE[0]
    page.locator("#text-to-video-prompt textarea").fill("a calm sea")
    page.locator("#text-to-video-seed input, #text-to-video-seed textarea").first.fill(typed)
    page.locator("#text-to-video-run").click()
    # The status line and the seed's label both quote the value.
    said = page.locator("#text-to-video-status .has-problem")
    said.wait_for(timeout=15_000)
    assert typed in said.inner_text(), f"the status does not quote {typed!r}: {said.inner_text()}"
    label = page.locator("#text-to-video-seed").get_by_text("⚠")
    label.wait_for(timeout=15_000)
    assert typed in label.inner_text(), f"the label does not quote {typed!r}"
    assert_nothing_injected(page, "the status and the label", typed)
    assert_fits(page, "the status line", typed)
