"""What a page load sends (issue 13, item 13): the config in the HTML without what no page
reads (schemas, API examples, class ids, events' unset options), and the page and its
descriptions compressed. Real HTTP to a running app; the timings are
`python -m bench --only page`.
"""

from __future__ import annotations

import json
import re

import httpx

from tests.apprunner import RunningApp

SCHEMAS = ("api_info", "api_info_as_input", "api_info_as_output")
UNREAD = (*SCHEMAS, "component_class_id", "example_inputs", "skip_api")
# An event's options as Gradio writes them when they are not set.
UNSET = {"cancels": [], "trigger_after": None, "js": None, "api_visibility": "private",
         "show_progress_on": None, "component_prop_inputs": []}


PUBLIC_MODES = {"text_to_video", "image_to_video", "keyframes", "scenes", "effects", "additions",
                "swaps"}


def embedded_text(html: str) -> str:
    found = re.search(r"window\.gradio_config = (.*?);</script>", html, re.S)
    assert found, "no config in the page"
    return found.group(1)


def embedded_config(html: str) -> dict:  # type: ignore[type-arg]
    return json.loads(embedded_text(html))


def test_the_page_carries_no_schemas_and_clients_still_get_them(app: RunningApp) -> None:
    page = httpx.get(app.url, trust_env=False, timeout=30).raise_for_status()
    embedded = embedded_config(page.text)
    served = httpx.get(f"{app.url}config", trust_env=False, timeout=30).raise_for_status().json()
    assert not [c["id"] for c in embedded["components"] if any(k in c for k in UNREAD)]
    # gradio_client learns from /config which values are files: that stays whole.
    files = [c for c in served["components"] if c["type"] in ("image", "video", "gallery")]
    assert files and all("api_info" in c for c in files)
    assert len(json.dumps(embedded)) < 0.6 * len(json.dumps(served))
    # The presets of a tab the page does not open on are built when it is first opened.
    assert [c["type"] for c in embedded["components"]].count("dataset") == 1


def elem_ids(config: dict) -> set[str]:  # type: ignore[type-arg]
    return {c["props"].get("elem_id") for c in config["components"]} - {None}


def test_the_page_carries_the_first_tabs_form_and_the_api_keeps_every_mode(
        app: RunningApp) -> None:
    """Issue 13, item 13: the config in the page at most 100 KiB. A tab's form is built
    when the page opens it; the API's endpoints are on forms of their own, in `/config`
    (for gradio_client) and not in the page."""
    html = httpx.get(app.url, trust_env=False, timeout=30).raise_for_status().text
    embedded = embedded_config(html)
    served = httpx.get(f"{app.url}config", trust_env=False, timeout=30).raise_for_status().json()
    assert len(embedded_text(html).encode()) <= 100 * 1024
    assert "text-to-video-prompt" in elem_ids(embedded)
    assert not {i for i in elem_ids(embedded) if i.startswith(("image-to-video-", "keyframes-"))}
    assert "api-forms" in elem_ids(served) and "api-forms" not in elem_ids(embedded)
    # Every event in the page names only components the page has.
    ids = {c["id"] for c in embedded["components"]} | {embedded["layout"]["id"]}  # the page
    strays = [(d["id"], i) for d in embedded["dependencies"]
              for i in [t[0] for t in d["targets"]] + d["inputs"] + d["outputs"]
              if i is not None and i not in ids]
    assert not strays
    # Each mode's run and stop are public endpoints, on components /config holds.
    served_ids = {c["id"] for c in served["components"]}
    public = {d["api_name"]: d for d in served["dependencies"]
              if d.get("api_visibility") == "public"}
    for mode in PUBLIC_MODES:
        for name in (mode, f"stop_{mode}"):
            assert set(public[name]["inputs"]) <= served_ids, name
        assert public[mode]["id"] not in {d["id"] for d in embedded["dependencies"]}


def test_events_in_the_page_carry_only_the_options_they_set(app: RunningApp) -> None:
    page = httpx.get(app.url, trust_env=False, timeout=30).raise_for_status()
    embedded = embedded_config(page.text)["dependencies"]
    served = httpx.get(f"{app.url}config", trust_env=False, timeout=30).raise_for_status().json()
    served = served["dependencies"]
    # The API forms' events stay out of the page (above); every other event is in it.
    forms = {d["id"] for d in served if d.get("api_visibility") == "public"
             and d["api_name"].removeprefix("stop_") in PUBLIC_MODES}
    assert [d["id"] for d in embedded] == [d["id"] for d in served if d["id"] not in forms]
    served = [d for d in served if d["id"] not in forms]
    unset = [(d["id"], k) for d in embedded for k, v in UNSET.items() if k in d and d[k] == v]
    assert not unset
    for mine, whole in zip(embedded, served, strict=True):
        # What is set reaches the page as it is; only what is unset is left out.
        assert {k: v for k, v in whole.items() if k in mine} == mine
        assert all(whole[k] == v for k, v in UNSET.items() if k not in mine and k in whole)
    # Set options stay: a chained event's trigger, the API's public endpoints.
    assert any(d.get("trigger_after") is not None for d in embedded)
    assert any(d.get("api_visibility") == "public" for d in embedded)
    assert all(k in d for d in embedded for k in ("targets", "inputs", "outputs", "types",
                                                  "trigger_mode", "queue", "api_name"))


def test_the_page_and_its_descriptions_go_out_compressed(app: RunningApp) -> None:
    with httpx.Client(base_url=app.url, trust_env=False, timeout=30) as http:
        for path, encoding in (("", "br"), ("config", "br"), ("gradio_api/info", "gzip")):
            answer = http.get(path, headers={"accept-encoding": encoding})
            answer.raise_for_status()
            assert answer.headers.get("content-encoding") == encoding, path
            whole = http.get(path, headers={"accept-encoding": "identity"}).content
            assert len(whole) > 5 * int(answer.headers["content-length"]), path
            assert answer.content == whole, path  # what httpx decoded is the page itself
