"""The code a request becomes (playground/snippets.py), without a network: what each form
holds, that typed text cannot break out of its string, that no path or key goes in.
tests/test_snippets.py runs the three forms against the fake fal cloud."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from typing import Any

import pytest

from playground import catalog, snippets
from playground.history import JobRecord
from playground.requests import build_request

# Lone surrogates, zero-width and bidirectional marks, separators, quotes, a backslash, a
# shell's substitutions, an emoji, a tag character: all must come back as they were.
STRINGS = ["plain", "it's \"quoted\" \\ `date` $(id) $HOME", "two\nlines\tand a tab",
           "\u202eevil\u200b\u2028\u2029", "lone \ud800 surrogate", "🚣 \U000e0041 tag", ""]


def run_python(code: str, files: dict[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    """Executes the Python form with a stand-in fal_client; what it subscribed to."""
    seen: dict[str, Any] = {}
    stub = types.ModuleType("fal_client")

    class InProgress:
        logs: list[dict[str, str]] = []

    def subscribe(endpoint: str, *, arguments: dict[str, Any], with_logs: bool,
                  on_queue_update: Any) -> dict[str, Any]:
        seen.update(endpoint=endpoint, arguments=arguments, with_logs=with_logs)
        on_queue_update(InProgress())
        return {"video": {"url": "https://v3.fal.media/files/x/output.mp4"}}

    stub.InProgress = InProgress  # type: ignore[attr-defined]
    stub.subscribe = subscribe  # type: ignore[attr-defined]
    stub.upload_file = lambda name: f"https://v3.fal.media/files/up/{name}"  # type: ignore[attr-defined]
    saved = sys.modules.get("fal_client")
    sys.modules["fal_client"] = stub
    try:
        exec(compile(code, "pika.py", "exec"), {"__name__": "__main__", "print": lambda *a: None})
    finally:
        if saved is not None:
            sys.modules["fal_client"] = saved
        else:
            del sys.modules["fal_client"]
    return seen["endpoint"], seen["arguments"]


@pytest.mark.parametrize("text", STRINGS)
def test_typed_text_comes_back_as_it_was_in_python(text: str) -> None:
    code = snippets.for_arguments("fal-ai/pika/v2.2/text-to-video", {"prompt": text, "seed": 1})
    endpoint, arguments = run_python(code.python)
    assert endpoint == "fal-ai/pika/v2.2/text-to-video"
    assert arguments == {"prompt": text, "seed": 1}


@pytest.mark.parametrize("text", STRINGS)
def test_typed_text_shows_no_hidden_characters(text: str) -> None:
    code = snippets.for_arguments("e", {"prompt": text})
    for form in code.as_dict().values():
        assert not any(snippets._hidden(c) for c in form), form


@pytest.mark.parametrize("text", [s for s in STRINGS if "\ud800" not in s])
def test_the_shell_reads_the_body_as_json_of_the_same_text(text: str) -> None:
    body = snippets._shell('{"prompt": ' + json.dumps(text) + "}")
    out = subprocess.run(["bash", "-c", f"printf '%s' {body}"], capture_output=True,
                         check=True).stdout
    assert json.loads(out) == {"prompt": text}


def test_json_types_are_the_endpoints_own() -> None:
    for version, duration in (("v2.2", '"duration": "10"'), ("v2.1", '"duration": 10')):
        request = build_request(catalog.lookup("text-to-video", version),
                                {"prompt": "a fox", "duration": "10", "seed": 9})
        code = snippets.for_request(request)
        assert duration in code.python and duration in code.curl
        assert duration.replace('"duration"', "duration") in code.javascript
        assert run_python(code.python)[1] == request.arguments
        assert '"seed": 9' in code.python


def test_a_blank_seed_is_drawn_and_written_in() -> None:
    request = build_request(catalog.lookup("text-to-video", "v2.2"), {"prompt": "a fox"})
    code = snippets.for_request(request)
    assert run_python(code.python)[1]["seed"] == request.seed


def test_local_files_go_by_their_name_alone() -> None:
    endpoint = catalog.lookup("keyframes", "v2.2")
    request = build_request(endpoint, {
        "image_urls": ["/srv/gradio/abc123/dawn.jpg", "https://v3.fal.media/files/b.png",
                       "C:\\Users\\me\\night.png"],
        "transitions": [{"duration": 3, "prompt": "rise"}, {"duration": 4}], "seed": 1})
    code = snippets.for_request(request)
    assert code.local_files == ("dawn.jpg", "night.png")
    for form in code.as_dict().values():
        assert "/srv" not in form and "Users" not in form and "abc123" not in form
    assert run_python(code.python)[1]["image_urls"] == [
        "https://v3.fal.media/files/up/dawn.jpg", "https://v3.fal.media/files/b.png",
        "https://v3.fal.media/files/up/night.png"]
    assert 'await upload("dawn.jpg", "image/jpeg")' in code.javascript
    assert "data_uri 'night.png' image/png" in code.curl


def test_a_jobs_code_is_what_it_sent() -> None:
    record = JobRecord(id="j1", mode="image-to-video", version="v2.2",
                       endpoint="fal-ai/pika/v2.2/image-to-video", backend="fal",
                       key_source="server", form={"image_url": "/data/inputs/x.jpg"},
                       arguments={"image_url": "https://v3.fal.media/files/u/x.jpg",
                                  "prompt": "waves", "seed": 5}, seed=5, request_id="r")
    code = snippets.for_record(record)
    assert code.local_files == ()
    assert run_python(code.python) == (record.endpoint, record.arguments)
    # One that never reached fal's storage (the offline demo): its file, by name.
    record.arguments["image_url"] = "/data/inputs/x.jpg"
    assert snippets.for_record(record).local_files == ("x.jpg",)


def test_no_key_goes_in_only_where_it_is_read() -> None:
    code = snippets.for_arguments("e", {"prompt": "p"})
    assert "FAL_KEY" in code.python and "FAL_KEY" in code.javascript
    assert code.curl.count('-H "Authorization: Key $FAL_KEY"') == 3
    assert "Key " not in code.python and "credentials" not in code.javascript
