"""What a page load sends (issue 13, item 13): the config in the HTML without the schemas
no page reads, and the page and its descriptions compressed. Real HTTP to a running app;
the timings are `python -m bench --only page`.
"""

from __future__ import annotations

import json
import re

import httpx

from tests.apprunner import RunningApp

SCHEMAS = ("api_info", "api_info_as_input", "api_info_as_output")


def embedded_config(html: str) -> dict:  # type: ignore[type-arg]
    found = re.search(r"window\.gradio_config = (.*?);</script>", html, re.S)
    assert found, "no config in the page"
    return json.loads(found.group(1))


def test_the_page_carries_no_schemas_and_clients_still_get_them(app: RunningApp) -> None:
    page = httpx.get(app.url, trust_env=False, timeout=30).raise_for_status()
    embedded = embedded_config(page.text)
    served = httpx.get(f"{app.url}config", trust_env=False, timeout=30).raise_for_status().json()
    assert len(embedded["components"]) == len(served["components"]) > 100
    assert not [c["id"] for c in embedded["components"] if any(k in c for k in SCHEMAS)]
    # gradio_client learns from /config which values are files: that stays whole.
    files = [c for c in served["components"] if c["type"] in ("image", "video", "gallery")]
    assert files and all("api_info" in c for c in files)
    assert len(json.dumps(embedded)) < 0.8 * len(json.dumps(served))


def test_the_page_and_its_descriptions_go_out_compressed(app: RunningApp) -> None:
    with httpx.Client(base_url=app.url, trust_env=False, timeout=30) as http:
        for path, encoding in (("", "br"), ("config", "br"), ("gradio_api/info", "gzip")):
            answer = http.get(path, headers={"accept-encoding": encoding})
            answer.raise_for_status()
            assert answer.headers.get("content-encoding") == encoding, path
            whole = http.get(path, headers={"accept-encoding": "identity"}).content
            assert len(whole) > 5 * int(answer.headers["content-length"]), path
            assert answer.content == whole, path  # what httpx decoded is the page itself
