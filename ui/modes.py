"""A tab per mode: a version choice, the widgets its endpoints need, a run, a stop.

A tab is mostly layout; its fields come from the catalog, so a new model
version is a catalog entry. Keyframes add per-transition rows and reordering.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.processing_utils import move_files_to_cache, save_file_to_cache
from gradio.utils import get_upload_folder
from pydantic import BaseModel

from playground import catalog
from playground.errors import InputError, LimitReached, OverBudget, StorageFull
from playground.events import Event
from playground.history import UNFINISHED, JobRecord
from playground.identity import Identity
from playground.people import Person, client_address, person, trusted_networks
from playground.requests import accepts
from playground.service import Playground
from ui.code_view import TabCode
from ui.identity import who
from ui.keys import key_for
from ui.lenient import lenient
from ui.refusals import PROBLEM, quiet_error, refusal_line
from ui.render import View
from ui.text import plain, text_view
from ui.variations import Variations
from ui.videos import Video
from ui.weight import on_first_open
from ui.widgets import update_for, widget_for

log = logging.getLogger(__name__)
MAX_TRANSITIONS = 4
# Form order, whatever order the catalog lists fields in: as a person thinks of the job.
# What is worked on first (the video, and the part of it to swap, before what goes in it),
# then words, then knobs.
FIELD_ORDER = ["video_url", "modify_region", "image_url", "image_urls", "pikaffect", "prompt",
               "negative_prompt", "ingredients_mode", "aspect_ratio", "resolution", "duration",
               "seed"]
_MEDIA = ("image_url", "image_urls", "video_url")
PRESETS = Path(__file__).resolve().parent.parent / "presets"


async def batched(events: AsyncIterator[Event]) -> AsyncIterator[list[Event]]:
    """The job's events in batches: all that are waiting when the page is ready for more,
    one page update each, so a busy server sends fewer, fuller updates. Nothing is sent
    while nothing happens: the page counts the elapsed time itself (ui/clock.js)."""
    queue: asyncio.Queue[Event | None] = asyncio.Queue()

    async def pump() -> None:
        try:
            async for event in events:
                await queue.put(event)
        finally:
            await queue.put(None)

    task = asyncio.create_task(pump())
    try:
        while True:
            batch = [await queue.get()]
            while not queue.empty():
                batch.append(queue.get_nowait())
            if None in batch:
                yield [e for e in batch if e is not None]
                return
            yield batch  # type: ignore[misc]
    finally:
        # The page went away: let go of the job, never of the job's task.
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def refused(title: str, message: str, problems: dict[str, str]) -> tuple[Any, ...]:
    """A run's outputs when it is refused before it starts: the reason in the status line
    (one message, where the person looks, replaced by the next run), the fields marked."""
    return (gr.skip(), refusal_line(title, message), gr.skip(), gr.skip(), gr.skip(), problems,
            gr.skip())


def _paths(gallery: Any) -> list[str]:
    items = gallery or []
    return [item[0] if isinstance(item, list | tuple) else item for item in items]


def _as_upload(path: str) -> str | None:
    """A stored input as if just uploaded: the page sends it back, and only uploads are
    taken as inputs (the store itself never is). None once its files were removed."""
    try:
        return save_file_to_cache(path, get_upload_folder())
    except FileNotFoundError:
        return None


def _shipped(path: Path) -> str:
    """A preset file as the page names it: relative to the working directory where it can
    be (the app's own folder, as on Spaces and in Docker), so the page's config holds no
    path of this machine. Presets are static files (ui/app.py): served, never copied."""
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def _start_with(component: gr.components.Component, update: dict[str, Any]) -> None:
    """`component`, being built, made to start as `update` would leave it: its value
    processed as Gradio's constructor processes one (a file is served from the cache)."""
    if "visible" in update:
        component.visible = update["visible"]
    if "value" in update:
        value = component.postprocess(update["value"])
        if isinstance(value, BaseModel):
            value = value.model_dump()
        component.value = move_files_to_cache(value, component, postprocess=True,
                                              keep_in_cache=True)


def _api_name(mode: str) -> str:
    return mode.replace("-", "_")


class ModeTab:
    def __init__(self, app: Playground, mode: str, key_state: gr.State,
                 visitor: gr.BrowserState) -> None:
        self.app = app
        self.mode = mode
        self.endpoints = catalog.versions(mode)
        self.key_state = key_state
        self.visitor = visitor
        names = [n for n in catalog.fields(mode) if n != "transitions"]  # rows of their own
        self.names = sorted(names, key=lambda n: FIELD_ORDER.index(n) if n in FIELD_ORDER
                            else len(FIELD_ORDER))
        self.keyframes = any("transitions" in e.properties for e in self.endpoints)
        self._price_names = tuple(n for n in ("resolution", "duration") if n in names)
        # Every version's options pass a widget, so the request builder (not Gradio) answers
        # a value this version lacks, naming the field.
        self._choices = {
            name: options for name in self.names
            if (options := list(dict.fromkeys(str(o) for e in self.endpoints
                                              for o in e.properties.get(name, {})
                                              .get("enum", []))))}
        self._trusted = trusted_networks(app.settings.trusted_proxies)

    # -- layout ------------------------------------------------------------------

    def build(self, lazy: bool) -> None:
        """The mode's tab among the Tabs. A lazy tab's form is built for a page when the
        page first opens it, or when a Remix or a reload's running job opens it
        (`pending`): a page carries only the forms it shows."""
        with gr.Tab(catalog.MODES[self.mode], id=self.mode) as tab:
            # States inside the Tab: one made between Tabs breaks Gradio's tab bar (labels
            # repeat after the first click, and later tabs can no longer be reached).
            # What to put in the form (updates from `fill`) and the job to follow then.
            self.pending = gr.State(None)
            if lazy:
                # Built once, by the tab's select only: a second trigger would build it
                # again, and drop the events of the first build while the page calls them.
                on_first_open(tab, [self.pending])(self._fresh_contents)
            else:
                self._contents(None)

    def _fresh_contents(self, pending: Any) -> None:
        # A copy per page: pages open the tab at once, each its own components.
        copy = ModeTab(self.app, self.mode, self.key_state, self.visitor)
        copy.pending = self.pending
        copy._contents(pending)

    def _contents(self, pending: Any) -> None:
        first = self.endpoints[0]
        self.job_id = gr.State((pending or {}).get("follow"))
        self.problems = gr.State({})  # field name -> what is wrong, on that widget
        with gr.Row(equal_height=False):
            with gr.Column(scale=5, elem_classes=["mode-form"]):
                self._form(first, ui=True)
                # Sticks to the window's foot while the form scrolls (ui/app.py CSS):
                # the price and Generate stay in reach however long the form.
                with gr.Column(elem_classes=["run-bar"]):
                    self.price = gr.Markdown(self._price(first.version),
                                             elem_id=f"{self.mode}-price")
                    with gr.Row():
                        self._buttons()
                self.code = TabCode(self)
                self.code.build()
            # Sticks to the window's top: the job stays in view while the form scrolls.
            with gr.Column(scale=5, elem_classes=["mode-result"]):
                self._results()
        self.variations = Variations(self)
        self.variations.build()
        self._examples()
        self._wire()
        self._wire_pending(pending)

    def build_api(self) -> None:
        """The mode's API endpoints (`/text_to_video`, `/stop_text_to_video`): the tab's own
        run and stop, on widgets of the same types, which no page carries (ui/weight.py):
        a page's tabs are built as it opens them, and the API's must be there for
        gradio_client from the start."""
        first = self.endpoints[0]
        self.job_id = gr.State(None)
        self.problems = gr.State({})
        self._form(first, ui=False)
        self._buttons()
        self._results()
        self._wire(api=True)

    def _form(self, first: catalog.Endpoint, ui: bool) -> None:
        """The version, then each field's widget; the keyframes' controls and rows."""
        # Labels mark what fal lists as new or deprecated; values stay versions.
        self.version = lenient(gr.Radio([(catalog.version_label(e), e.version)
                                         for e in self.endpoints],
                                        value=first.version, label="Model version",
                                        visible=len(self.endpoints) > 1,
                                        elem_id=f"{self.mode}-version" if ui else None))
        if ui:
            self.about = gr.Markdown(self._about(first), elem_id=f"{self.mode}-about")
        self.widgets = {}
        for name in self.names:
            self.widgets[name] = self._widget(name, first, ui)
            if ui and name == "image_urls" and self.keyframes:
                # The order is the film's: its controls sit right under it.
                with gr.Row():
                    self._moves = (gr.Button("◀ Move earlier", size="sm"),
                                   gr.Button("Move later ▶", size="sm"),
                                   gr.Button("Remove", size="sm"))
        self.transitions: list[tuple[gr.Textbox, gr.Number]] = []
        if self.keyframes:
            self._build_keyframes(ui)
        self._labels = {n: w.label for n, w in self.widgets.items()}
        self._judged = [n for n in self.names if n not in _MEDIA]
        if ui:
            # Said: Gradio takes an event's inputs as interactive at launch, not in a render.
            for widget in self._inputs():
                widget.interactive = True

    def _buttons(self) -> None:
        self.run_button = gr.Button("Generate", variant="primary", elem_id=f"{self.mode}-run")
        self.stop_button = gr.Button("Stop", variant="stop", interactive=False,
                                     elem_id=f"{self.mode}-stop")

    def _results(self) -> None:
        # Labels name the API's outputs (a page shows none for HTML).
        self.status = text_view("Ready.", label="Status", elem_classes=["job-status"],
                                elem_id=f"{self.mode}-status")
        self.video = gr.Video(label="Result", interactive=False, autoplay=True,
                              buttons=["download"], elem_id=f"{self.mode}-result")
        # What Stop answered: apart from the status, which the job's own events keep
        # rewriting while it runs on.
        self.note = text_view("", label="Stop", elem_id=f"{self.mode}-note")
        self.info = text_view("", label="Details", elem_id=f"{self.mode}-info")
        self.logs = gr.Textbox(label="Model logs", lines=4, max_lines=10, interactive=False,
                               autoscroll=True)

    def _widget(self, name: str, endpoint: catalog.Endpoint, ui: bool
                ) -> gr.components.Component:
        props = [e.properties[name] for e in self.endpoints if name in e.properties]
        prop = dict(props[0])
        if name in self._choices:
            # An integer field that shares the widget (v2.1's duration) picks from the same
            # options; where fal has no default (an effect), nothing is picked for them.
            prop["enum"] = self._choices[name]
            if "default" in prop:
                prop["default"] = str(prop["default"])
        widget = widget_for(name, prop, shown=name in endpoint.properties)
        if ui:
            widget.elem_id = f"{self.mode}-{name}"  # stable hooks for browser tests
        return widget

    def _build_keyframes(self, ui: bool) -> None:
        if ui:
            gr.Markdown("Transitions: a prompt and a length for each step between keyframes "
                        "(a blank prompt uses the main prompt).")
        for i in range(MAX_TRANSITIONS):
            with gr.Row(visible=i == 0) as row:
                prompt = gr.Textbox("", label=f"Transition {i + 1} → {i + 2}", scale=4,
                                    placeholder="blank = the main prompt",
                                    elem_id=f"keyframes-t{i + 1}-prompt" if ui else None)
                seconds = lenient(gr.Number(value=5, label="Seconds", precision=0, scale=1,
                                            elem_id=f"keyframes-t{i + 1}-seconds" if ui
                                            else None))
            self.transitions.append((prompt, seconds))
            prompt.row = row  # type: ignore[attr-defined]
        if not ui:
            return
        self.total = gr.Markdown(self._total(2, [5] * MAX_TRANSITIONS),
                                 elem_id="keyframes-total")
        gallery = self.widgets["image_urls"]
        self.selected = gr.State(None)
        earlier, later, remove = self._moves

        def select(evt: gr.SelectData) -> int:
            return evt.index

        def move(images: Any, index: int | None, step: int) -> tuple[Any, int | None]:
            paths = _paths(images)
            if index is None or not 0 <= index < len(paths):
                raise gr.Error("Click a keyframe first, then move or remove it.")
            if step == 0:
                paths.pop(index)
                return paths, None
            target = min(max(index + step, 0), len(paths) - 1)
            paths.insert(target, paths.pop(index))
            # The page's highlight goes with the image, so the next move acts on what it shows.
            return gr.Gallery(paths, selected_index=target), target

        gallery.select(select, None, self.selected, api_visibility="private")
        most = max(e.properties["image_urls"].get("maxItems", MAX_TRANSITIONS + 1)
                   for e in self.endpoints if "image_urls" in e.properties)

        def at_most(images: Any) -> Any:
            paths = _paths(images)
            if len(paths) <= most:
                return gr.skip()
            gr.Warning(f"Keyframes take 2 to {most} images: {len(paths) - most} left out. "
                       "Remove one to add another.", title="Too many keyframes")
            return paths[:most]

        # Queued: only a queued event can show a toast.
        gallery.upload(at_most, gallery, gallery, api_visibility="private")
        for button, step in ((earlier, -1), (later, 1), (remove, 0)):
            button.click(lambda images, index, step=step: move(images, index, step),
                         [gallery, self.selected], [gallery, self.selected],
                         api_visibility="private")
        seconds_boxes = [s for _, s in self.transitions]
        rows = [p.row for p, _ in self.transitions]  # type: ignore[attr-defined]

        def layout(images: Any, *seconds: float | None) -> list[Any]:
            count = max(len(_paths(images)), 2)
            shown = [gr.update(visible=i < count - 1) for i in range(MAX_TRANSITIONS)]
            return [*shown, self._total(count, list(seconds))]

        self._layout = (layout, [gallery, *seconds_boxes], [*rows, self.total])
        for trigger in (gallery.change, *(s.change for s in seconds_boxes)):
            trigger(*self._layout, api_visibility="private", queue=False)

    # -- text --------------------------------------------------------------------

    @staticmethod
    def _about(endpoint: catalog.Endpoint) -> str:
        text = f"`{endpoint.id}`"
        text = f"{text} · {endpoint.note}" if endpoint.note else text
        # Where this form was drawn from: fal's schema of that day, or the built-in entry.
        return f"{text} · form {catalog.origin(endpoint)}"

    @staticmethod
    def _total(count: int, seconds: list[float | None]) -> str:
        total = sum(int(s or 0) for s in seconds[: count - 1])
        mark = "over the limit: shorten a transition" if total > 25 else "within the limit"
        return f"Total length: **{total} s** of 25 s ({mark})"

    def _price(self, version: str, *values: Any) -> str:
        try:
            endpoint = catalog.lookup(self.mode, version)
        except KeyError:  # fal stopped listing it since this page was built
            return f"Price: {plain(version)} is no longer listed by fal."
        args = {"resolution": endpoint.properties.get("resolution", {}).get("default", "720p"),
                "duration": endpoint.properties.get("duration", {}).get("default", 5)}
        args |= {n: v for n, v in zip(self._price_names, values, strict=False) if v}
        if self.keyframes and values:
            count = max(len(_paths(values[-1])), 2)
            seconds = values[len(self._price_names):-1]
            args["transitions"] = [{"duration": int(s or 0)} for s in seconds[: count - 1]]
        price = catalog.job_price(endpoint, args)
        if price.estimated:  # short: the line sits by Generate (the README says the rule)
            text = (f"about ${price.usd:.2f}, estimated ([not published by fal]"
                    f"(https://fal.ai/models/{endpoint.id}))")
        else:
            text = catalog.estimate_price(endpoint, args)
        if not self.app.settings.server_key:  # what runs here, until a key is pasted
            return f"Price: **free local preview** · on fal {text}"
        return f"Price: {text}"

    # -- events ------------------------------------------------------------------

    def _inputs(self) -> list[gr.components.Component]:
        return [self.version, *self.widgets.values(), *(c for pair in self.transitions
                                                        for c in pair)]

    def _outputs(self) -> list[gr.components.Component]:
        return [self.job_id, self.status, self.logs, self.video, self.info, self.problems,
                self.stop_button]

    def _wire(self, api: bool = False) -> None:
        """Run and Stop; for a page's tab (not `api`), what follows from its widgets too.
        The API's endpoints are the API form's (`build_api`): a page's are private."""
        name = _api_name(self.mode)
        run_as: dict[str, Any] = {"api_name": name} if api else {"api_visibility": "private"}
        stop_as: dict[str, Any] = ({"api_name": f"stop_{name}"} if api
                                   else {"api_visibility": "private"})
        # run() yields values exactly as the page takes them. Gradio would otherwise hand
        # each output of each update to a worker thread to postprocess (four thread hops per
        # update, a fifth of the app's work per job in a crowd) and probe the finished video
        # with ffprobe where ffmpeg is installed; fal's results are MP4s we have opened.
        # No progress of Gradio's own: the status line says where the job is, and an
        # overlay would hide the video and logs it is waiting for.
        self.run_event = self.run_button.click(
            self._named(self.run), [*self._inputs(), self.key_state, self.visitor],
            self._outputs(), postprocess=False, show_progress="hidden", **run_as)
        # No `cancels=`: that would end the page's following, not the job, which the server
        # runs on (and fal charges for once it runs). The following ends with the job's own
        # last event, which a Stop that works (queued, or not yet sent) brings at once.
        self.stop_button.click(self.stop, [self.job_id, self.visitor], [self.note],
                               concurrency_limit=None, **stop_as)
        if api:
            return
        # After every run: the widgets fal or our checks complained about say so in their
        # label, and the others lose any earlier complaint. Both hooks, because Gradio 6's
        # page does not run `.then` after a queued event that raised.
        self._marked(self.run_event)
        # The last Stop's answer belongs to the last job: cleared in the page, at no cost.
        self.run_button.click(None, None, self.note, js="() => ''", queue=False)
        # The values go along (files excepted: kept as they are) so that what the person set
        # stays wherever the new version takes it.
        self.version.change(self.switch_version,
                            [self.version, *(self.widgets[n] for n in self._judged)],
                            [self.about, *self.widgets.values()], api_visibility="private",
                            queue=False)
        price_inputs = self._price_inputs()
        for widget in price_inputs:
            widget.change(self._price, price_inputs, self.price, api_visibility="private",
                          queue=False)

    def _marked(self, event: Any) -> None:
        for after in (event.success, event.failure):
            after(self.mark, [self.problems], [*self.widgets.values(), self.stop_button],
                  api_visibility="private", queue=False)

    def _price_inputs(self) -> list[gr.components.Component]:
        price_inputs = [self.version] + [self.widgets[n] for n in self._price_names]
        if self.keyframes:
            price_inputs += [s for _, s in self.transitions] + [self.widgets["image_urls"]]
        return price_inputs

    def _wire_pending(self, now: Any) -> None:
        """A Remix, a shared link's Remix or a reload's running job sets `pending`: its
        values go into the form, then its job (a reload's) is followed. A tab built for it
        (`now`) starts with its values, and its first tick does the rest: the change came
        before the tab."""
        into = [*self._inputs(), self.job_id]
        private: dict[str, Any] = {"api_visibility": "private", "queue": False}

        def then_follow(filled: Any) -> None:
            # What follows from the values, which their own change events may not bring.
            filled.success(self._about_of, [self.version], self.about, **private)
            filled.success(self._price, self._price_inputs(), self.price, **private)
            if self.keyframes:
                filled.success(*self._layout, **private)
            follow = filled.success(self.follow_pending, [self.pending], self._outputs(),
                                    api_visibility="private")
            self._marked(follow)

        then_follow(self.pending.change(self.put_back, [self.pending], into,
                                        api_visibility="private"))
        if now is not None:
            # In the tab's own config (and its job in `job_id`'s): no update to be lost
            # while the page draws the tab, none sent twice.
            for component, update in zip(self._inputs(), now["form"], strict=True):
                _start_with(component, update)
            once = gr.Timer(0.1)
            then_follow(once.tick(lambda: gr.Timer(active=False), None, once,
                                  trigger_mode="once", **private))

    def _about_of(self, version: str) -> str:
        return self._about(next((e for e in self.endpoints if e.version == version),
                                self.endpoints[0]))

    def put_back(self, pending: Any) -> list[Any]:
        if not pending:
            return [gr.skip()] * (len(self._inputs()) + 1)
        return [*pending["form"], pending.get("follow") or gr.skip()]

    def pending_form(self, record: JobRecord, follow: bool = False) -> dict[str, Any]:
        """A past job's settings (and, to `follow`, the job) as `pending` takes them."""
        # A new value each time: the same job remixed twice is put back twice.
        return {"form": self.fill(record.version, record.form), "n": time.time_ns(),
                "follow": record.id if follow else None}

    def wire_reattach(self, timer: gr.Timer, tabs: gr.Tabs, picked: gr.Checkbox) -> None:
        """After a reload, the person's running job comes back to this tab. The page's
        arrival starts `timer` only when one of their jobs of this mode runs
        (IdentityBar.greet): its one tick sets `pending` (and opens the tab, which builds
        it, unless the person has `picked` a tab). A page with nothing running sends
        nothing more."""
        # Queued: a State's change reaches the page only from a queued event.
        timer.tick(self.reattach, [self.visitor, picked], [tabs, timer, self.pending],
                   api_visibility="private", trigger_mode="once")

    def reattach(self, visitor: Any, picked: Any, request: gr.Request,
                 profile: gr.OAuthProfile | None) -> list[Any]:
        """After a reload: the person's newest running job of this mode goes back into this
        tab, form and all, to be followed there; the tab opens if that job is the newest of
        all they have running and the person has not picked a tab since the page loaded
        (another tab gets it when the person opens it). Outputs: the Tabs, the timer that
        ticked, `pending`."""
        identity = who(self.app, request, profile, visitor)
        running = [r for r in self.app.history.seen_by(identity, limit=50)
                   if r.status in UNFINISHED and r.owner == identity.owner]
        mine = [r for r in running if r.mode == self.mode]
        if not mine:  # it ended in the moment since the page arrived
            raise gr.Error("That job has just ended: the History tab has it.",
                           title="Nothing running", print_exception=False)
        record = mine[0]
        shown = (gr.Tabs(selected=self.mode) if record is running[0] and not picked
                 else gr.skip())
        return [shown, gr.Timer(active=False), self.pending_form(record, follow=True)]

    async def follow_pending(self, pending: Any) -> AsyncIterator[tuple[Any, ...]]:
        job_id = pending.get("follow") if pending else None
        record = self.app.history.get(job_id) if job_id else None
        if record:  # `follow` is set by `reattach`, for the person's own job only
            async for update in self.follow(record.id, since=record.created):
                yield update

    def _named(self, run: Any) -> Any:
        """`run` with one named parameter per input, so API callers see real field names."""

        async def handler(*args: Any) -> AsyncIterator[tuple[Any, ...]]:
            async for update in run(*args):
                yield update

        names = list(self.names)
        for i in range(len(self.transitions)):
            names += [f"transition_{i + 1}_prompt", f"transition_{i + 1}_seconds"]
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        # A field left out is None, "not given", so the chosen version's own default applies
        # (ui/api.py makes these the API's defaults, not the widgets' first values).
        handler.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [inspect.Parameter("request", kind, annotation=gr.Request),
             inspect.Parameter("profile", kind, annotation=gr.OAuthProfile | None),
             inspect.Parameter("version", kind)]
            + [inspect.Parameter(n, kind, default=None)
               for n in [*names, "session_key", "visitor"]])
        # Gradio reads hints from here
        handler.__annotations__ = {"request": gr.Request, "profile": gr.OAuthProfile | None}
        return handler

    def switch_version(self, version: str, *values: Any) -> list[Any]:
        """The form for `version`: every value it accepts stays, a value set by the person
        that it lacks goes back to its default (or away, with its field), and the line under
        the version says which."""
        endpoint = catalog.lookup(self.mode, version)
        given = dict(zip(self._judged, values, strict=True))
        updates, changed = [], []
        for name in self.names:
            prop = endpoint.properties.get(name)
            value = given.get(name)
            untouched = name not in given or self._untouched(name, value)
            keep = not untouched and prop is not None and accepts(name, prop, value)
            updates.append(update_for(prop, self._choices.get(name), keep=keep))
            if untouched or keep:
                continue
            label = self._labels[name]
            if prop is None:
                changed.append(f"{label} (not a setting of {version})")
            else:
                # Only the catalog's own words: a typed value is never Markdown.
                was = f"no {value}: " if str(value) in self._choices.get(name, []) else ""
                changed.append(f"{label} ({was}now {prop.get('default', 'blank')})")
        # The form's own origin: the schema it was built from (fal's newer one, if any
        # came since, reaches prices and checks at once and forms at the next start).
        about = self._about(next((e for e in self.endpoints if e.version == version),
                                 endpoint))
        if changed:
            about += f"\n\nReset for {version}: " + "; ".join(changed) + "."
        return [about, *updates]

    def _untouched(self, name: str, value: Any) -> bool:
        """Blank, or a version's own default: what the person left as the form had it."""
        defaults = {str(e.properties[name].get("default")) for e in self.endpoints
                    if name in e.properties and "default" in e.properties[name]}
        return value is None or not str(value).strip() or str(value) in defaults

    def form_values(self, version: str, values: list[Any]) -> dict[str, Any]:
        """Widget values -> the chosen endpoint's fields, as the request builder takes them."""
        try:
            endpoint = catalog.lookup(self.mode, version)
        except KeyError as exc:
            raise InputError("version", f"Model version: {exc.args[0]}") from None
        # Every field goes on, those of other versions too: None is "not given" and the
        # page sends it for a field this version lacks; anything else was set, and the
        # request builder refuses it, naming the field, rather than dropping it unseen.
        form = dict(zip(self.names, values[: len(self.names)], strict=True))
        if form.get("image_urls") is not None:
            form["image_urls"] = _paths(form["image_urls"])
        if "transitions" in endpoint.properties:
            rest = values[len(self.names):]
            count = len(form.get("image_urls") or [])
            # More than five keyframes has no rows to read: the count check refuses it first.
            form["transitions"] = [{"prompt": rest[2 * i], "duration": rest[2 * i + 1]}
                                   for i in range(min(max(count - 1, 0), MAX_TRANSITIONS))]
        return form

    async def run(self, request: gr.Request, profile: gr.OAuthProfile | None, version: str,
                  *values: Any) -> AsyncIterator[tuple[Any, ...]]:
        *widget_values, session_key, visitor = values
        identity = who(self.app, request, profile, visitor)
        try:
            form = self.form_values(version, widget_values)
            job = await self.app.jobs.start(self.mode, version, form,
                                            session_key=key_for(session_key, identity),
                                            logged_in=identity.logged_in,
                                            person=self._person(request, identity),
                                            owner=identity)
        except InputError as exc:
            log.info("refused input: %s", exc.field)  # a person's mistake: no traceback
            said = self._explain(version, exc)
            yield refused("Check the form", said, {exc.field: exc.message})
            raise quiet_error(said, "Check the form") from None
        except LimitReached as exc:
            title = ("Storage full" if isinstance(exc, StorageFull)
                     else "Budget reached" if isinstance(exc, OverBudget) else "Busy")
            yield refused(title, str(exc), {})
            raise quiet_error(str(exc), title) from None
        async for update in self.follow(job.record.id):
            yield update

    async def follow(self, job_id: str, since: float | None = None
                     ) -> AsyncIterator[tuple[Any, ...]]:
        """The run's outputs as the job moves, until its last event. The clock counts from
        `since` (a wall-clock time): a page that comes back to a job shows its true age."""
        view = View()
        if since is not None:
            view.started -= max(time.time() - since, 0.0)
        first = True
        # No update of its own before the job's first event, which comes at once: one page
        # update fewer per job, at the moment a crowd presses Generate together.
        async for batch in batched(self.app.jobs.follow(job_id)):
            for event in batch:
                view.apply(event)
            # Components get plain values: Gradio 6 answers a gr.skip() for one by building
            # a new component and its whole config. States are the other way round: setting
            # one rebuilds its config, skipping it costs nothing. So they are set only when
            # they change (the job id once; the field complaints at the start and the end).
            # Stop is enabled once; after that its label is the cheap plain value, and the
            # run's end disables it (mark).
            yield (job_id if first else gr.skip(), view.status_line(),
                   "\n".join(view.logs), Video.of(view.video), view.info,
                   view.fields if first or view.finished else gr.skip(),
                   gr.Button(interactive=True) if first else "Stop")
            first = False

    def _person(self, request: gr.Request, identity: Identity) -> Person:
        client = getattr(request, "client", None)
        address = client_address(getattr(client, "host", None),
                                 request.headers.get("x-forwarded-for"), self._trusted)
        return person(identity, address)

    def mark(self, problems: dict[str, str] | None) -> list[Any]:
        """Each widget fal or our checks complained about is outlined, its label saying
        what is wrong; every other widget loses an earlier complaint."""
        problems = problems or {}
        updates = []
        for name, label in self._labels.items():
            text = problems.get(name)
            for prefix in (label, name):  # "Prompt is required" -> "Prompt ⚠ is required"
                if text and text.startswith(prefix):
                    text = text[len(prefix):].lstrip(" :")
            updates.append(gr.update(label=f"{label} ⚠ {text}" if text else label,
                                     elem_classes=[PROBLEM] if text else []))
        return [*updates, gr.Button(interactive=False)]

    def _explain(self, version: str, exc: InputError) -> str:
        """The message with the field's label in front, as the person sees the form."""
        try:
            prop = catalog.lookup(self.mode, version).properties.get(exc.field, {})
        except KeyError:
            prop = {}
        label = prop.get("title") or self._labels.get(exc.field, exc.field)
        return exc.message if exc.message.startswith(label) else f"{label}: {exc.message}"

    async def stop(self, job_id: str | None, visitor: Any = None,
                   request: gr.Request | None = None,
                   profile: gr.OAuthProfile | None = None) -> str:
        record = self.app.history.get(job_id) if job_id else None
        # Only the owner stops a job, whatever session id a caller presents.
        if record is None or record.owner != who(self.app, request, profile, visitor).owner:
            return "Nothing to stop."
        said = await self.app.jobs.stop(record.id)
        if "will finish" in said:  # too late to stop: the page goes on following it
            said += " Its video shows here when it lands."
        return f"<b>{plain(said)}</b>"

    # -- presets and remix -------------------------------------------------------

    def _examples(self) -> None:
        path = PRESETS / f"{self.mode}.json"
        if not path.exists():
            return
        presets = json.loads(path.read_text())
        inputs = [self.version, *self.widgets.values()]
        rows = []
        for preset in presets:
            values = preset["values"]
            row = [preset["version"]]
            for name in self.names:
                value = values.get(name)
                if isinstance(value, list):
                    value = [_shipped(PRESETS / v) for v in value]
                elif name.endswith("_url") and value:
                    value = _shipped(PRESETS / value)
                row.append(value)
            rows.append(row)

        examples = gr.Examples(rows, inputs, label="Examples (click to fill the form; "
                               "nothing runs)", example_labels=[p["label"] for p in presets],
                               cache_examples=False)
        # A preset's values reach the widgets without their change events (a gallery's
        # never fires): what follows from them is brought up to date after it.
        filled = examples.load_input_event
        if self.keyframes:
            filled = filled.then(*self._layout, api_visibility="private", queue=False)
        filled.then(self._price, self._price_inputs(), self.price,
                    api_visibility="private", queue=False)

    def fill(self, version: str, form: dict[str, Any]) -> list[Any]:
        """Updates for this tab's inputs that put a past job's settings back."""
        # The forms this page was built with: a version fal has stopped listing has none.
        endpoint = next((e for e in self.endpoints if e.version == version), None)
        if endpoint is None:
            raise gr.Error(f"{plain(version)} is not among this page's versions (fal no longer "
                           "lists it); its settings are in the job's details.",
                           title="Version gone", print_exception=False)
        updates: list[Any] = [gr.update(value=version)]
        for name in self.names:
            prop = endpoint.properties.get(name)
            if prop is None:
                updates.append(gr.update(visible=False, value=None))  # not given
            else:
                value = form.get(name)
                if name in self._choices and value is not None:
                    value = str(value)  # v2.1's integer duration is drawn as a choice
                elif name in _MEDIA and value:
                    value = [u for u in map(_as_upload, value) if u] if isinstance(value, list) \
                        else _as_upload(value)
                updates.append(gr.update(visible=True, value=value))
        transitions = form.get("transitions") or []
        for i in range(MAX_TRANSITIONS if self.keyframes else 0):
            step = transitions[i] if i < len(transitions) else {}
            updates += [gr.update(value=step.get("prompt", "")),
                        gr.update(value=step.get("duration", 5))]
        return updates

    def inputs(self) -> list[gr.components.Component]:
        return self._inputs()
