"""What a page costs: the bytes of the app's config in its HTML, and the server's work for
each new session. All but `on_first_open` and `inspected_once` lean on Gradio internals,
checked on each Gradio upgrade (see the README's "How it works").

- Gradio embeds its whole config in the page, each component with three JSON schemas of
  its value (`api_info`, `api_info_as_input`, `api_info_as_output`), its class id, the
  API's examples; each event with every option, set or not. The page never reads the
  schemas (the API page fetches `/gradio_api/info` on its own), nor the class id of a
  built-in component (it finds it by type), nor an option left unset, which its JS reads
  as set-or-not (checked in the built JS under gradio/templates/frontend: `cancel(e)`
  tests `e`, `show_progress_on||null`, `trigger_after!==void 0`, the API page's
  `api_visibility==="public"`...). gradio_client reads them all, from `/config`. So they
  leave the HTML only.
- Gradio compresses what it serves by the name's extension (.js, .json, ...): the page
  itself (`/`, 320 KB) and `/config` have none, so they went out whole.
- Around every event Gradio tries `import matplotlib` twice; where it is not installed,
  each try searches every folder on sys.path again.
- A new session's first event makes Gradio build the config of every block once more
  (`SessionState.config_values`), kept for deep links, which this app does not offer:
  25 ms of CPU per visitor, and more for each event's inputs and outputs. Not here.
- Gradio's queue looks for work every 1 ms and for gr.Progress updates every 10 ms
  (`Queue.sleep_when_free`, `progress_update_sleep_when_free`), idle or not: 60-70 ms of
  CPU a second on a server nobody uses, charged in the benchmark to each new session.
- Before every call Gradio reads the handler's signature and evaluates its type hints,
  strings under `from __future__ import annotations`: `inspected_once` does it once.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import sys
import typing
from collections.abc import Callable, Sequence
from typing import Any

import gradio as gr
from gradio import routes, state_holder
from gradio.brotli_middleware import BrotliMiddleware
from starlette.middleware import Middleware
from starlette.types import Scope

_SCHEMAS = ("api_info", "api_info_as_input", "api_info_as_output")
# Keys of a component's config that Gradio's page (its built JS under
# gradio/templates/frontend) never reads: the API's schemas and examples, the class id it
# needs only for custom components (it finds a built-in one by its type), what a re-render
# keeps, the upload's delete hook.
_UNREAD_COMPONENT_KEYS = frozenset({*_SCHEMAS, "component_class_id", "example_inputs",
                                    "skip_api"})
_UNREAD_PROPS = frozenset({"preserved_by_key", "delete_callback"})
# An event's keys the page reads only as "set or not" (or never), each with the value
# Gradio writes when it is not: left out, the page reads the same. What the page compares
# with a value of its own (trigger_mode, connection, show_progress, queue, api_name...),
# and `types`, which its client indexes, stay whole.
_DEFAULT_DEPENDENCY_KEYS: dict[str, Any] = {
    "api_description": None, "scroll_to_output": False, "show_progress_on": None,
    "batch": False, "cancels": [], "trigger_after": None, "trigger_only_on_success": False,
    "trigger_only_on_failure": False, "api_visibility": "private", "rendered_in": None,
    "render_id": None, "time_limit": None, "event_specific_args": None,
    "component_prop_inputs": [], "js_implementation": None, "js": None,
    "backend_fn": False}
_UNREAD_DEPENDENCY_KEYS = frozenset({"max_batch_size", "collects_event_data",
                                     "stream_every"})


def _page_component(component: dict[str, Any]) -> dict[str, Any]:
    light = {k: v for k, v in component.items() if k not in _UNREAD_COMPONENT_KEYS}
    props = light.get("props")
    if isinstance(props, dict):
        # `visible` left out is read as True.
        light["props"] = {k: v for k, v in props.items() if k not in _UNREAD_PROPS
                          and not (k == "visible" and v is True)}
    return light


def _page_dependency(dependency: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in dependency.items() if k not in _UNREAD_DEPENDENCY_KEYS
            and not (k in _DEFAULT_DEPENDENCY_KEYS and v == _DEFAULT_DEPENDENCY_KEYS[k]
                     and type(v) is type(_DEFAULT_DEPENDENCY_KEYS[k]))}


# The elem_id of the hidden column holding the API's forms (ui/app.py): gradio_client
# needs their components in `/config`; no page shows them or starts their events.
API_FORMS = "api-forms"


def _without(node: dict[str, Any], drop: int, dropped: set[int]) -> dict[str, Any]:
    """A layout node without the subtree rooted at `drop`, whose ids go into `dropped`."""
    def ids(n: dict[str, Any]) -> None:
        dropped.add(n["id"])
        for child in n.get("children", []):
            ids(child)

    if "children" not in node:
        return node
    kept = []
    for child in node["children"]:
        if child["id"] == drop:
            ids(child)
        else:
            kept.append(_without(child, drop, dropped))
    return {**node, "children": kept}


def page_config(config: dict[str, Any]) -> dict[str, Any]:
    """The app's config as the page gets it in its HTML: what the page reads, nothing
    more. `/config` stays whole, for gradio_client."""
    forms = next((c["id"] for c in config["components"]
                  if c.get("props", {}).get("elem_id") == API_FORMS), None)
    dropped: set[int] = set()
    if forms is not None:
        config = {**config, "layout": _without(config["layout"], forms, dropped),
                  "page": {name: {**page, "layout": _without(page["layout"], forms, dropped)}
                           for name, page in config["page"].items()}}
    return {**config,
            "components": [_page_component(c) for c in config["components"]
                           if c["id"] not in dropped],
            "dependencies": [_page_dependency(d) for d in config["dependencies"]
                             if not any(t[0] in dropped for t in d["targets"])]}


def lighter_pages() -> None:
    """The config in a page's HTML without what no page reads. Idempotent."""
    filters = routes.templates.env.filters
    original = filters["toorjson"]
    if getattr(original, "lighter", False):
        return

    def toorjson(value: Any) -> Any:
        if isinstance(value, dict) and "components" in value and "dependencies" in value:
            value = page_config(value)
        return original(value)

    toorjson.lighter = True  # type: ignore[attr-defined]
    filters["toorjson"] = toorjson


class _NoDeepLinkState(state_holder.SessionState):
    """Gradio's session state without the per-block config copies kept for deep links,
    which this app does not offer (no gr.DeepLinkButton): Gradio built them all for a new
    session, then one for each input and output of every event."""

    def __init__(self, blocks: Any) -> None:
        super().__init__(_NoBlocks(blocks))  # every other field as Gradio sets it

    def _update_config(self, key: int) -> None:
        pass

    def _update_value_in_config(self, key: int, value: Any) -> None:
        pass


class _NoBlocks:
    """Stands in for the Blocks in Gradio's SessionState.__init__: the same default config,
    and no blocks to copy the config of there and then."""

    def __init__(self, blocks: Any) -> None:
        self.default_config = blocks.default_config
        self.blocks: dict[int, Any] = {}


def lazy_sessions() -> None:
    """Sessions keep no per-block config copies. Idempotent."""
    state_holder.SessionState = _NoDeepLinkState  # type: ignore[misc]


def no_matplotlib_search() -> None:
    """Where matplotlib is not installed, `import matplotlib` fails at once (a None in
    sys.modules is a remembered "no such module") instead of searching the disk."""
    if "matplotlib" not in sys.modules and importlib.util.find_spec("matplotlib") is None:
        sys.modules["matplotlib"] = None  # type: ignore[assignment]


# How often Gradio's queue looks for an event to start while it has none (or no free
# worker): every 1 ms as it comes, 50-65 ms of CPU each second on an idle server, which a
# new session's first event paid most of. An event now waits at most this much to start.
QUEUE_POLL_S = 0.01
# How often it looks for gr.Progress updates to send (every 10 ms as it comes): this app
# has none, its jobs' progress is their own events.
PROGRESS_POLL_S = 0.5


def quiet_queue(demo: gr.Blocks) -> None:
    """After `demo.queue(...)`, which makes the queue: it polls less often."""
    queue = demo._queue
    queue.sleep_when_free = max(queue.sleep_when_free, QUEUE_POLL_S)
    queue.progress_update_sleep_when_free = max(queue.progress_update_sleep_when_free,
                                                PROGRESS_POLL_S)


def inspected_once(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` as Gradio inspects it before every call, its signature and type hints worked
    out once: under `from __future__ import annotations` each hint is a string that
    `typing.get_type_hints` evaluates anew each time (a fifth of a page's arrival)."""
    hints = typing.get_type_hints(fn)

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    call.__signature__ = inspect.signature(fn)  # type: ignore[attr-defined]
    call.__annotations__ = hints
    return call


# The page and the API descriptions: all JSON and HTML, read by every visitor and client.
_PAGES = frozenset({"/", "/config", "/gradio_api/info"})


class _CompressedPages(BrotliMiddleware):
    """Gradio's own compression (brotli, else gzip), for the pages its rule leaves out."""

    def _is_compressible_file_type(self, scope: Scope) -> bool:
        return scope.get("method") in ("GET", "HEAD") and scope.get("path") in _PAGES


def compressed_pages() -> Middleware:
    """For `launch(app_kwargs={"middleware": [...]})`, with Gradio's own settings."""
    return Middleware(_CompressedPages, quality=4, gzip_fallback=True)


def on_first_open(block: gr.Accordion | gr.Tab, inputs: Sequence[Any] = ()
                  ) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Decorates what builds the contents of a folded accordion or a tab the page does not
    open on (components and their events), to be called inside it: they are built for a
    page when it first opens the accordion or selects the tab, not in every page's config.
    The builder gets the values of `inputs` then (no request: what depends on the person
    is an event's work). Built once per page; each page's copy is its own, so the builder
    keeps its components in locals. An event that selects the tab builds it too (Gradio's
    page fires the tab's select), with `inputs` as that event left them."""
    opened = gr.State(False)
    shown = block.expand if isinstance(block, gr.Accordion) else block.select
    # Queued: a State's change reaches the page only from a queued event.
    shown(lambda: True, None, opened, api_visibility="private", show_progress="hidden")

    def decorate(build: Callable[..., None]) -> Callable[..., None]:
        # A State's change fires only when its value changes: the first opening.
        return gr.render(inputs=list(inputs), triggers=[opened.change], queue=False,
                         show_progress="hidden")(build)

    return decorate
