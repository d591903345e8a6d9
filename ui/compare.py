"""The Compare tab: one prompt (and one first frame) across the chosen model versions and
seeds, up to eight videos in a grid that plays together.

Each cell is an ordinary job (playground/compare.py starts them): in the History, owned,
limited, recovered after a restart like any other. A cell says its own status, queue
place, elapsed time, price, logs and video; its buttons remix it into its tab, share it
or show it as code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import gradio as gr

from playground import catalog, compare
from playground.errors import InputError, LimitReached, OverBudget, StorageFull
from playground.history import UNFINISHED, JobRecord
from playground.jobs import Job
from ui.code_view import LANGUAGES, CodeView, job_code
from ui.identity import who
from ui.keys import key_for
from ui.lenient import lenient
from ui.refusals import PROBLEM, quiet_error, refusal_line
from ui.render import View
from ui.text import plain, text_view
from ui.variations import merged
from ui.videos import download_name, video_src
from ui.weight import on_first_open
from ui.widgets import widget_for

if TYPE_CHECKING:
    from playground.service import Playground
    from ui.history_tab import HistoryTab
    from ui.modes import ModeTab

# A cell's buttons say which job and what to do with it; the server checks the job is
# the person's to act on, as it checks a History row.
CELL_JS = """
element.addEventListener('click', e => {
  const b = e.target.closest('button[data-action]');
  if (b) trigger('select', {job: b.dataset.job, action: b.dataset.action});
});
"""
# Every video from the start, together: muted, so no browser holds the playing back.
PLAY_ALL_JS = """() => {
  for (const v of document.querySelectorAll('#compare-grid video')) {
    v.currentTime = 0;
    v.play().catch(() => {});
  }
}"""
FIELDS = ("mode", "versions", "seeds", "image_url", "prompt", "negative_prompt",
          "resolution", "duration")
RESOLUTIONS = ["720p", "1080p"]  # what every version of both modes takes
DURATIONS = ["5", "10"]
# The page's last grid, kept in the browser so that a reload finds it again (its jobs run
# on regardless). Only job ids: each is checked to be the person's before it is shown.
GRID_STORAGE = ("pika-compare-grid", "pika-playground-compare-grid")


class CompareTab:
    """`build()` among the Tabs; `wire(history)` once the History exists."""

    def __init__(self, mode_tabs: dict[str, ModeTab]) -> None:
        self.mode_tabs = mode_tabs
        first = mode_tabs["text-to-video"]
        self.app, self.key_state, self.visitor = first.app, first.key_state, first.visitor

    def build(self) -> None:
        with gr.Tab("Compare", id="compare") as tab:
            key, secret = GRID_STORAGE
            self.grid = gr.BrowserState([], storage_key=key, secret=secret)
            # Built for a page when it first opens the tab (ui/weight.py): a page that never
            # compares carries none of it.
            on_first_open(tab, [self.grid])(self._contents)

    def wire(self, history: HistoryTab) -> None:
        """The History's Remix and share, used by the cells (built later, per page)."""
        self.history = history

    def _contents(self, grid: Any) -> None:
        jobs = gr.State([])  # the grid's running job ids, for Stop all
        gr.Markdown("One prompt across model versions and seeds, side by side. Each video "
                    "is a job of its own, priced as one run, in the History like any other.")
        mode = compare.MODES[0]
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                w: dict[str, Any] = {}
                w["mode"] = lenient(gr.Radio([(catalog.MODES[m], m) for m in compare.MODES],
                                             value=mode, label="Mode"))
                w["versions"] = lenient(gr.CheckboxGroup(
                    self._versions(mode), value=self._versions(mode), label="Versions"))
                w["seeds"] = lenient(gr.Slider(
                    1, compare.MAX_CELLS, value=1, step=1, label="Seeds per version",
                    info=f"New seeds, the same for every version; at most "
                         f"{compare.MAX_CELLS} videos in all."))
                image = catalog.versions("image-to-video")[0].properties["image_url"]
                w["image_url"] = widget_for("image_url", image, shown=False)
                w["prompt"] = gr.Textbox(label="Prompt", lines=3,
                                         max_length=catalog.MAX_PROMPT_CHARS)
                w["negative_prompt"] = gr.Textbox(
                    label="Negative prompt", max_length=catalog.MAX_PROMPT_CHARS,
                    placeholder="blank = each version's own default")
                with gr.Row():
                    w["resolution"] = lenient(gr.Radio(RESOLUTIONS, value="720p",
                                                       label="Resolution"))
                    w["duration"] = lenient(gr.Radio(DURATIONS, value="5",
                                                     label="Duration (s)"))
                for name, widget in w.items():
                    widget.elem_id = f"compare-{name}"
                    # Built in a render, an input Gradio does not know as one: without this
                    # an update (a refusal's mark) would leave it disabled.
                    widget.interactive = True
                with gr.Column(elem_classes=["run-bar"]):
                    price = gr.Markdown(self.price_line(mode, self._versions(mode), 1,
                                                        "720p", "5"),
                                        elem_id="compare-price")
                    with gr.Row():
                        run = gr.Button("Run all", variant="primary", elem_id="compare-run")
                        stop = gr.Button("Stop all", variant="stop", elem_id="compare-stop")
                        play = gr.Button("Play all", elem_id="compare-play")
            with gr.Column(scale=7):
                # Before a run, what this column will hold (it is otherwise empty).
                status = text_view("The videos appear here side by side, each with its "
                                   "version, seed, price and status.", label="Status",
                                   elem_id="compare-status")
                with gr.Row(elem_classes=["compare-grid"], elem_id="compare-grid"):
                    cells = [gr.HTML("", js_on_load=CELL_JS, label=f"Video {i + 1}",
                                     elem_classes=["as-typed", "job-status", "compare-cell"],
                                     elem_id=f"compare-cell-{i + 1}")
                             for i in range(compare.MAX_CELLS)]
                share_url = gr.Textbox(label="Share link: anyone who has it can watch this "
                                       "video and remix it", interactive=False,
                                       buttons=["copy"], visible=False,
                                       elem_id="compare-share-url")
                code = CodeView("compare")
                code.build()

        w["mode"].change(self.switch_mode, [w["mode"]], [w["versions"], w["image_url"]],
                         api_visibility="private", queue=False)
        priced = [w[n] for n in ("mode", "versions", "seeds", "resolution", "duration")]
        for widget in priced:
            widget.change(self.price_line, priced, price, api_visibility="private",
                          queue=False)
        run.click(self.run, [*(w[n] for n in FIELDS), self.key_state, self.visitor],
                  [status, jobs, *(w[n] for n in FIELDS), *cells, self.grid],
                  api_visibility="private", show_progress="hidden")
        # The last grid, back after a reload: one tick, then it follows what still runs.
        back = gr.Timer(0.1, active=bool(grid))
        back.tick(self.restore, [self.grid, self.visitor], [back, status, jobs, *cells],
                  api_visibility="private", show_progress="hidden", trigger_mode="once")
        stop.click(self.stop, [jobs, self.visitor], status, api_visibility="private",
                   concurrency_limit=None)
        play.click(None, None, None, js=PLAY_ALL_JS)
        history = self.history
        gr.on([c.select for c in cells], self.act, [self.visitor],
              [*history.remix_outputs(), share_url, *code.outputs(),
               code.accordion], api_visibility="private")

    @staticmethod
    def _versions(mode: str) -> list[str]:
        return [e.version for e in catalog.versions(mode)]

    def switch_mode(self, mode: Any) -> list[Any]:
        mode = mode if mode in compare.MODES else compare.MODES[0]
        versions = self._versions(mode)
        return [gr.update(choices=versions, value=versions),
                gr.update(visible=mode == "image-to-video")]

    def price_line(self, mode: Any, versions: Any, seeds: Any, resolution: Any,
                   duration: Any) -> str:
        try:
            cells = compare.plan(mode, list(versions or []), list(range(_count(seeds))),
                                 {"prompt": "-", "resolution": resolution,
                                  "duration": duration,
                                  **({"image_url": "-"} if mode == "image-to-video" else {})})
        except InputError as exc:
            return f"Price: {plain(exc.message)}"
        price = compare.total(cells)
        rough = ", some estimated: fal publishes no price for them" if price.estimated else ""
        free = ("free local preview · on fal " if not self.app.settings.server_key else "")
        return (f"Price: {free}about **${price.usd:.2f}** for {len(cells)} "
                f"video{'s' if len(cells) > 1 else ''}{rough}")

    async def run(self, request: gr.Request, profile: gr.OAuthProfile | None,
                  *values: Any) -> AsyncIterator[list[Any]]:
        *fields, session_key, visitor = values
        form = dict(zip(FIELDS, fields, strict=True))
        identity = who(self.app, request, profile, visitor)
        tab = self.mode_tabs["text-to-video"]
        try:
            mode = form.pop("mode")
            versions = form.pop("versions")
            seeds = compare.new_seeds(_count(form.pop("seeds"), strict=True))
            if mode != "image-to-video":
                form.pop("image_url")
            form["negative_prompt"] = form["negative_prompt"] or None  # each version's own
            cells = compare.plan(mode, versions if isinstance(versions, list) else [versions],
                                 seeds, form)
            jobs = await compare.start(self.app.jobs, mode, cells,
                                       session_key=key_for(session_key, identity),
                                       logged_in=identity.logged_in,
                                       person=tab._person(request, identity), owner=identity)
        except InputError as exc:
            yield self._refused("Check the form", exc.message, exc.field)
            raise quiet_error(exc.message, "Check the form") from None
        except LimitReached as exc:
            title = ("Storage full" if isinstance(exc, StorageFull)
                     else "Budget reached" if isinstance(exc, OverBudget) else "Busy")
            yield self._refused(title, str(exc), None)
            raise quiet_error(str(exc), title) from None
        started = [j.record.id for j in jobs if isinstance(j, Job)]
        said = f"{len(started)} of {len(jobs)} started · {_sum(cells)}"
        first = True
        async for changed in grid_updates(self.app, cells, [j.record if isinstance(j, Job)
                                                            else j for j in jobs]):
            # The first update says how the grid started, and keeps it for Stop all and
            # for the page's return after a reload.
            yield ([f"<b>{plain(said)}</b>", started, *_marks(None), *changed, started]
                   if first else
                   [gr.skip(), gr.skip(), *[gr.skip()] * len(FIELDS), *changed, gr.skip()])
            first = False

    async def restore(self, grid: Any, visitor: Any, request: gr.Request,
                      profile: gr.OAuthProfile | None) -> AsyncIterator[list[Any]]:
        """The page's last grid, as far as its jobs are the person's: each cell as it is
        now, then the ones still running followed to their end."""
        owner = who(self.app, request, profile, visitor).owner
        ids = [i for i in grid if isinstance(i, str)] if isinstance(grid, list) else []
        records = [r for r in map(self.app.history.get, ids[:compare.MAX_CELLS])
                   if r is not None and r.owner == owner and r.mode in compare.MODES]
        cells = [compare.Cell(r.version, r.seed or 0, r.form,
                              catalog.job_price(catalog.known(r.mode, r.version), r.arguments))
                 for r in records]
        running = [r.id for r in records if r.status in UNFINISHED]
        said = (f"<b>Your last comparison</b>: {len(records)} video"
                f"{'s' * (len(records) != 1)}, {len(running)} still running · {_sum(cells)}"
                if records else "")
        first = True
        async for changed in grid_updates(self.app, cells, list(records)):
            yield ([gr.Timer(active=False), said or gr.skip(), running, *changed] if first else
                   [gr.skip(), gr.skip(), gr.skip(), *changed])
            first = False

    @staticmethod
    def _refused(title: str, message: str, field: str | None) -> list[Any]:
        return [refusal_line(title, message), gr.skip(), *_marks(field),
                *[gr.skip()] * compare.MAX_CELLS, gr.skip()]

    async def stop(self, job_ids: Any, visitor: Any, request: gr.Request,
                   profile: gr.OAuthProfile | None) -> str:
        owner = who(self.app, request, profile, visitor).owner
        said: dict[str, int] = {}
        for job_id in job_ids if isinstance(job_ids, list) else []:
            record = self.app.history.get(job_id) if isinstance(job_id, str) else None
            if record is None or record.owner != owner:  # only the owner stops a job
                continue
            answer = await self.app.jobs.stop(record.id)
            said[answer] = said.get(answer, 0) + 1
        if not said:
            return "<b>Nothing to stop.</b>"
        return "".join(f"<p><b>{n} ×</b> {plain(answer)}</p>" for answer, n in said.items())

    def act(self, evt: gr.EventData, visitor: Any, request: gr.Request,
            profile: gr.OAuthProfile | None) -> list[Any]:
        """A cell's button: its job into its tab (Remix), a share link, or its code."""
        data = evt._data if isinstance(evt._data, dict) else {}
        action, job_id = data.get("action"), data.get("job")
        history = self.history
        rest = [gr.skip()] * (1 + len(LANGUAGES) + 2)  # the link; the note, code, accordion
        tab_and_form = [gr.skip()] * len(history.remix_outputs())
        if action == "remix":
            return [*history.remix(job_id, visitor, request, profile), *rest]
        if action == "share":
            url = history.share(job_id, visitor, request, profile)
            return [*tab_and_form, gr.update(value=url, visible=True), *rest[1:]]
        if action == "code":
            record = history._visible(job_id, who(self.app, request, profile, visitor))
            if record is None:
                raise gr.Error("No such job in your history.", print_exception=False)
            return [*tab_and_form, gr.skip(), *job_code(record), gr.Accordion(open=True)]
        raise gr.Error("Pick Remix, Share or Code under a video.", print_exception=False)


def _marks(field: str | None) -> list[Any]:
    """The refused field outlined (ui/app.py CSS); every other loses an earlier mark."""
    return [gr.update(elem_classes=[PROBLEM] if name == field else []) for name in FIELDS]


def _count(seeds: Any, strict: bool = False) -> int:
    """Seeds per version, from the slider (or an API caller): 1 to MAX_CELLS."""
    try:
        count = int(float(seeds))
    except (TypeError, ValueError):
        count = 0
    if 1 <= count <= compare.MAX_CELLS:
        return count
    if strict:
        raise InputError("seeds", f"Seeds per version must be a whole number from 1 to "
                                  f"{compare.MAX_CELLS}; got {str(seeds)[:40]!r}.")
    return 1


def _sum(cells: list[compare.Cell]) -> str:
    price = compare.total(cells)
    return f"about ${price.usd:.2f} in all" + (", some estimated" if price.estimated else "")


async def grid_updates(app: Playground, cells: list[compare.Cell],
                       entries: list[JobRecord | LimitReached]) -> AsyncIterator[list[Any]]:
    """The grid's cells, at once and then as their jobs move (a job that has ended gives
    its outcome at once): one update each time, a cell unchanged left alone, since
    setting a playing video again restarts it."""
    views = [View() for _ in entries]
    shown: list[str | None] = [None] * compare.MAX_CELLS

    def update() -> list[Any]:
        html = [cell_html(cells[i], entries[i], views[i]) if i < len(entries) else ""
                for i in range(compare.MAX_CELLS)]
        changed = [gr.skip() if h == shown[i] else h for i, h in enumerate(html)]
        shown[:] = html
        return changed

    yield update()
    followed = [(i, e.id) for i, e in enumerate(entries) if isinstance(e, JobRecord)]
    async for n, event in merged([job_id for _, job_id in followed], app):
        views[followed[n][0]].apply(event)
        yield update()


def cell_html(cell: compare.Cell, job: JobRecord | LimitReached, view: View) -> str:
    """A cell: its version, seed and price, its status (the page's clock counts on while it
    runs), then its video and buttons once it has one, and fal's logs. Every value from a
    person or from fal goes in through `plain`; job ids are our own hex."""
    head = (f"<p><b>{plain(cell.version)}</b> · seed {cell.seed} · "
            f"${cell.price.usd:.2f}{' (estimated)' if cell.price.estimated else ''}</p>")
    if isinstance(job, LimitReached):
        return f"{head}<p><b>Not started</b>: {plain(str(job))}</p>"
    parts = [head, f"<p>{view.status_line()}</p>"]
    if view.video:
        src = video_src(job.id)
        name = download_name(job.endpoint, job.seed)
        parts.append(f'<video src="{src}" controls muted loop playsinline preload="metadata">'
                     "</video>")
        job_id = job.id
        parts.append('<p class="cell-actions">' + "".join(
            f'<button type="button" data-action="{action}" data-job="{job_id}">{label}</button>'
            for action, label in (("remix", "Remix"), ("share", "Share"), ("code", "Code")))
            + f'<a href="{src}" download="{name}">Download</a></p>')
    if view.logs:
        logs = plain("\n".join(view.logs[-20:]))
        parts.append(f"<details><summary>Logs ({len(view.logs)} lines)</summary>"
                     f"<pre>{logs}</pre></details>")
    return "".join(parts)
