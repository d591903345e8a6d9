"""The catalog from fal's Platform API (issue 15), against the fake fal cloud's own schemas:
what is fetched and how, what the merge makes of each change fal may make, prices, the
cache surviving every kind of broken answer, and the maintainers' command."""

from __future__ import annotations

import json
import logging
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs

import pytest

from playground import catalog, livecatalog
from playground.errors import InputError
from playground.falusage import FalUsage
from playground.fetched import read_input
from playground.livecatalog import LiveCatalog
from playground.requests import build_request
from playground.settings import Settings
from tests.apprunner import ROOT
from tests.fakefal import FakeFal
from tests.fakefal.platform import FAKE_ADMIN_KEY
from tests.fakefal.schemas import TextToVideo25
from tests.waiting import wait_for

T2V22 = "fal-ai/pika/v2.2/text-to-video"
T2V21 = "fal-ai/pika/v2.1/text-to-video"
T2V25 = "fal-ai/pika/v2.5/text-to-video"
T2V26 = "fal-ai/pika/v2.6/text-to-video"
I2V21 = "fal-ai/pika/v2.1/image-to-video"
TURBO_I2V = "fal-ai/pika/v2/turbo/image-to-video"
SWAPS = "fal-ai/pika/v2/pikaswaps"
SCENES = "fal-ai/pika/v2.2/pikascenes"
TODAY = time.strftime("%Y-%m-%d", time.gmtime())


def script_changes(fake: FakeFal) -> None:
    """Every change fal may make, at once (tests/test_live_catalog_page.py uses it too)."""
    fal = fake.platform
    fal.change(T2V22, add={"camera_motion": (Literal["none", "pan", "zoom"], "none"),
                           "loop": (bool, False), "motion_strength": (int | None, None),
                           "guidance_scale": (float, 7.5)})
    fal.add_option(T2V22, "aspect_ratio", "21:9")
    fal.change_default(T2V21, "resolution", "1080p")
    fal.change(SWAPS, drop=("negative_prompt",))
    fal.change(T2V25, add={"soundtrack_audio_url": (str | None, None)})  # audio: no form draws it
    fal.add_endpoint(T2V26, TextToVideo25, "text-to-video", "Pika 2.6 Text to Video")
    fal.listings[I2V21].status = "deprecated"
    fal.listings[TURBO_I2V].listed = False
    fal.prices[T2V25] = (0.05, "second")
    fal.prices[SCENES] = (0.3, "compute_second")  # no request counts those
    fal.estimates[SCENES] = 0.52


@pytest.fixture(autouse=True)
def builtin_catalog() -> Iterator[None]:
    """Each test installs what it fetched; the next starts from the built-in catalog."""
    yield
    catalog.install(list(catalog.ENDPOINTS))


def settings(tmp_path: Path, **more: object) -> Settings:
    return Settings(data_dir=tmp_path, server_key="fake-key-id:fake-key-secret", **more)  # type: ignore[arg-type]


def fetched(tmp_path: Path, **more: object) -> LiveCatalog:
    """The cache served, then one refresh, here and now (no thread of its own)."""
    live = LiveCatalog(settings(tmp_path), **more)  # type: ignore[arg-type]
    live.start(background=False)
    live.refresh()
    return live


def test_unchanged_fal_leaves_every_form_as_built_in(fal_env: FakeFal, tmp_path: Path) -> None:
    live = fetched(tmp_path)
    served = {e.id: e for e in catalog.current()}
    assert set(served) == {e.id for e in catalog.ENDPOINTS}  # the non-Pika search hit is not
    for builtin in catalog.ENDPOINTS:
        assert served[builtin.id].schema == builtin.schema, builtin.id
        assert served[builtin.id].fetched == TODAY
        assert catalog.origin(served[builtin.id]) == f"from fal, {TODAY}"
    assert livecatalog.differences(livecatalog.build(live.snapshot)) == []
    listing = fal_env.find("models")
    # 13 ids with schemas, 5 a page: the cursor was followed; no call named over 50 ids.
    by_id = [parse_qs(r.query) for r in listing if "endpoint_id" in parse_qs(r.query)]
    assert len(by_id) == 3 and all(len(q["endpoint_id"]) <= 50 for q in by_id)
    assert all(q["expand"] == ["openapi-3.0"] for q in by_id)
    assert [parse_qs(r.query).get("q") for r in listing if "q=" in r.query][0] == ["pika"]
    assert all(r.key == "fake-key-id:fake-key-secret" for r in fal_env.find("platform"))
    assert json.loads((tmp_path / "fal-catalog.json").read_text())["checked"].startswith(TODAY)


def test_every_change_fal_makes_reaches_the_catalog(fal_env: FakeFal, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    script_changes(fal_env)
    caplog.set_level(logging.INFO, "playground.livecatalog")
    fetched(tmp_path)
    t2v22 = catalog.lookup("text-to-video", "v2.2").properties
    assert t2v22["camera_motion"] == {"type": "string", "title": "Camera Motion",
                                      "enum": ["none", "pan", "zoom"], "default": "none"}
    assert t2v22["loop"]["type"] == "boolean" and t2v22["loop"]["default"] is False
    assert t2v22["motion_strength"] == {"type": "integer", "title": "Motion Strength"}
    assert t2v22["guidance_scale"]["type"] == "number"
    assert t2v22["aspect_ratio"]["enum"] == [*catalog.ASPECT_RATIOS, "21:9"]
    assert t2v22["aspect_ratio"]["title"] == "Aspect ratio"  # our words stay
    assert t2v22["prompt"]["maxLength"] == catalog.MAX_PROMPT_CHARS  # and our limits
    assert t2v22["seed"]["maximum"] == catalog.SEED_MAX
    assert catalog.lookup("text-to-video", "v2.1").properties["resolution"]["default"] == "1080p"
    assert "negative_prompt" not in catalog.lookup("swaps", "v2").properties
    assert "soundtrack_audio_url" not in catalog.lookup("text-to-video", "v2.5").properties
    left_out = [r.getMessage() for r in caplog.records if "soundtrack_audio_url" in r.getMessage()]
    assert left_out == [f"fal catalog: {T2V25}: field soundtrack_audio_url left out: an audio file "
                        "(the playground uploads images and videos)"]
    new = catalog.lookup("text-to-video", "v2.6")
    assert (new.id, new.new, catalog.version_label(new)) == (T2V26, True, "v2.6 · new")
    assert new.title == "Pika 2.6 Text to Video"
    assert new.properties["seed"]["maximum"] == catalog.SEED_MAX
    assert catalog.version_label(catalog.lookup("image-to-video", "v2.1")) == "v2.1 · deprecated"
    # No longer listed: out of the form, still known to the history of its jobs.
    assert "v2 Turbo" not in [e.version for e in catalog.versions("image-to-video")]
    assert catalog.known("image-to-video", "v2 Turbo").id == TURBO_I2V
    assert catalog.by_id(TURBO_I2V).id == TURBO_I2V
    # The 25 s rule is ours, and stays.
    assert catalog.lookup("keyframes", "v2.2").properties["transitions"]["x-max-total"] == 25


def test_a_fetched_field_goes_to_fal_with_the_type_fal_declares(fal_env: FakeFal,
                                                                 tmp_path: Path) -> None:
    script_changes(fal_env)
    fetched(tmp_path)
    endpoint = catalog.lookup("text-to-video", "v2.2")
    request = build_request(endpoint, {"prompt": "a kite", "camera_motion": "pan",
                                       "loop": "yes", "motion_strength": 3.0,
                                       "guidance_scale": "6.5"}, rng=random.Random(1))
    assert request.arguments["camera_motion"] == "pan"
    assert request.arguments["loop"] is True
    assert type(request.arguments["motion_strength"]) is int
    assert request.arguments["guidance_scale"] == 6.5
    swaps = catalog.lookup("swaps", "v2")
    gone = "Negative prompt is no longer a setting of Pikaswaps 2 .fal removed it."
    with pytest.raises(InputError, match=gone):
        build_request(swaps, {"video_url": "v.mp4", "negative_prompt": "blur"})


def test_prices_from_fal_drive_the_price_line(fal_env: FakeFal, tmp_path: Path) -> None:
    script_changes(fal_env)
    fetched(tmp_path)
    v25 = catalog.lookup("text-to-video", "v2.5")
    assert catalog.job_price(v25, {"duration": "10"}) == catalog.JobPrice(0.5)
    assert catalog.estimate_price(v25, {"duration": "10"}) == (
        "about $0.50 for 10 s ($0.05 per second, fal's price)")
    scenes = catalog.lookup("scenes", "v2.2")  # a unit no request counts: fal's estimate
    assert catalog.estimate_price(scenes, {"duration": "5"}) == (
        "about $0.52 per video (fal's estimate per call)")
    estimate = fal_env.find("estimate")
    assert [r.body["endpoints"] for r in estimate] == [{SCENES: {"call_quantity": 1}}]
    v22 = catalog.lookup("text-to-video", "v2.2")  # fal publishes none: the catalog's figure
    assert catalog.estimate_price(v22, {"resolution": "1080p", "duration": "5"}) == (
        "about $0.45 for 5 s")


@pytest.mark.parametrize("fault", [500, 429, "hold", "garbage", "badjson", "drop"])
def test_a_broken_answer_never_replaces_a_good_cache(fal_env: FakeFal, tmp_path: Path,
                                                     fault: int | str) -> None:
    fetched(tmp_path)
    cache = tmp_path / "fal-catalog.json"
    good = cache.read_bytes()
    script_changes(fal_env)  # what fal would say, if it answered
    fal_env.script(faults={"models": [fault] * 2, "pricing": [fault]})
    again = LiveCatalog(settings(tmp_path), timeout=1.0)
    again.start(background=False)
    report = again.refresh()
    assert report.failed and not report.fetched
    assert cache.read_bytes() == good
    served = catalog.lookup("text-to-video", "v2.2")
    assert "camera_motion" not in served.properties and served.fetched == TODAY


def test_without_a_cache_start_up_waits_2_s_at_most_then_serves_the_built_in_forms(
        fal_env: FakeFal, tmp_path: Path) -> None:
    fal_env.script(faults={"models": ["hold"]})
    live = LiveCatalog(settings(tmp_path), timeout=3.0)
    started = time.monotonic()
    live.start()
    took = time.monotonic() - started
    assert 1.9 <= took < 2.5, took
    assert all(catalog.origin(e) == "built in" for e in catalog.current())
    live.stop(wait=10)  # its calls end within this test


def test_one_schema_fal_cannot_expand_keeps_its_older_copy(fal_env: FakeFal,
                                                            tmp_path: Path) -> None:
    cache = tmp_path / "fal-catalog.json"
    fetched(tmp_path)
    data = json.loads(cache.read_text())
    data["models"][T2V22]["fetched"] = "2026-11-01T00:00:00Z"  # an older good copy
    cache.write_text(json.dumps(data))
    script_changes(fal_env)
    fal_env.platform.listings[T2V22].broken = True
    live = LiveCatalog(settings(tmp_path))
    live.start(background=False)
    report = live.refresh()
    assert T2V22 in report.kept and T2V21 in report.fetched
    assert catalog.origin(catalog.lookup("text-to-video", "v2.2")) == "from fal, 2026-11-01"
    assert catalog.origin(catalog.lookup("text-to-video", "v2.1")) == f"from fal, {TODAY}"


def test_with_a_cache_start_up_does_not_wait(fal_env: FakeFal, tmp_path: Path) -> None:
    fetched(tmp_path)
    fal_env.script(faults={"models": ["hold"] * 2})
    live = LiveCatalog(settings(tmp_path), timeout=1.0)
    started = time.monotonic()
    live.start()
    assert time.monotonic() - started < 0.5
    assert catalog.origin(catalog.lookup("text-to-video", "v2.2")) == f"from fal, {TODAY}"
    live.stop(wait=10)


def test_no_key_or_no_refresh_asks_fal_nothing(fal_env: FakeFal, tmp_path: Path) -> None:
    LiveCatalog(Settings(data_dir=tmp_path)).start()
    LiveCatalog(settings(tmp_path, catalog_refresh_hours=0)).start()
    assert fal_env.count("platform") == fal_env.count() == 0
    assert all(catalog.origin(e) == "built in" for e in catalog.current())


def cli(fake: FakeFal, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**fake.env, "PIKA_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "app.py", "catalog", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_catalog_diff_says_what_fal_changed_and_fails_on_any(fakefal: FakeFal,
                                                             tmp_path: Path) -> None:
    same = cli(fakefal, tmp_path, "--diff")
    assert same.returncode == 0, same.stderr
    assert same.stdout.strip().endswith("0 differences from the built-in catalog")
    script_changes(fakefal)
    changed = cli(fakefal, tmp_path, "--diff")
    assert changed.returncode == 1, changed.stderr
    lines = changed.stdout.splitlines()
    for expected in (f"{T2V22}: field added: camera_motion",
                     f'{T2V22}: aspect_ratio.enum: ', f'{T2V21}: resolution.default: "720p" -> '
                     '"1080p"', f"{SWAPS}: field removed: negative_prompt",
                     f"{I2V21}: deprecated", f"{TURBO_I2V}: no longer listed by fal (hidden)",
                     f"{T2V26}: new (Text to video, v2.6)"):
        assert any(line.startswith(expected) for line in lines), (expected, lines)
    assert not (tmp_path / "fal-catalog.json").exists()  # a diff only reads


def test_catalog_refresh_writes_the_cache_the_app_starts_from(fakefal: FakeFal,
                                                              tmp_path: Path) -> None:
    script_changes(fakefal)
    done = cli(fakefal, tmp_path, "--refresh")
    assert done.returncode == 0, done.stderr
    assert "13 schemas fetched, 2 prices" in done.stdout
    LiveCatalog(Settings(data_dir=tmp_path)).start()  # no key: the cache alone
    assert "camera_motion" in catalog.lookup("text-to-video", "v2.2").properties
    fakefal.script(faults={"models": [500] * 3})
    failed = cli(fakefal, tmp_path, "--refresh")
    assert failed.returncode == 1 and "HTTP 500" in failed.stdout


def test_fals_own_usage_needs_an_admin_key_and_never_holds_a_page(fal_env: FakeFal,
                                                                   tmp_path: Path) -> None:
    fal_env.platform.usage = {T2V22: 1.25, SCENES: 0.5, "fal-ai/flux/dev": 9.0}
    usage = FalUsage(Settings(data_dir=tmp_path, admin_key=FAKE_ADMIN_KEY))
    assert "not read yet" in usage.line()  # asked on a thread; the page does not wait
    wait_for(lambda: usage.last, what="fal's usage")
    assert "today <b>$1.75</b>, this month <b>$1.75</b>" in usage.line()
    asked = fal_env.find("usage")
    assert len(asked) == 2 and all(r.key == FAKE_ADMIN_KEY for r in asked)
    assert set(parse_qs(asked[0].query)["endpoint_id"]) == {e.id for e in catalog.ENDPOINTS}
    assert usage.line() and fal_env.count("usage") == 2  # fresh for 10 minutes
    not_admin = FalUsage(Settings(data_dir=tmp_path, admin_key="fake-key-id:fake-key-secret"))
    not_admin.line()
    wait_for(lambda: not_admin.failed, what="the refusal")
    assert "HTTP 403 (Admin API key required)" in not_admin.failed
    assert "fake-key" not in not_admin.failed
    assert FalUsage(Settings(data_dir=tmp_path)).line() == ""  # no admin key: nothing said


def test_nothing_from_fal_reaches_the_page_unchecked() -> None:
    """Names become API parameters and element ids, ids go into links: fal's are checked."""
    doc = {"paths": {"/fal-ai/pika/v3/text-to-video": {"post": {"requestBody": {"content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/In"}}}}}}},
        "components": {"schemas": {"In": {"type": "object", "required": ["prompt"],
                                          "properties": {
            "prompt": {"type": "string", "title": "P" * 500},
            "request": {"type": "string"}, "bad name": {"type": "string"},
            "class": {"type": "string"}, "transition_1_prompt": {"type": "string"},
            "style": {"type": "string", "enum": [f"s{i}" for i in range(101)]},
            "options": {"type": "object"}, "steps": {"type": "integer", "maximum": "lots"},
            "ref_image_urls": {"type": "array", "items": [{"type": "string"}]},
            "weights": ["not", "a", "schema"],
        }, "x-fal-order-properties": "prompt"}}}}
    fal = read_input(doc, "fal-ai/pika/v3/text-to-video")
    assert list(fal.properties) == ["prompt", "steps"]
    assert len(fal.properties["prompt"]["title"]) == 80
    assert "maximum" not in fal.properties["steps"]
    assert set(fal.skipped) == {"request", "bad name", "class", "transition_1_prompt", "style",
                                "options", "ref_image_urls", "weights"}
    notes: list[str] = []
    entry = {"fetched": "2026-11-28T00:00:00Z", "category": "text-to-video"}
    assert livecatalog.new_endpoint("fal-ai/pika/v3`](javascript:x)/t2v", fal, entry, set(),
                                    notes) is None
    assert "not an endpoint id" in notes[0]
    made = livecatalog.new_endpoint("fal-ai/pika/v3/text-to-video", fal, entry, set(), notes)
    assert made is not None and (made.mode, made.version, made.new) == ("text-to-video", "v3",
                                                                         True)


def test_it_refreshes_every_so_many_hours_and_a_change_reaches_checks_and_prices(
        fal_env: FakeFal, tmp_path: Path) -> None:
    live = LiveCatalog(settings(tmp_path, catalog_refresh_hours=0.5 / 3600))  # every 0.5 s
    live.start()
    assert "camera_motion" not in catalog.lookup("text-to-video", "v2.2").properties
    script_changes(fal_env)  # fal changes while the app runs
    wait_for(lambda: "camera_motion" in catalog.lookup("text-to-video", "v2.2").properties,
             timeout=15, what="the next refresh")
    assert catalog.job_price(catalog.lookup("text-to-video", "v2.5"), {"duration": "5"}) == (
        catalog.JobPrice(0.25))
    live.stop(wait=10)
    searches = [r for r in fal_env.find("models") if "q=pika" in r.query]
    assert len(searches) >= 2
