"""Copy as code in a real Chromium (issue 14): each Code block's copy button puts exactly the
snippet on the clipboard, for the form before its run, for the tab's job after it, and for
a job picked in the History. The snippets themselves run in tests/test_snippets.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from playground import catalog, snippets
from playground.requests import build_request
from tests.apprunner import RunningApp
from tests.chromium import launched, needs_chromium, playing
from tests.records import recorded
from tests.test_browser import ARTIFACTS, MEDIA, VIEWPORTS, upload

pytestmark = [pytest.mark.browser, needs_chromium]
LANGUAGES = ("python", "javascript", "curl")
TYPED = "a 'paper' boat $(touch pwned) \"on\" a rainy street"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched() as browser:
        yield browser


@pytest.fixture
def page(browser: Any, app: RunningApp) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORTS["desktop"])
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app.url[:-1])
    page = context.new_page()
    page.goto(app.url)
    page.locator("[role=tablist]").wait_for()
    yield page
    context.close()


def copied(page: Any, block: str) -> str:
    """What the copy button of the code block `block` puts on the clipboard."""
    page.evaluate("navigator.clipboard.writeText('')")
    page.locator(f"#{block} button[aria-label=Copy]").click()
    page.wait_for_function("async () => (await navigator.clipboard.readText()) !== ''",
                           timeout=10_000)
    return str(page.evaluate("navigator.clipboard.readText()"))


def open_code(page: Any, prefix: str, says: str) -> None:
    page.locator(f"#{prefix}-code").get_by_text("Code:").first.click()
    page.locator(f"#{prefix}-code-note").get_by_text(says).wait_for(timeout=15_000)


def test_the_copy_buttons_copy_the_forms_code_then_the_jobs(page: Any,
                                                           app: RunningApp) -> None:
    page.locator("#text-to-video-version").get_by_label("v2.2", exact=True).check()
    page.locator("#text-to-video-prompt textarea").fill(TYPED)
    page.locator("#text-to-video-duration").get_by_label("10", exact=True).check()
    page.locator("#text-to-video-seed input, #text-to-video-seed textarea").first.fill("4321")
    open_code(page, "text-to-video", "what Generate sends")
    form = {"prompt": TYPED, "duration": "10", "seed": 4321}
    expected = snippets.for_request(build_request(catalog.lookup("text-to-video", "v2.2"),
                                                  form)).as_dict()
    for language in LANGUAGES:
        assert copied(page, f"text-to-video-code-{language}") == expected[language], language
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "code-form-desktop.png"), full_page=True)

    # After the run: the job as it was sent, in its tab and in the History.
    page.locator("#text-to-video-run").click()
    playing(page, "#text-to-video-result video")
    record = next(r for r in recorded(app.data_dir) if r.form.get("prompt") == TYPED)
    sent = snippets.for_record(record).as_dict()
    page.locator("#text-to-video-code-job").click()
    page.locator("#text-to-video-code-note").get_by_text(record.id).wait_for(timeout=15_000)
    for language in LANGUAGES:
        assert copied(page, f"text-to-video-code-{language}") == sent[language], language

    page.get_by_role("tab", name="History", exact=True).click()
    page.locator("#history-table").get_by_text(TYPED).locator("visible=true").first.click()
    page.locator("#history-details").get_by_text("Seed: 4321").wait_for(timeout=15_000)
    open_code(page, "history", record.id)
    for language in LANGUAGES:
        assert copied(page, f"history-code-{language}") == sent[language], language


def test_an_uploaded_file_goes_into_the_code_by_its_name_alone(page: Any) -> None:
    page.get_by_role("tab", name="Image to video", exact=True).click()
    upload(page, "#image-to-video-image_url", MEDIA / "sailboat.jpg")
    page.locator("#image-to-video-prompt textarea").fill("the boat drifts")
    open_code(page, "image-to-video", "sailboat.jpg")
    python = copied(page, "image-to-video-code-python")
    assert 'fal_client.upload_file("sailboat.jpg")' in python
    assert "/" not in python.split('upload_file("', 1)[1].split('"', 1)[0]
    for language in LANGUAGES:
        text = copied(page, f"image-to-video-code-{language}")
        assert "gradio" not in text and str(MEDIA) not in text  # no path of this server
