"""The whole page: key section, one tab per mode, the history."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
from gradio.utils import get_upload_folder

from playground import catalog
from playground.service import Playground
from playground.settings import Settings
from ui.api import handler_defaults_win
from ui.history_tab import HistoryTab
from ui.identity import IdentityBar
from ui.keys import build_key_section
from ui.lenient import name_refused_files
from ui.mcp_tools import add_tools
from ui.modes import PRESETS, ModeTab
from ui.shared import SharedView
from ui.text import CSS as TEXT_CSS
from ui.videos import send_by_name

CSS = """
.job-status { min-height: 2.5em; }
""" + TEXT_CSS
PRESET_MEDIA = PRESETS / "media"
CLOCK_JS = (Path(__file__).parent / "clock.js").read_text()


def build_app(settings: Settings) -> gr.Blocks:
    app = Playground(settings, input_dirs=[Path(get_upload_folder()), PRESET_MEDIA])
    # Results are served straight from our store, not copied per view, under an opaque name
    # (ui/videos.py). Inputs are not: a page hands them back as paths, and only uploads may
    # come back (a Remix copies them).
    gr.set_static_paths([settings.data_dir / "videos", PRESET_MEDIA])
    # Gradio 6 takes delete_cache on Blocks (launch() has no such parameter). It removes
    # only files this server put in its cache (uploads and copies it served), by age.
    with gr.Blocks(title="Pika Playground", delete_cache=settings.delete_cache) as demo:
        gr.Markdown("# Pika Playground\nEvery Pika video model on fal, in one page.")
        bar = IdentityBar(app)
        visitor = bar.visitor
        shared = SharedView(app)  # first on the page: what a share link opens
        shared.build()
        key_state = build_key_section(app, visitor)
        # Outside the Tabs: a tab not yet opened has nothing of its own running in the page.
        resume = {mode: gr.Timer(0.2, active=False) for mode in catalog.MODES}
        mode_tabs: dict[str, ModeTab] = {}
        with gr.Tabs() as tabs:
            for mode in catalog.MODES:
                mode_tabs[mode] = ModeTab(app, mode, key_state, visitor)
                mode_tabs[mode].build()
            history = HistoryTab(app, tabs, mode_tabs, visitor)
            history.build()
        shared.wire(history)

        # Who this is comes first: the history and a shared job are filled from it, never
        # from the page's config, which is the same for everyone.
        for mode, mode_tab in mode_tabs.items():
            mode_tab.wire_reattach(resume[mode])
        arrival = bar.wire(demo, tabs, resume, [history.table, history.spend],
                           lambda identity: [[], history.spend_html(identity)])
        arrival.then(shared.arrive, None, shared.outputs_on_arrival(),
                     api_visibility="private", queue=False)
        arrival.then(history.arrive, [visitor], history.outputs_on_arrival(),
                     api_visibility="private")
        if settings.mcp:  # hook: issue 14, tools for agents
            add_tools(app, demo)

    async def at_startup() -> None:
        app.jobs.resume()
        app.jobs.start_sweeping()

    # Runs on the server's event loop at launch, so resumed jobs and sweeps live where
    # handlers do.
    demo.extra_startup_events.append(at_startup)
    # Generation is I/O-bound waiting on fal: never make one user wait for another's job
    # (Gradio's default is one job per event at a time).
    demo.queue(default_concurrency_limit=settings.concurrency, max_size=settings.max_queue)
    name_refused_files(demo)
    handler_defaults_win(demo)
    send_by_name(demo)
    demo.playground = app  # type: ignore[attr-defined]
    return demo
