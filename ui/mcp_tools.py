"""Tools for agents: with `--mcp` (or PIKA_MCP=1) Gradio's MCP server offers one tool per
mode, and only those.

Each tool is a `gr.api` endpoint whose signature and docstring are written from the
catalog, so Gradio derives the tool's parameters, JSON types, choices (Literal -> enum)
and descriptions from the same data as the forms. A call goes through the job manager as
a page's Generate does: the same checks, per-person and server-wide limits and budgets,
history and ownership. The caller is known by the cookie the server gave its MCP client
(as any API client is), and gets back the video's URL, the seed and fal's request id.

The tools are not queued: Gradio's MCP server then calls them in-process with the MCP
request itself (its client address and cookie), instead of through a loopback client
that would make every agent one and the same person.
"""

from __future__ import annotations

import inspect
import json
import logging
import socket
import uuid
from pathlib import Path
from typing import Any, Literal

import gradio as gr
import httpx
import safehttpx
from gradio.route_utils import API_PREFIX, get_root_url
from gradio.utils import get_upload_folder

from playground import catalog
from playground.errors import InputError, LimitReached
from playground.people import client_address, person, trusted_networks
from playground.service import Playground
from ui.identity import who
from ui.videos import video_src

log = logging.getLogger(__name__)
MB = 1024 * 1024


def tool_name(mode: str) -> str:
    return mode.replace("-", "_")


def _required(mode: str, name: str) -> bool:
    return all(name in e.required for e in catalog.versions(mode))


def _annotation(mode: str, name: str) -> Any:
    props = [e.properties[name] for e in catalog.versions(mode) if name in e.properties]
    prop = props[0]
    kind = prop.get("x-media") or prop.get("items", {}).get("x-media")
    options = list(dict.fromkeys(str(o) for p in props for o in p.get("enum", [])))
    if name == "transitions":
        hint: Any = list[dict[str, Any]]
    elif kind and prop.get("type") == "array":
        hint = list[str]
    elif options:
        hint = Literal[tuple(options)]  # type: ignore[valid-type]
    elif any(p.get("type") == "integer" for p in props):
        hint = int
    else:
        hint = str
    return hint if _required(mode, name) else hint | None


def describe(mode: str, name: str, max_mb: dict[str, int]) -> str:
    """One line for an MCP client: what the field is, its choices or limits, which versions
    take it and their defaults, in the catalog's own words."""
    endpoints = catalog.versions(mode)
    having = [e for e in endpoints if name in e.properties]
    prop = having[0].properties[name]
    kind = prop.get("x-media") or prop.get("items", {}).get("x-media")
    parts = [prop.get("title", name) + "."]
    if name == "transitions":
        item = prop["items"]["properties"]
        parts.append(f"One per step between keyframes (keyframes - 1 of them), each "
                     f"{{\"duration\": {item['duration']['minimum']}-"
                     f"{item['duration']['maximum']} s, \"prompt\": optional text}}; "
                     f"{prop.get('x-max-total')} s in all at most.")
    elif kind:
        count = (f"{prop.get('minItems', 1)} to {prop.get('maxItems')} of them, each an"
                 if prop.get("type") == "array" else "An")
        parts.append(f"{count} https URL of a{'n' if kind == 'image' else ''} {kind} this "
                     f"server fetches (public addresses only, up to {max_mb[kind]} MB).")
    elif "enum" in prop:
        options = list(dict.fromkeys(str(o) for e in having
                                     for o in e.properties[name].get("enum", [])))
        parts.append("One of: " + ", ".join(options) + ".")
    elif prop.get("type") == "integer":
        parts.append(f"A whole number from {prop.get('minimum')} to {prop.get('maximum')}.")
    elif prop.get("maxLength"):
        parts.append(f"Text, up to {prop['maxLength']} characters.")
    if len(having) < len(endpoints):
        parts.append("Only for " + ", ".join(e.version for e in having) + ".")
    defaults = {e.version: e.properties[name]["default"] for e in having
                if "default" in e.properties[name]}
    if name == "seed":
        parts.append("Leave it out for a random one (the seed used is returned).")
    elif defaults and len(set(map(str, defaults.values()))) == 1:
        parts.append(f"Default: {next(iter(defaults.values()))!r}.")
    elif defaults:
        parts.append("Default: " + "; ".join(f"{v} {d!r}" for v, d in defaults.items()) + ".")
    if _required(mode, name):
        parts.append("Required.")
    return " ".join(parts)


def _docstring(mode: str, names: list[str], max_mb: dict[str, int]) -> str:
    endpoints = catalog.versions(mode)
    lines = [f"Pika {catalog.MODES[mode].lower()} on fal: runs one job and waits for its "
             "video (usually 30 s to a few minutes). Returns JSON: video_url (the MP4), "
             "seed, request_id (fal's), job_id and price_usd.",
             "",
             "Args:",
             "    version: Model version, one of " + ", ".join(e.version for e in endpoints)
             + f" ({', '.join(f'{e.version} is {e.id}' for e in endpoints)}). "
             + f"Default: {endpoints[0].version!r}."]
    lines += [f"    {name}: {describe(mode, name, max_mb)}" for name in names]
    return "\n".join(lines)


async def fetch_media(url: Any, field: str, kind: str, limit_mb: int) -> str:
    """A file an agent named by URL, saved into Gradio's upload folder (where the job
    manager takes inputs from), or an InputError naming the field. Only public addresses
    are fetched (no loopback, private or link-local ones: this server's neighbours are
    not the caller's to read), and no more than the kind's limit is read."""
    if not isinstance(url, str) or not url.lower().startswith("https://"):
        raise InputError(field, f"{field}: give an https URL of the {kind}.")
    host = httpx.URL(url).host
    try:
        address = await safehttpx.async_validate_url(host)
    except (ValueError, socket.gaierror, OSError):
        raise InputError(field, f"{field}: {host} is not a public address this server may "
                                "fetch from.") from None
    folder = Path(get_upload_folder()) / f"mcp-{uuid.uuid4().hex}"
    folder.mkdir(parents=True, exist_ok=True)
    name = Path(httpx.URL(url).path).name or kind
    dest = folder / "".join(c for c in name if c.isalnum() or c in "._-")[-100:]
    try:
        async with httpx.AsyncClient(transport=safehttpx.AsyncSecureTransport(address),
                                     timeout=httpx.Timeout(60.0, connect=15.0)) as client, \
                client.stream("GET", url) as response:
            if response.status_code != 200:
                raise InputError(field, f"{field}: the URL answered HTTP "
                                        f"{response.status_code}.")
            size = 0
            with dest.open("wb") as out:
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > limit_mb * MB:
                        raise InputError(field, f"{field}: the {kind} is over the "
                                                f"{limit_mb} MB limit.")
                    out.write(chunk)
    except httpx.HTTPError as exc:
        raise InputError(field, f"{field}: could not fetch it ({type(exc).__name__}).") \
            from None
    return str(dest)


def make_tool(app: Playground, mode: str) -> Any:
    """The tool function for `mode`, with the signature and docstring Gradio reads."""
    max_mb = {"image": app.settings.max_image_mb, "video": app.settings.max_video_mb}
    media = {n: (e.properties[n].get("x-media") or e.properties[n].get("items", {})
                 .get("x-media")) for e in catalog.versions(mode) for n in e.properties}
    trusted = trusted_networks(app.settings.trusted_proxies)
    versions = [e.version for e in catalog.versions(mode)]
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    # Required fields first (a Python signature wants them so), then the version, then the
    # rest, each left out meaning the chosen version's own default.
    fields = catalog.fields(mode)
    parameters = [inspect.Parameter(n, kind, annotation=_annotation(mode, n))
                  for n in fields if _required(mode, n)]
    parameters.append(inspect.Parameter("version", kind, default=versions[0],
                                        annotation=Literal[tuple(versions)]))  # type: ignore[valid-type]
    parameters += [inspect.Parameter(n, kind, default=None, annotation=_annotation(mode, n))
                   for n in fields if not _required(mode, n)]
    names = [p.name for p in parameters]

    async def handler(request: gr.Request, *args: Any) -> str:
        # Gradio passes the declared parameters in order; the request goes by its type.
        values = dict(zip(names, args, strict=True))
        version = values.pop("version") or versions[0]
        try:
            for name, value in values.items():
                kind = media.get(name)
                if kind and value is not None:
                    urls = value if isinstance(value, list) else [value]
                    paths = [await fetch_media(u, name, kind, max_mb[kind]) for u in urls]
                    values[name] = paths if isinstance(value, list) else paths[0]
            identity = who(app, request, None, None)
            client = getattr(request, "client", None)
            address = client_address(getattr(client, "host", None),
                                     request.headers.get("x-forwarded-for"), trusted)
            job = await app.jobs.start(mode, version, values, logged_in=identity.logged_in,
                                       person=person(identity, address), owner=identity)
        except InputError as exc:
            log.info("refused tool input: %s", exc.field)  # a caller's mistake: no traceback
            message = exc.message if exc.message.startswith(exc.field) else \
                f"{exc.field}: {exc.message}"
            raise gr.Error(message, title="Check the arguments", print_exception=False) \
                from None
        except LimitReached as exc:
            raise gr.Error(str(exc), title="Refused", print_exception=False) from None
        async for _event in app.jobs.follow(job.record.id):
            pass  # the job's own last event ends the loop
        record = app.history.get(job.record.id) or job.record
        if record.status != "done":
            raise gr.Error(record.error or f"The job ended {record.status}.",
                           title="The job failed", print_exception=False)
        return json.dumps({"video_url": record.video_url or _own_url(request, record.id),
                           "seed": record.seed, "request_id": record.request_id,
                           "job_id": record.id, "price_usd": record.price})

    request_parameter = inspect.Parameter("request", kind, annotation=gr.Request)
    handler.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [request_parameter, *parameters], return_annotation=str)
    handler.__annotations__ = ({"request": gr.Request}
                               | {p.name: p.annotation for p in parameters} | {"return": str})
    handler.__name__ = handler.__qualname__ = tool_name(mode)
    handler.__doc__ = _docstring(mode, [n for n in names if n != "version"], max_mb)
    return handler


def _own_url(request: Any, job_id: str) -> str:
    """The app's own address of a local preview: served to this client's cookie only.
    Called in-process by Gradio's MCP server, a tool gets the MCP request itself (Starlette's,
    not wrapped in a gr.Request as an event's is)."""
    raw = getattr(request, "request", None) or request
    path = raw.url.path
    root = get_root_url(raw, path[path.find(API_PREFIX):] if API_PREFIX in path else "/", None)
    return f"{root}/{video_src(job_id)}"


def add_tools(app: Playground, demo: gr.Blocks) -> None:
    """Inside the Blocks: one API endpoint per mode, and, once Gradio's MCP server exists,
    the MCP tools limited to them (the page's own endpoints stay API, not tools)."""
    endpoints = []
    for mode in catalog.MODES:
        name = f"mcp_{tool_name(mode)}"
        gr.api(make_tool(app, mode), api_name=name, queue=False)
        endpoints.append(f"/{name}")

    async def only_our_tools() -> None:
        server = getattr(demo, "mcp_server_obj", None)
        if server is not None:
            server.tool_to_endpoint = {tool: endpoint for tool, endpoint
                                       in server.tool_to_endpoint.items()
                                       if endpoint in endpoints}

    demo.extra_startup_events.append(only_our_tools)
