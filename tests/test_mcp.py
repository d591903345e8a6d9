"""Tools for agents (issue 14): `pika-playground --mcp` serves Gradio's MCP server with one
tool per mode, written from the catalog; a tool call runs a job against the fake fal cloud
through the job manager, so the checks, limits and budgets hold as for the page. Driven
with the `mcp` Python client over streamable HTTP, as an agent connects.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from playground import catalog
from playground.requests import build_request
from playground.settings import Settings
from tests.apprunner import RunningApp, running_app
from tests.fakefal import FakeFal
from tests.records import recorded

BUDGET = 0.30  # a person's day on the server's key: one $0.20 job, not two


@pytest.fixture(scope="module")
def mcp_app(fakefal_server: FakeFal, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[RunningApp]:
    env = {**fakefal_server.env, "PIKA_BUDGET_PER_PERSON_DAY": str(BUDGET)}
    fakefal_server.reset()  # fal as it is by default: the app reads its schemas at start
    with running_app(env, tmp_path_factory.mktemp("mcp"), extra_args=("--mcp",)) as app:
        yield app


def session_calls(app: RunningApp, *calls: tuple[str, dict[str, Any]]
                  ) -> tuple[list[Any], list[Any]]:
    """One agent's session: its tools, then each call's result, in order."""
    async def run() -> tuple[list[Any], list[Any]]:
        # An agent's HTTP client keeps the cookie the server gives it: that is who it is.
        async with httpx.AsyncClient(timeout=httpx.Timeout(120.0)) as http, \
                streamable_http_client(f"{app.url}gradio_api/mcp/", http_client=http) as (
                    read, write, _), \
                ClientSession(read, write) as session:
            await session.initialize()
            tools = (await session.list_tools()).tools
            results = [await session.call_tool(name, arguments) for name, arguments in calls]
            return tools, results

    return asyncio.run(run())


def test_pika_mcp_turns_it_on() -> None:
    assert Settings.from_env({"PIKA_MCP": "1"}).mcp
    assert not Settings.from_env({}).mcp


def test_one_tool_per_mode_with_the_catalogs_fields(mcp_app: RunningApp) -> None:
    tools, _ = session_calls(mcp_app)
    by_name = {t.name: t for t in tools}
    assert sorted(by_name) == sorted(m.replace("-", "_") for m in catalog.MODES)
    for mode in catalog.MODES:
        schema = by_name[mode.replace("-", "_")].inputSchema
        endpoints = catalog.versions(mode)
        fields = {n for e in endpoints for n in e.properties}
        assert set(schema["properties"]) == fields | {"version"}
        versions = [e.version for e in endpoints]
        assert schema["properties"]["version"].get("enum", [schema["properties"]["version"]
                                                             .get("const")]) == versions
        required = {n for n in fields if all(n in e.required for e in endpoints)}
        assert set(schema.get("required", [])) == required
        for name in fields:
            title = next(e.properties[name]["title"] for e in endpoints if name in e.properties)
            assert schema["properties"][name]["description"].startswith(title), name
    t2v = by_name["text_to_video"].inputSchema["properties"]
    assert {"enum": ["480p", "720p", "1080p"]} in t2v["resolution"]["oneOf"]
    assert {"type": "integer"} in t2v["seed"]["oneOf"]
    assert "Only for v2.2, v2.1, v2 Turbo" in t2v["aspect_ratio"]["description"]
    assert "video_url" in by_name["text_to_video"].description


def test_text_to_video_runs_a_job_and_the_budget_holds(mcp_app: RunningApp,
                                                       fakefal: FakeFal) -> None:
    arguments = {"prompt": "a fox in the snow", "version": "v2.2", "duration": "5",
                 "seed": 31337}
    _, (first, second, bad) = session_calls(
        mcp_app, ("text_to_video", arguments),
        ("text_to_video", {**arguments, "prompt": "one too many"}),
        ("text_to_video", {"prompt": "a seed out of range", "seed": -1}))
    assert not first.isError, first.content
    result = json.loads(first.content[0].text)
    [sent] = fakefal.find("submit", status=200)
    form = {k: v for k, v in arguments.items() if k != "version"}
    expected = build_request(catalog.lookup("text-to-video", "v2.2"), form).arguments
    assert sent.body == expected  # what the page would send for the same form
    [job] = fakefal.jobs.values()
    assert result["video_url"] == f"https://v3.fal.media/files/{job.id}/output.mp4"
    assert result["seed"] == 31337 and result["request_id"] == job.id
    tls = ssl.create_default_context(cafile=str(fakefal.ca_file))
    with httpx.Client(proxy=fakefal.env["HTTPS_PROXY"], verify=tls) as client:
        assert client.get(result["video_url"]).content[4:8] == b"ftyp"
    record = next(r for r in recorded(mcp_app.data_dir) if r.id == result["job_id"])
    assert record.owner and record.price == 0.20 and record.status == "done"

    # The second $0.20 would pass the $0.30 budget: refused with the numbers, nothing sent.
    assert second.isError and "$" in second.content[0].text
    assert "budget" in second.content[0].text.lower() or "left" in second.content[0].text
    # A bad argument is named, and costs nothing either.
    assert bad.isError and "Seed" in bad.content[0].text
    assert fakefal.count("submit") == 1


def test_a_media_url_on_this_servers_network_is_refused(mcp_app: RunningApp,
                                                        fakefal: FakeFal) -> None:
    _, (result,) = session_calls(mcp_app, ("image_to_video", {
        "image_url": f"{mcp_app.url}gradio_api/info", "prompt": "waves"}))
    assert result.isError and "image_url" in result.content[0].text
    _, (result,) = session_calls(mcp_app, ("image_to_video", {
        "image_url": "https://127.0.0.1:1/cat.jpg", "prompt": "waves"}))
    assert result.isError and "not a public address" in result.content[0].text
    assert fakefal.count() == 0


def test_pika_mcp_on_the_offline_demo_gives_this_servers_url_to_the_caller_only(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    async def call(url: str) -> tuple[dict[str, Any], int, int]:
        async with httpx.AsyncClient(timeout=httpx.Timeout(120.0)) as http, \
                streamable_http_client(f"{url}gradio_api/mcp/", http_client=http) as (
                    read, write, _), \
                ClientSession(read, write) as session:
            await session.initialize()
            result = await session.call_tool("text_to_video", {"prompt": "an offline fox"})
            assert not result.isError, result.content
            found = json.loads(result.content[0].text)
            mine = await http.get(found["video_url"])  # with the cookie the server gave
            async with httpx.AsyncClient() as stranger:
                theirs = await stranger.get(found["video_url"])
            assert mine.content[4:8] == b"ftyp"
            return found, mine.status_code, theirs.status_code

    # No key, and PIKA_MCP=1 rather than --mcp.
    with running_app({"PIKA_MCP": "1"}, tmp_path_factory.mktemp("mcp-offline")) as app:
        found, mine, theirs = asyncio.run(call(app.url))
    assert found["video_url"] == f"{app.url}gradio_api/file=videos/{found['job_id']}.mp4"
    assert found["request_id"].startswith("local-") and isinstance(found["seed"], int)
    assert (mine, theirs) == (200, 404)
