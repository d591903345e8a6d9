"""Variations: the tab's form run N times (2 to 4), each with a new seed, shown as a strip.

Each variation is an ordinary job, started through the job manager one after another as
Generate starts one: the same checks, limits and budgets (a person's fifth job waits or
is refused as it would be from five clicks), the same history. A refusal part-way leaves
the variations already started running; the strip says which was refused and why.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import gradio as gr

from playground.compare import new_seeds
from playground.errors import InputError, LimitReached
from playground.jobs import Job
from ui.identity import who
from ui.keys import key_for
from ui.refusals import quiet_error, refusal_line
from ui.render import View
from ui.text import plain, text_view
from ui.videos import download_name, video_src
from ui.weight import on_first_open

if TYPE_CHECKING:
    from playground.service import Playground
    from ui.modes import ModeTab

MOST = 4


class Variations:
    """`build()` where it sits in the tab's layout, once the tab's widgets and states
    exist."""

    def __init__(self, tab: ModeTab) -> None:
        self.tab = tab

    def build(self) -> None:
        mode = self.tab.mode
        with gr.Accordion("Variations: this form several times, each with a new seed",
                          open=False, elem_id=f"{mode}-variations") as accordion:
            # Folded until wanted: built for a page when it opens it (ui/weight.py), so a
            # page that never does carries none of it.
            on_first_open(accordion)(self._contents)

    def _contents(self) -> None:
        mode, tab = self.tab.mode, self.tab
        with gr.Row(equal_height=True):
            # Said interactive: built in a render, Gradio would not know it is an input.
            count = gr.Slider(2, MOST, value=MOST, step=1, label="How many", interactive=True,
                              info="Each is a job of its own, priced as one run, "
                                   "in the History like any other.",
                              elem_id=f"{mode}-variations-count", scale=3)
            button = gr.Button("Run variations", elem_id=f"{mode}-variations-run", scale=1)
        # Where a refusal is said, as Generate says it: no toast to pile up.
        status = text_view("", elem_id=f"{mode}-variations-status")
        # A cell is one HTML block (its status, then its video), lighter than a gr.Video.
        with gr.Row(equal_height=False):
            cells = []
            for i in range(MOST):
                # A column's min_width wraps the strip: two to a line on a phone,
                # rather than four slivers (an HTML block's own does not).
                with gr.Column(min_width=140):
                    cells.append(text_view("", elem_classes=["job-status"],
                                           elem_id=f"{mode}-variation-{i + 1}"))
        button.click(self.run, [count, *tab.inputs(), tab.key_state, tab.visitor],
                     [status, *cells], api_visibility="private", show_progress="hidden")

    async def run(self, request: gr.Request, profile: gr.OAuthProfile | None, count: Any,
                  version: str, *values: Any) -> AsyncIterator[list[Any]]:
        tab = self.tab
        *widget_values, session_key, visitor = values
        identity = who(tab.app, request, profile, visitor)
        try:
            n = min(max(int(count), 2), MOST)
        except (TypeError, ValueError):
            n = MOST
        try:
            form = tab.form_values(version, widget_values)
        except InputError as exc:
            yield _refused(tab._explain(version, exc))
            raise quiet_error(tab._explain(version, exc), "Check the form") from None
        jobs: list[Job | None] = []
        said: list[str] = []
        for seed in new_seeds(n):
            try:
                jobs.append(await tab.app.jobs.start(
                    tab.mode, version, {**form, "seed": seed},
                    session_key=key_for(session_key, identity), logged_in=identity.logged_in,
                    person=tab._person(request, identity), owner=identity))
                said.append("")
            except InputError as exc:
                if not jobs:  # the form itself: nothing started, said as Generate says it
                    yield _refused(tab._explain(version, exc))
                    raise quiet_error(tab._explain(version, exc), "Check the form") from None
                jobs.append(None)
                said.append(f"<b>Not started</b>: {plain(exc.message)}")
            except LimitReached as exc:
                jobs.append(None)
                said.append(f"<b>Refused</b>: {plain(str(exc))}")
        views = [View() for _ in jobs]
        shown: list[str | None] = [None] * MOST

        def update() -> list[Any]:
            cells: list[Any] = []
            for i in range(MOST):
                job = jobs[i] if i < len(jobs) else None
                if i >= len(jobs):
                    html = ""
                elif job is None:
                    html = said[i]
                else:
                    html = cell(job, views[i])
                # A cell whose video is showing is left alone: setting it again restarts it.
                cells.append(gr.skip() if html == shown[i] else html)
                shown[i] = html
            return [gr.skip(), *cells]

        yield ["", *update()[1:]]  # an earlier refusal, gone
        started = [i for i, j in enumerate(jobs) if j is not None]
        async for index, event in merged([j.record.id for j in jobs if j is not None],
                                         tab.app):
            views[started[index]].apply(event)
            yield update()


def _refused(message: str) -> list[Any]:
    return [refusal_line("Check the form", message), *[gr.skip()] * MOST]


def cell(job: Job, view: View) -> str:
    """A variation's seed and status, then its video once it has one (from this server, by
    job id: the route serves it to its owner only), with a download named for what it is."""
    status = f"seed {job.record.seed} · {view.status_line()}"
    if not view.video:
        return f"<p>{status}</p>"
    src = video_src(job.record.id)
    name = download_name(job.record.endpoint, job.record.seed)
    return (f"<p>{status}</p><video src=\"{src}\" controls muted playsinline "
            f"preload=\"metadata\" style=\"width:100%\"></video>"
            f"<p><a href=\"{src}\" download=\"{name}\">Download</a></p>")


async def merged(job_ids: list[str], app: Playground) -> AsyncIterator[tuple[int, Any]]:
    """The events of every job, as they come, each with its job's index."""
    queue: asyncio.Queue[tuple[int, Any] | None] = asyncio.Queue()

    async def pump(index: int, job_id: str) -> None:
        try:
            async for event in app.jobs.follow(job_id):
                await queue.put((index, event))
        finally:
            await queue.put(None)

    tasks = [asyncio.create_task(pump(i, job_id)) for i, job_id in enumerate(job_ids)]
    try:
        ended = 0
        while ended < len(tasks):
            item = await queue.get()
            if item is None:
                ended += 1
            else:
                yield item
    finally:
        # The page went away: let go of the jobs, never of the jobs' tasks.
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
