"""A person's own jobs, newest first: a click plays one (and follows it while it runs),
Remix puts its settings back in its tab, a share link shows it to anyone holding it.

Nothing here is in the page's config: the table fills once the page says who it is.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import gradio as gr
from gradio.route_utils import API_PREFIX, get_root_url

from playground import catalog, spend
from playground.history import UNFINISHED, JobRecord
from playground.identity import Identity, may_see
from playground.service import Playground
from ui.code_view import HistoryCode
from ui.identity import who
from ui.modes import ModeTab, batched
from ui.render import View
from ui.spending import spend_line
from ui.text import plain, text_view
from ui.uploads import hand_over
from ui.videos import Video, video_src

COLUMNS = ["When", "Mode", "Version", "Status", "Prompt", "Seed", "Request id", "Job"]
TICK = 3.0  # seconds between refreshes of the table while one of the person's jobs runs


STEPS = (("prepare", "preparing"), ("queue", "queued"), ("run", "running"),
         ("download", "saving"))


def when(record: JobRecord) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(record.created))


def took(record: JobRecord) -> str:
    """How long each step took, in the order they happen: "queued 1.2 s, running 30.4 s"."""
    return ", ".join(f"{label} {record.timings[step]:.1f} s" for step, label in STEPS
                     if isinstance(record.timings.get(step), int | float))


def prompt_of(record: JobRecord) -> str:
    return str(record.form.get("prompt") or record.form.get("pikaffect") or "")


def settings_list(record: JobRecord) -> str:
    """Every setting but the inputs and the seed (said on its own), named as the form
    names it."""
    try:
        fields = catalog.known(record.mode, record.version).properties
    except KeyError:  # a version since removed from the catalog
        fields = {}
    settings = [f"{plain(fields.get(name, {}).get('title') or name)}: {plain(value)}"
                for name, value in record.form.items()
                if value not in (None, "") and name != "seed"
                and not name.endswith(("_url", "_urls"))]
    return "<ul>" + "".join(f"<li>{item}</li>" for item in settings) + "</ul>"


def describe(record: JobRecord, status: str | None = None) -> str:
    """A job's details as HTML: every value from a person or from fal goes in escaped."""
    error = f": {plain(record.error)}" if record.error else ""
    made = f"By {plain(record.owner_name)}, {when(record)}" if record.owner_name else \
        f"Made {when(record)}"
    lines = [f"<b>{catalog.MODES.get(record.mode)}</b> · {plain(record.version)} · "
             f"{plain(record.endpoint)}", made,
             status or f"Status: <b>{plain(record.status)}</b>{error}",
             f"Seed: {plain(record.seed)} · request {plain(record.request_id)}"]
    if took(record):
        lines.append(f"Took: {took(record)}")
    if record.removed:
        lines.append(f"{plain(record.removed.capitalize())}; Remix still puts its settings "
                     "back.")
    lines.append("Settings:")
    return "".join(f"<p>{line}</p>" for line in lines) + settings_list(record)


def cards_html(records: list[JobRecord], team: bool = False) -> str:
    """The jobs as cards, for a narrow screen: a thumbnail (the video's first frame, loaded
    only where the cards show: CARDS_JS), mode, model, prompt, date and status. Every value
    from a person or from fal goes in escaped; job ids are our own hex."""
    if not records:
        return '<p class="job-cards-empty">No jobs yet: what you generate lands here.</p>'
    cards = []
    for r in records:
        thumb = (f'<video data-src="{video_src(r.id)}#t=0.1" '
                 'preload="metadata" muted playsinline></video>' if r.video and not r.removed
                 else f'<div class="no-video">{plain(r.status)}</div>')
        by = f"{plain(r.owner_name or 'you')} · " if team else ""
        status = f"{r.status}, {r.removed}" if r.removed else r.status
        cards.append(
            f'<div class="job-card" data-job="{r.id}" role="button" tabindex="0">{thumb}'
            f'<div><b>{catalog.MODES.get(r.mode, plain(r.mode))}</b> · {plain(r.version)}'
            f' · {plain(status)}<br><span class="as-typed">{plain(prompt_of(r)[:120])}</span>'
            f"<br><small>{by}{when(r)}</small></div></div>")
    return "".join(cards)


# A card picked (a tap, or Enter on one) selects its job, as a table row does. Thumbnails
# load only while the cards show (a narrow screen): on a laptop, where the table shows,
# not one byte of video is fetched for them.
CARDS_JS = """
const narrow = window.matchMedia('(max-width: 640px)');
const thumbs = () => {
  if (!narrow.matches) return;
  for (const v of element.querySelectorAll('video[data-src]')) {
    v.src = v.dataset.src;
    v.removeAttribute('data-src');
  }
};
const pick = e => {
  const card = e.target.closest('[data-job]');
  if (card && (e.type === 'click' || e.key === 'Enter')) trigger('select', {job: card.dataset.job});
};
element.addEventListener('click', pick);
element.addEventListener('keydown', pick);
narrow.addEventListener('change', thumbs);
watch('value', thumbs);
thumbs();
"""


def page_url(request: gr.Request) -> str:
    """This page's address as the person sees it: behind a Space's proxy, through a
    `--share` tunnel or on localhost alike (taken from the request, not a setting)."""
    raw = request.request
    path = raw.url.path
    return get_root_url(raw, path[path.find(API_PREFIX):], None) + "/"


class HistoryTab:
    def __init__(self, app: Playground, tabs: gr.Tabs, mode_tabs: dict[str, ModeTab],
                 visitor: gr.BrowserState) -> None:
        self.app = app
        self.tabs = tabs
        self.mode_tabs = mode_tabs
        self.visitor = visitor
        self.team = app.settings.team_history
        self.columns = (["Who"] if self.team else []) + COLUMNS

    def build(self) -> None:
        with gr.Tab("History", id="history") as tab:
            with gr.Row():
                refresh = gr.Button("Refresh", size="sm", scale=0)
                gr.Markdown("Your jobs land here, even if their page was closed; only you "
                            "see them. Click a row." if not self.team else
                            "Your team's jobs land here, even if their page was closed. "
                            "Click a row.")
            self.spend = text_view("", label="Spend", elem_id="history-spend")
            self.table = gr.Dataframe(headers=self.columns, value=[], interactive=False,
                                      label="Jobs", show_label=False, wrap=True,
                                      max_height=420, elem_id="history-table")
            # The same jobs as cards, shown instead of the table on a narrow screen (CSS).
            self.cards = gr.HTML(cards_html([]), js_on_load=CARDS_JS, label="Jobs as cards",
                                 elem_id="history-cards", elem_classes=["job-cards"])
            self.timer = gr.Timer(TICK, active=False)
            self.selected = gr.State(None)
            with gr.Row(equal_height=False):
                self.video = gr.Video(label="Selected job", interactive=False, scale=3,
                                      buttons=["download"], elem_id="history-video")
                with gr.Column(scale=2):
                    self.details = text_view("", elem_id="history-details")
                    remix = gr.Button("Remix: load these settings into their tab",
                                      variant="primary", elem_id="history-remix")
                    with gr.Row():
                        share = gr.Button("Copy share link", size="sm",
                                          elem_id="history-share")
                        revoke = gr.Button("Revoke share link", size="sm", variant="stop",
                                           elem_id="history-revoke")
                    self.share_url = gr.Textbox(label="Share link: anyone who has it can "
                                                "watch this job and remix it",
                                                interactive=False, buttons=["copy"],
                                                elem_id="history-share-url")
                    self.code = HistoryCode(self)
                    self.code.build()
        shown = [self.selected, self.video, self.details, self.share_url]
        inputs = [self.visitor]
        listed = [self.table, self.cards, self.timer, self.spend]
        tab.select(self.rows, inputs, listed, api_visibility="private", queue=False)
        self.timer.tick(self.rows, inputs, listed, api_visibility="private", queue=False)
        refresh.click(self.own_rows, inputs, self.table, api_name="history", queue=False)
        refresh.click(self.own_spend, inputs, self.spend, api_name="spend", queue=False)
        self.table.select(self.show, inputs, shown, api_visibility="private")
        self.cards.select(self.show, inputs, shown, api_visibility="private")
        # Below the cards on a phone: the picked job is scrolled to, at once.
        self.cards.select(None, None, None, js="() => document.querySelector("
                          "'#history-video')?.scrollIntoView({block: 'start'})")
        remix.click(self.remix, [self.selected, *inputs],
                    self.remix_outputs(), api_visibility="private")
        share.click(self.share, [self.selected, *inputs], self.share_url,
                    api_visibility="private", queue=False).success(
            None, [self.share_url], None,
            js="(url) => { if (url) navigator.clipboard?.writeText(url).catch(() => {}); }")
        # Queued: only a queued event can show an info toast.
        revoke.click(self.revoke, [self.selected, *inputs], self.share_url,
                     api_visibility="private")
        self.code.wire()

    def remix_outputs(self) -> list[Any]:
        """The Tabs, then each mode tab's `pending`: a Remix's outputs."""
        return [self.tabs, *(t.pending for t in self.mode_tabs.values())]

    # -- the table -----------------------------------------------------------------

    def records(self, identity: Identity) -> list[JobRecord]:
        return self.app.history.seen_by(identity, team=self.team, limit=200)

    def table_rows(self, records: list[JobRecord]) -> list[list[Any]]:
        table = []
        for r in records:
            status = f"{r.status}, {r.removed}" if r.removed else r.status
            who_made = [r.owner_name or ("you" if r.owner else "")] if self.team else []
            table.append([*who_made, when(r), catalog.MODES.get(r.mode, r.mode), r.version,
                          status, prompt_of(r)[:80], r.seed, r.request_id or "", r.id])
        return table

    def own_rows(self, visitor: Any = None, request: gr.Request | None = None,
                 profile: gr.OAuthProfile | None = None) -> list[list[Any]]:
        """The table as the API gives it: the caller's jobs only."""
        return self.table_rows(self.records(who(self.app, request, profile, visitor)))

    def spend_html(self, identity: Identity) -> str:
        """The person's own spend (a team's history shows others' jobs, never their spend)."""
        now = time.time()
        charges = self.app.history.charges(spend.month_start(now), owner=identity.owner)
        line = spend_line(spend.summarise(charges, now), self.app.jobs.budgets)
        # fal's own figures are the account's, all keys: for logged-in people only (a
        # team), never for anonymous visitors of a public Space.
        return line + self.app.fal_usage.line() if identity.logged_in else line

    def own_spend(self, visitor: Any = None, request: gr.Request | None = None,
                  profile: gr.OAuthProfile | None = None) -> str:
        return self.spend_html(who(self.app, request, profile, visitor))

    def rows(self, visitor: Any, request: gr.Request, profile: gr.OAuthProfile | None
             ) -> tuple[Any, ...]:
        """The table, its cards and the spend, refreshed every few seconds while a job in
        it runs."""
        identity = who(self.app, request, profile, visitor)
        records = self.records(identity)
        running = any(r.status in UNFINISHED for r in records)
        return (self.table_rows(records), cards_html(records, self.team),
                gr.Timer(active=running), self.spend_html(identity))

    # -- one job ---------------------------------------------------------------------

    def _visible(self, job_id: Any, identity: Identity) -> JobRecord | None:
        record = self.app.history.get(job_id) if isinstance(job_id, str) else None
        if record is None or not may_see(identity, record.owner, team=self.team):
            return None
        return record

    def _video(self, record: JobRecord) -> Video | None:
        path = self.app.settings.data_dir / record.video if record.video else None
        return Video.of(path) if path and path.is_file() else None

    async def follow(self, job_id: Any, identity: Identity) -> AsyncIterator[tuple[Any, ...]]:
        """(job id, video, details, share link) of one of the person's jobs, then, while
        it runs, as it moves."""
        record = self._visible(job_id, identity)
        if record is None:  # someone else's, or none: the same answer
            yield None, None, "<p>No such job in your history.</p>", ""
            return
        token = self.app.history.share_of(record.id) if record.owner == identity.owner else None
        link = "" if token is None else "(a share link is live: Copy share link shows it)"
        yield record.id, self._video(record), describe(record), link
        if record.status not in UNFINISHED:  # running on any replica: followed live
            return
        view = View()
        async for batch in batched(self.app.jobs.follow(record.id)):
            for event in batch:
                view.apply(event)
            yield gr.skip(), Video.of(view.video), describe(record, view.status_line()), \
                gr.skip()
        record = self.app.history.get(record.id) or record
        yield gr.skip(), self._video(record), describe(record), gr.skip()

    async def show(self, evt: gr.EventData, visitor: Any, request: gr.Request,
                   profile: gr.OAuthProfile | None) -> AsyncIterator[tuple[Any, ...]]:
        """A row or a card picked: its job (whose id the page says, so it is checked)."""
        identity = who(self.app, request, profile, visitor)
        data = evt._data if isinstance(evt._data, dict) else {}
        row = data.get("row_value")
        job_id = row[-1] if isinstance(row, list) and row else data.get("job")
        async for update in self.follow(job_id, identity):
            yield update

    async def arrive(self, visitor: Any, request: gr.Request, profile: gr.OAuthProfile | None
                     ) -> AsyncIterator[tuple[Any, ...]]:
        """The table, filled once the page says who it is; with `?job=<id>`, that job, open."""
        identity = who(self.app, request, profile, visitor)
        records = self.records(identity)
        running = any(r.status in UNFINISHED for r in records)
        job_id = request.query_params.get("job") if request else None
        tabs = gr.Tabs(selected="history") if job_id else gr.skip()
        first = (tabs, self.table_rows(records), cards_html(records, self.team),
                 gr.Timer(active=running), self.spend_html(identity))
        if not job_id:
            yield *first, *[gr.skip()] * 4
            return
        async for update in self.follow(job_id, identity):
            yield *first, *update
            first = (gr.skip(),) * len(first)

    def outputs_on_arrival(self) -> list[Any]:
        return [self.tabs, self.table, self.cards, self.timer, self.spend, self.selected,
                self.video,
                self.details, self.share_url]

    # -- remix and share ---------------------------------------------------------------

    def remix_updates(self, record: JobRecord, request: gr.Request) -> list[Any]:
        """`record`'s tab opened (which builds it if need be) with its settings in the
        form."""
        updates: list[Any] = [gr.Tabs(selected=record.mode)]
        for mode, mode_tab in self.mode_tabs.items():
            if mode == record.mode:
                pending = mode_tab.pending_form(record)
                hand_over(self.app, request, pending["form"])
                updates.append(pending)
            else:
                updates.append(gr.skip())
        return updates

    def remix(self, job_id: Any, visitor: Any, request: gr.Request,
              profile: gr.OAuthProfile | None) -> list[Any]:
        record = self._visible(job_id, who(self.app, request, profile, visitor))
        if record is None:
            raise gr.Error("Pick a job in the table first.", print_exception=False)
        return self.remix_updates(record, request)

    def _own(self, job_id: Any, visitor: Any, request: gr.Request, profile: Any) -> JobRecord:
        identity = who(self.app, request, profile, visitor)
        record = self._visible(job_id, identity)
        if record is None:
            raise gr.Error("Pick a job in the table first.", print_exception=False)
        if record.owner != identity.owner:
            raise gr.Error("Only the person who made a job can share it.",
                           print_exception=False)
        return record

    def share(self, job_id: Any, visitor: Any, request: gr.Request,
              profile: gr.OAuthProfile | None) -> str:
        record = self._own(job_id, visitor, request, profile)
        if record.status != "done" or self._video(record) is None:
            raise gr.Error("Only a finished job with its video can be shared.",
                           print_exception=False)
        token = self.app.history.share(record.id, secrets.token_urlsafe(24))
        return f"{page_url(request)}?share={token}"

    def revoke(self, job_id: Any, visitor: Any, request: gr.Request,
               profile: gr.OAuthProfile | None) -> str:
        record = self._own(job_id, visitor, request, profile)
        if not self.app.history.revoke(record.id):
            gr.Info("This job had no live share link.")
        else:
            gr.Info("Share link revoked: whoever opens it now reads that it was revoked.")
        return ""
