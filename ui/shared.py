"""What a share link opens: one job, read-only, for anyone holding the link.

The link is the page with `?share=<token>`. The view shows the video (served by token,
ui/videos.py), the mode, version, prompt, every setting, the seed and the date; nothing
else of the owner (no request id, no other job, no key). Remix copies the settings and
the inputs into the visitor's own form.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from playground import catalog
from playground.history import JobRecord
from playground.service import Playground
from ui.history_tab import HistoryTab, settings_list, when
from ui.text import plain, text_view
from ui.videos import Video

REVOKED = "<p><b>This share link was revoked by its owner.</b> Ask them for a new one.</p>"
UNKNOWN = "<p><b>No job is shared under this link.</b> Check that it was copied whole.</p>"


def describe_shared(record: JobRecord) -> str:
    lines = [f"<b>{catalog.MODES.get(record.mode, record.mode)}</b> · "
             f"{plain(record.version)} · {when(record)}",
             f"Seed: <b>{plain(record.seed)}</b>", "Settings:"]
    return "".join(f"<p>{line}</p>" for line in lines) + settings_list(record)


class SharedView:
    def __init__(self, app: Playground) -> None:
        self.app = app

    def build(self) -> None:
        with gr.Column(visible=False, elem_id="shared-view") as self.panel:
            gr.Markdown("## Shared with you")
            with gr.Row(equal_height=False):
                self.video = gr.Video(label="Shared job", interactive=False, scale=3,
                                      buttons=["download"], elem_id="shared-video")
                with gr.Column(scale=2):
                    self.details = text_view("", elem_id="shared-details")
                    self.remix_button = gr.Button("Remix: load these settings into your form",
                                                  variant="primary", elem_id="shared-remix",
                                                  visible=False)
        self.token = gr.State(None)

    def wire(self, history: HistoryTab) -> None:
        """Remix fills the form the way the History's Remix does."""
        self.history = history
        self.remix_button.click(self.remix, [self.token], history.remix_outputs(),
                                api_visibility="private")

    def outputs_on_arrival(self) -> list[Any]:
        return [self.panel, self.token, self.video, self.details, self.remix_button]

    def arrive(self, request: gr.Request) -> list[Any]:
        token = request.query_params.get("share") if request else None
        if not token:
            return [gr.skip()] * 5
        record, revoked = self.app.history.shared(str(token))
        if record is None or not record.video:
            text = REVOKED if revoked else UNKNOWN
            return [gr.Column(visible=True), None, None, text, gr.Button(visible=False)]
        return [gr.Column(visible=True), str(token), Video.shared(str(token)),
                describe_shared(record), gr.Button(visible=True)]

    def remix(self, token: Any, request: gr.Request) -> list[Any]:
        record, revoked = self.app.history.shared(token) if isinstance(token, str) else (
            None, False)
        if record is None:
            raise gr.Error("This share link was revoked by its owner." if revoked else
                           "No job is shared under this link.", print_exception=False)
        return self.history.remix_updates(record, request)
