"""The whole page: key section, one tab per mode, the history."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
from gradio.utils import get_upload_folder

from playground import catalog
from playground.service import Playground
from playground.settings import Settings
from ui.api import handler_defaults_win
from ui.compare import CompareTab
from ui.history_tab import HistoryTab, cards_html
from ui.identity import IdentityBar
from ui.keys import build_key_section
from ui.lenient import name_refused_files
from ui.mcp_tools import add_tools
from ui.modes import PRESETS, ModeTab
from ui.shared import SharedView
from ui.text import CSS as TEXT_CSS
from ui.videos import send_by_name
from ui.weight import API_FORMS, lazy_sessions, lighter_pages, no_matplotlib_search, quiet_queue

CSS = """
.job-status { min-height: 2.5em; }
.app-title h1 { margin: 0; font-size: var(--text-xxl); }
.app-title p { margin: 0; }
/* The job in view while the form scrolls, and Generate in reach however long the form.
   The result column is last in its row, so on a phone (one column) it sticks to nothing.
   Gradio's container hides its overflow, which would make it the box they stick in:
   clipping (sideways only) keeps what it meant without making it scroll. */
.gradio-container { overflow-x: clip !important; overflow-y: visible !important; }
.mode-result { position: sticky; top: var(--spacing-md); align-self: flex-start; }
.run-bar { position: sticky; bottom: 0; z-index: 100; padding-block: var(--spacing-md);
           background: var(--background-fill-primary, white); }
.run-bar .row { flex-wrap: nowrap; }
.run-bar .row > button { min-width: 0 !important; }
.whoami-row { flex-wrap: wrap; align-items: center; }
#whoami { flex: 1 1 320px; }
/* The History: a table on a laptop, cards on a phone (ui/history_tab.py). */
.job-cards { display: none; }
.job-card { display: flex; gap: var(--spacing-lg); align-items: flex-start; cursor: pointer;
            padding: var(--spacing-md); border-bottom: 1px solid var(--border-color-primary); }
.job-card video, .job-card .no-video { width: 112px; aspect-ratio: 16 / 9; flex: none;
            object-fit: cover; background: var(--background-fill-secondary);
            border-radius: var(--radius-sm); }
.job-card .no-video { display: grid; place-items: center; font-size: var(--text-sm); }
@media (max-width: 640px) {
  .job-cards { display: block; }
  #history-table { display: none; }
}
/* Compare: as many videos a row as fit, two on a phone; an unused cell takes no room. */
.compare-grid { display: grid !important;
                grid-template-columns: repeat(auto-fill, minmax(min(260px, 45%), 1fr)); }
.compare-grid > .block:has(> .html-container > .prose:empty) { display: none; }
.compare-cell { font-size: var(--text-sm); overflow-wrap: anywhere; }
.compare-cell video { width: 100%; border-radius: var(--radius-sm); }
.compare-cell .cell-actions { display: flex; flex-wrap: wrap; gap: var(--spacing-sm);
            align-items: center; }
.compare-cell .cell-actions button { padding: 2px 10px; font: inherit;
            border-radius: var(--radius-sm); border: 1px solid var(--border-color-primary);
            background: var(--button-secondary-background-fill); cursor: pointer; }
.compare-cell pre { max-height: 10em; overflow: auto; font-size: var(--text-sm); }
/* Nothing to say (no Stop answered, no job's details yet): no room taken. */
.mode-result .block:has(> .html-container > .prose:empty) { display: none; }
.block.has-problem { outline: 2px solid var(--error-border-color, #ef4444); outline-offset: 2px; }
.block.has-problem [data-testid="block-info"], .block.has-problem label > span:first-child,
span.has-problem { color: var(--error-text-color, #b91c1c); }
""" + TEXT_CSS
PRESET_MEDIA = PRESETS / "media"
CLOCK_JS = (Path(__file__).parent / "clock.js").read_text()


def build_app(settings: Settings) -> gr.Blocks:
    app = Playground(settings, input_dirs=[Path(get_upload_folder()), PRESET_MEDIA])
    # fal's live schemas: from the cache at once (or fal's answer within 2 s when there is
    # none yet), before any tab reads the catalog; refreshed in the background after.
    app.catalog.start()
    # Results are served straight from our store, not copied per view, under an opaque name
    # (ui/videos.py). Inputs are not: a page hands them back as paths, and only uploads may
    # come back (a Remix copies them).
    gr.set_static_paths([settings.data_dir / "videos", PRESET_MEDIA])
    # Gradio 6 takes delete_cache on Blocks (launch() has no such parameter). It removes
    # only files this server put in its cache (uploads and copies it served), by age.
    with gr.Blocks(title="Pika Playground", delete_cache=settings.delete_cache) as demo:
        gr.Markdown("# Pika Playground\nEvery Pika video model on fal, in one page.",
                    elem_classes=["app-title"])
        bar = IdentityBar(app)
        visitor = bar.visitor
        shared = SharedView(app)  # first on the page: what a share link opens
        shared.build()
        key_state = build_key_section(app, visitor)
        # The API's endpoints, one form a mode, which no page carries (ui/weight.py).
        with gr.Column(visible=False, elem_id=API_FORMS):
            for mode in catalog.MODES:
                ModeTab(app, mode, key_state, visitor).build_api()
        # Outside the Tabs: a tab not yet opened has nothing of its own running in the page.
        resume = {mode: gr.Timer(0.2, active=False) for mode in catalog.MODES}
        # Whether the person has picked a tab since the page loaded: a reload's running job
        # then comes back to its tab without taking them from theirs. Hidden: no script.
        picked = gr.Checkbox(False, visible=False)
        mode_tabs: dict[str, ModeTab] = {}
        # Wrapped, not folded into "More tabs": on a phone every mode is one tap away.
        with gr.Tabs(overflow_behavior="wrap") as tabs:
            for i, mode in enumerate(catalog.MODES):
                mode_tabs[mode] = ModeTab(app, mode, key_state, visitor)
                # The tab the page opens on is built with it; the others as it opens them.
                mode_tabs[mode].build(lazy=i > 0)
            comparison = CompareTab(mode_tabs)
            comparison.build()
            history = HistoryTab(app, tabs, mode_tabs, visitor)
            history.build()
        shared.wire(history)
        comparison.wire(history)

        # Who this is comes first: the history and a shared job are filled from it, never
        # from the page's config, which is the same for everyone.
        tabs.select(None, None, picked, js="() => true", queue=False)  # in the page alone
        for mode, mode_tab in mode_tabs.items():
            mode_tab.wire_reattach(resume[mode], tabs, picked)
        arrival = bar.wire(demo, resume, [history.table, history.cards, history.spend],
                           lambda identity: [[], cards_html([]), history.spend_html(identity)])
        arrival.then(shared.arrive, None, shared.outputs_on_arrival(),
                     api_visibility="private", queue=False)
        arrival.then(history.arrive, [visitor], history.outputs_on_arrival(),
                     api_visibility="private")
        if settings.mcp:
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
    quiet_queue(demo)
    name_refused_files(demo)
    handler_defaults_win(demo)
    send_by_name(demo)
    lighter_pages()
    lazy_sessions()
    no_matplotlib_search()
    demo.playground = app  # type: ignore[attr-defined]
    return demo
