"""The page and the API built from fal's live schemas (issue 15): the app starts against a
fake fal cloud whose Platform API says fal changed things, and its forms follow, through
gradio_client and in Chromium; a job on a field only fal's schema names reaches the fake
with the JSON type the fake's own schema demands."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from gradio_client import Client
from playwright.sync_api import expect

from tests.apprunner import RunningApp, running_app
from tests.chromium import needs_chromium
from tests.fakefal import FakeFal
from tests.fakefal.platform import FAKE_ADMIN_KEY
from tests.test_browser import ARTIFACTS, VIEWPORTS, click_tab, prompt
from tests.test_live_catalog import T2V22, T2V26, script_changes
from tests.waiting import wait_for

TODAY = time.strftime("%Y-%m-%d", time.gmtime())


@pytest.fixture(scope="module")
def live_app(fakefal_server: FakeFal, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[RunningApp]:
    fakefal_server.reset()
    script_changes(fakefal_server)
    with running_app(fakefal_server.env, tmp_path_factory.mktemp("live")) as app:
        yield app
    fakefal_server.reset()  # the next module's apps start against fal as it was


@pytest.fixture
def fal(fakefal_server: FakeFal) -> FakeFal:
    """No records, and fal as scripted (its schemas also judge what is submitted)."""
    fakefal_server.reset()
    script_changes(fakefal_server)
    return fakefal_server


def test_the_api_takes_the_fields_fal_added(live_app: RunningApp, fal: FakeFal) -> None:
    client = Client(live_app.url, verbose=False)
    api = client.view_api(return_format="dict", print_info=False)
    names = [p["parameter_name"] for p in api["named_endpoints"]["/text_to_video"]["parameters"]]
    assert {"camera_motion", "loop", "motion_strength", "guidance_scale"} <= set(names)
    assert "negative_prompt" not in [
        p["parameter_name"] for p in api["named_endpoints"]["/swaps"]["parameters"]]
    status, *_ = client.predict(version="v2.2", prompt="a kite over the dunes",
                                camera_motion="pan", loop="yes", motion_strength=3,
                                guidance_scale=6.5, api_name="/text_to_video")
    assert "Done" in status, status
    [submit] = fal.find("submit")
    assert submit.status == 200 and submit.path == f"/{T2V22}"
    sent = submit.body
    assert sent["camera_motion"] == "pan"
    assert sent["loop"] is True
    assert type(sent["motion_strength"]) is int and sent["motion_strength"] == 3
    assert sent["guidance_scale"] == 6.5


def test_a_new_endpoint_runs_from_its_own_tab(live_app: RunningApp, fal: FakeFal) -> None:
    status, *_ = Client(live_app.url, verbose=False).predict(
        version="v2.6", prompt="a lighthouse at dusk", resolution="480p",
        api_name="/text_to_video")
    assert "Done" in status, status
    [submit] = fal.find("submit")
    assert submit.path == f"/{T2V26}" and submit.body["resolution"] == "480p"


def test_an_option_fal_added_is_taken_and_one_it_never_had_is_refused_for_free(
        live_app: RunningApp, fal: FakeFal) -> None:
    client = Client(live_app.url, verbose=False)
    status, *_ = client.predict(version="v2.2", prompt="wide", aspect_ratio="21:9",
                                api_name="/text_to_video")
    assert "Done" in status and fal.find("submit")[0].body["aspect_ratio"] == "21:9"
    with pytest.raises(Exception, match="Aspect ratio must be one of"):
        client.predict(version="v2.2", prompt="wider", aspect_ratio="32:9",
                       api_name="/text_to_video")
    assert fal.count("submit") == 1


@pytest.mark.browser
@needs_chromium
def test_the_page_shows_fals_forms_and_runs_a_fetched_field(  # type: ignore[no-untyped-def]
        browser, live_app: RunningApp, fal: FakeFal) -> None:
    page = browser.new_context(viewport=VIEWPORTS["desktop"]).new_page()
    page.goto(live_app.url)
    page.locator("[role=tablist]").wait_for()
    about = page.locator("#text-to-video-about")
    expect(about).to_contain_text(f"form from fal, {TODAY}")
    expect(page.locator("#text-to-video-version")).to_contain_text("v2.6 · new")
    expect(page.locator("#text-to-video-camera_motion")).to_be_hidden()  # not a v2.5 field
    expect(page.get_by_text("$0.05 per second, fal's price")).to_be_visible()
    page.locator("#text-to-video-version").get_by_label("v2.2", exact=True).check()
    motion = page.locator("#text-to-video-camera_motion")
    expect(motion).to_be_visible()
    motion.get_by_label("zoom", exact=True).check()
    page.locator("#text-to-video-aspect_ratio input").first.click()
    expect(page.get_by_role("option", name="21:9")).to_be_visible()
    page.keyboard.press("Escape")
    prompt(page, "text-to-video", "a kite, zooming in")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "live-catalog-text-to-video.png"), full_page=True)
    page.locator("#text-to-video-run").click()
    page.locator("#text-to-video-status").get_by_text("Done").wait_for(timeout=60_000)
    [submit] = fal.find("submit")
    assert submit.path == f"/{T2V22}" and submit.body["camera_motion"] == "zoom"
    assert submit.body["loop"] is False and submit.body["guidance_scale"] == 7.5
    assert "motion_strength" not in submit.body  # left blank: fal's own default

    click_tab(page, "Image to video")
    versions = page.locator("#image-to-video-version")
    expect(versions).to_contain_text("v2.1 · deprecated")
    expect(versions).not_to_contain_text("v2 Turbo")  # fal no longer lists it
    click_tab(page, "Swaps")
    expect(page.locator("#swaps-about")).to_contain_text(f"form from fal, {TODAY}")
    assert page.locator("#swaps-negative_prompt").count() == 0  # fal removed it
    page.context.close()


def test_the_spend_view_shows_fals_usage_to_a_logged_in_team_never_the_admin_key(
        fal: FakeFal, tmp_path_factory: pytest.TempPathFactory) -> None:
    fal.platform.usage = {T2V22: 1.25, "fal-ai/pika/v2.2/pikascenes": 0.5}
    env = {**fal.env, "PIKA_AUTH": "ann:a-long-password", "PIKA_FAL_ADMIN_KEY": FAKE_ADMIN_KEY}
    with running_app(env, tmp_path_factory.mktemp("usage")) as app:
        client = Client(app.url, auth=("ann", "a-long-password"), verbose=False)
        said = wait_for(lambda: (html := client.predict(api_name="/spend")) and
                        "$1.75" in html and html, what="fal's usage in the spend view")
        assert "fal's own usage for the Pika endpoints" in said
        assert "this month <b>$1.75</b>" in said
        assert all(r.key == FAKE_ADMIN_KEY for r in fal.find("usage"))
        config = httpx.get(f"{app.url}config", cookies=dict(client.cookies), trust_env=False)
        for text in (app.output(), config.text, said):
            assert FAKE_ADMIN_KEY not in text and "fake-admin" not in text
