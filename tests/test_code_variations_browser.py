"""Issue 14 in a real Chromium. Copy as code: each Code block's copy button puts exactly
the snippet on the clipboard, for the form before its run, for the tab's job after it, and
for a job picked in the History (the snippets themselves run in tests/test_snippets.py).
Variations: the form runs N times with new seeds, as a strip of videos.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from playground import catalog, snippets
from playground.requests import build_request
from tests.apprunner import RunningApp, running_app
from tests.chromium import needs_chromium, playing
from tests.fakefal import FAKE_KEY, FakeFal
from tests.records import recorded
from tests.test_browser import ARTIFACTS, MEDIA, VIEWPORTS, upload
from tests.waiting import wait_for

pytestmark = [pytest.mark.browser, needs_chromium]
LANGUAGES = ("python", "javascript", "curl")
MOST_RUN = 4  # what Variations runs unless told otherwise
# Shell, Markdown and HTML all at once: each must reach the clipboard as typed.
TYPED = "a 'paper' boat $(touch pwned) \"on\" ```a``` <b>rainy</b> $x$ street"


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
    page.locator(f"#{block} button.copy_code_button").click()
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
        text = copied(page, f"history-code-{language}")
        assert text == sent[language], language
        assert FAKE_KEY not in text and FAKE_KEY.split(":")[1] not in text  # the server's key


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


def test_variations_run_the_form_with_new_seeds_as_a_strip(page: Any, app: RunningApp,
                                                           fakefal: FakeFal) -> None:
    text = "variations: a kite over the dunes"
    page.locator("#text-to-video-version").get_by_label("v2.2", exact=True).check()
    page.locator("#text-to-video-prompt textarea").fill(text)
    page.locator("#text-to-video-seed input, #text-to-video-seed textarea").first.fill("7")
    page.locator("#text-to-video-variations").get_by_text("Variations:").first.click()
    count = page.locator("#text-to-video-variations-count input[type=number]")
    count.fill("3")
    count.press("Enter")
    # The slider takes the number when its own range moves: only then is 3 what runs.
    expect(page.locator("#text-to-video-variations-count input[type=range]")).to_have_value("3")
    page.locator("#text-to-video-variations-run").click()
    urls = [playing(page, f"#text-to-video-variation-{i} video") for i in (1, 2, 3)]
    assert len(set(urls)) == 3
    assert page.locator("#text-to-video-variation-4").inner_text().strip() == ""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "variations-desktop.png"), full_page=True)

    bodies = [r.body for r in fakefal.find("submit", status=200)]
    assert len(bodies) == 3
    seeds = [b.pop("seed") for b in map(dict, bodies)]
    assert len(set(seeds)) == 3 and 7 not in seeds  # new takes, not the form's seed
    rest = [{k: v for k, v in b.items() if k != "seed"} for b in bodies]
    assert rest[0] == rest[1] == rest[2] and rest[0]["prompt"] == text
    shown = [page.locator(f"#text-to-video-variation-{i}").inner_text()
             for i in (1, 2, 3)]
    assert sorted(int(s.split("seed ")[1].split(" ")[0]) for s in shown) == sorted(seeds)
    assert all("Done" in s for s in shown)
    jobs = [r for r in recorded(app.data_dir) if r.form.get("prompt") == text]
    assert sorted(r.seed for r in jobs) == sorted(seeds)  # each an ordinary job
    assert {r.status for r in jobs} == {"done"}


def test_a_refused_variation_run_is_said_in_a_line_not_a_toast(page: Any,
                                                               fakefal: FakeFal) -> None:
    page.locator("#text-to-video-variations").get_by_text("Variations:").first.click()
    page.locator("#text-to-video-variations-run").click()  # no prompt
    said = page.locator("#text-to-video-variations-status")
    expect(said).to_contain_text("Check the form: Prompt", timeout=15_000)
    assert page.locator(".toast-body").count() == 0
    page.locator("#text-to-video-prompt textarea").fill("now with a prompt")
    page.locator("#text-to-video-variations-run").click()
    expect(page.locator("#text-to-video-variation-1")).to_contain_text("seed", timeout=15_000)
    expect(said).to_have_text("")  # the earlier refusal, gone
    wait_for(lambda: fakefal.count("submit") == MOST_RUN, what="the four variations sent")


def test_variations_past_a_persons_limit_say_so_and_the_rest_run(
        browser: Any, fakefal_server: FakeFal, tmp_path_factory: pytest.TempPathFactory
        ) -> None:
    fakefal_server.reset()
    env = {**fakefal_server.env, "PIKA_MAX_JOBS_PER_PERSON": "2",
           "PIKA_MAX_QUEUED_PER_PERSON": "0"}
    with running_app(env, tmp_path_factory.mktemp("limits")) as app:
        context = browser.new_context(viewport=VIEWPORTS["phone"])
        page = context.new_page()
        page.goto(app.url)
        page.locator("#text-to-video-prompt textarea").fill("four at once")
        page.locator("#text-to-video-variations").get_by_text("Variations:").first.click()
        page.locator("#text-to-video-variations-run").click()
        for i in (1, 2):
            playing(page, f"#text-to-video-variation-{i} video")
        for i in (3, 4):
            cell = page.locator(f"#text-to-video-variation-{i}")
            assert "Refused" in cell.inner_text() and "2 running" in cell.inner_text()
        # Two to a line on a phone, and nothing wider than it.
        boxes = [page.locator(f"#text-to-video-variation-{i}").bounding_box() for i in (1, 2, 3)]
        assert boxes[0]["y"] == boxes[1]["y"] < boxes[2]["y"]  # type: ignore[index]
        assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS["phone"]["width"]
        page.screenshot(path=str(ARTIFACTS / "variations-limit-phone.png"), full_page=True)
        context.close()
    assert fakefal_server.count("submit") == 2
