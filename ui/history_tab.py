"""Every job, newest first; a click plays it, Remix puts its settings back in its tab."""

from __future__ import annotations

import time
from typing import Any

import gradio as gr

from playground import catalog
from playground.history import JobRecord
from playground.service import Playground
from ui.modes import ModeTab
from ui.text import plain, text_view
from ui.videos import Video

COLUMNS = ["When", "Mode", "Version", "Status", "Prompt", "Seed", "Request id", "Job"]


def rows(app: Playground) -> list[list[Any]]:
    table = []
    for r in app.history.recent(200):
        prompt = str(r.form.get("prompt") or r.form.get("pikaffect") or "")
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.created))
        status = f"{r.status}, {r.removed}" if r.removed else r.status
        table.append([when, catalog.MODES.get(r.mode, r.mode), r.version, status,
                      prompt[:80], r.seed, r.request_id or "", r.id])
    return table


def describe(record: JobRecord) -> str:
    """A job's details as HTML: every value from a person or from fal goes in escaped."""
    error = f": {plain(record.error)}" if record.error else ""
    lines = [f"<b>{catalog.MODES.get(record.mode)}</b> · {plain(record.version)} · "
             f"{plain(record.endpoint)}",
             f"Status: <b>{plain(record.status)}</b>{error}",
             f"Seed: {plain(record.seed)} · request {plain(record.request_id)}",
             f"Timings: {plain(record.timings)}"]
    if record.removed:
        lines.append(f"{plain(record.removed.capitalize())}; Remix still puts its settings "
                     "back.")
    lines.append("Settings:")
    settings = [f"{plain(name)}: {plain(value)}" for name, value in record.form.items()
                if name != "seed" and not name.endswith(("_url", "_urls"))]  # seed: above
    return ("".join(f"<p>{line}</p>" for line in lines)
            + "<ul>" + "".join(f"<li>{item}</li>" for item in settings) + "</ul>")


def build_history_tab(app: Playground, tabs: gr.Tabs, mode_tabs: dict[str, ModeTab]) -> None:
    with gr.Tab("History", id="history") as tab:
        with gr.Row():
            refresh = gr.Button("Refresh", size="sm", scale=0)
            gr.Markdown("Every job lands here, even if its page was closed. Click a row.")
        table = gr.Dataframe(headers=COLUMNS, value=lambda: rows(app), interactive=False,
                             wrap=True, max_height=420, elem_id="history-table")
        selected = gr.State(None)
        with gr.Row(equal_height=False):
            video = gr.Video(label="Selected job", interactive=False, scale=3)
            with gr.Column(scale=2):
                details = text_view("", elem_id="history-details")
                remix = gr.Button("Remix: load these settings into their tab",
                                  variant="primary", elem_id="history-remix")

    def table_rows() -> list[list[Any]]:
        return rows(app)

    def show(evt: gr.SelectData) -> tuple[str | None, Any, str]:
        job_id = evt.row_value[-1]
        record = app.history.get(job_id)
        if record is None:
            return None, None, "That job is gone."
        video = app.settings.data_dir / record.video if record.video else None
        return job_id, Video.of(video if video and video.is_file() else None), describe(record)

    all_inputs = [c for t in mode_tabs.values() for c in t.inputs()]

    def load(job_id: str | None) -> list[Any]:
        record = app.history.get(job_id) if job_id else None
        if record is None:
            raise gr.Error("Pick a job in the table first.")
        updates: list[Any] = [gr.Tabs(selected=record.mode)]
        for mode, mode_tab in mode_tabs.items():
            if mode == record.mode:
                updates += mode_tab.fill(record.version, record.form)
            else:
                updates += [gr.skip()] * len(mode_tab.inputs())
        return updates

    tab.select(table_rows, None, table, api_visibility="private", queue=False)
    refresh.click(table_rows, None, table, api_name="history", queue=False)
    table.select(show, None, [selected, video, details], api_visibility="private")
    remix.click(load, [selected], [tabs, *all_inputs], api_visibility="private")
