"""A closed "Code" accordion: the request as Python, JavaScript and cURL, each with a copy
button (playground/snippets.py writes them).

Each is a Markdown code block, highlighted, with the copy button Gradio gives every code
block: gr.Code would bring CodeMirror (380 KiB of script) into every page that holds
one, for text nobody edits.

In a mode tab it shows the form as it is when opened (or on "From the form"), or the
tab's last job as it was sent ("From the last job"); in the History, the selected job.
Nothing is computed until someone opens it or asks: no event on each keystroke, nothing
more in a run's page updates.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import gradio as gr

from playground import catalog, snippets
from playground.errors import InputError
from playground.history import JobRecord
from playground.requests import build_request
from ui.identity import who
from ui.text import plain, text_view
from ui.weight import on_first_open

if TYPE_CHECKING:
    from ui.history_tab import HistoryTab
    from ui.modes import ModeTab

LANGUAGES = (("python", "Python (fal-client)", "python"),
             ("javascript", "JavaScript (@fal-ai/client)", "javascript"),
             ("curl", "cURL (fal's queue API)", "shell"))


KEY_NOTE = "Each reads your key from <code>FAL_KEY</code>."


def code_block(label: str, language: str, text: str) -> str:
    """`text` as a Markdown code block under its label, shown exactly as it is: its fence
    is longer than any run of backticks in it (a prompt may hold some), and nothing inside
    a code block is read as Markdown or HTML. Nothing at all without text."""
    if not text:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"**{label}**\n\n{fence}{language}\n{text}\n{fence}"


class CodeView:
    """The accordion and its three code blocks; `show` fills them."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def build(self, before: Callable[[], None] = lambda: None) -> None:
        """`before` lays out what goes above the note and the code (buttons)."""
        with self.folded():
            before()
            self.contents()

    def folded(self) -> gr.Accordion:
        self.accordion = gr.Accordion("Code: this request in Python, JavaScript or cURL",
                                      open=False, elem_id=f"{self.prefix}-code")
        return self.accordion

    def contents(self, shown: list[Any] | None = None) -> None:
        """The note and the three blocks, holding `shown` (as `show` gives it)."""
        note, *texts = shown or ["", "", "", ""]
        self.note = text_view(note, elem_id=f"{self.prefix}-code-note")
        # No LaTeX: a `$` in a prompt is a dollar sign.
        self.blocks = {
            name: gr.Markdown(text, label=label, latex_delimiters=[],
                              elem_id=f"{self.prefix}-code-{name}")
            for (name, label, _), text in zip(LANGUAGES, texts, strict=True)}

    def outputs(self) -> list[Any]:
        return [self.note, *self.blocks.values()]

    @staticmethod
    def show(code: snippets.Snippets | None, note: str) -> list[Any]:
        """The note (HTML: every value from a person goes in through `plain`) and the
        three blocks, empty when there is no code to show."""
        texts = code.as_dict() if code else {}
        return [note, *(code_block(label, language, texts.get(name, ""))
                        for name, label, language in LANGUAGES)]


def _files_line(code: snippets.Snippets) -> str:
    if not code.local_files:
        return ""
    return (" It reads " + ", ".join(f"<code>{plain(name)}</code>" for name in code.local_files)
            + " from the folder it runs in: put the file there first (Python and "
              "JavaScript upload it to fal's storage; cURL sends it inline).")


def job_code(record: JobRecord) -> list[Any]:
    code = snippets.for_record(record)
    sent = "as it was sent" if record.request_id else "as it would be sent"
    note = (f"Job <code>{plain(record.id)}</code> ({plain(record.version)}, seed "
            f"{plain(record.seed)}), {sent}. {KEY_NOTE}"
            + _files_line(code))
    return CodeView.show(code, note)


class TabCode:
    """A mode tab's Code accordion: `build()` where it sits in the tab's layout, once the
    tab's widgets and states exist."""

    def __init__(self, tab: ModeTab) -> None:
        self.tab = tab
        self.view = CodeView(tab.mode)

    def build(self) -> None:
        # Folded until wanted: built for a page when it opens it (ui/weight.py), holding
        # the form's code as it is then, so a page that never does carries none of it.
        with self.view.folded():
            on_first_open(self.view.accordion, self.tab.inputs())(self._contents)

    def _contents(self, version: str, *values: Any) -> None:
        tab = self.tab
        with gr.Row():
            from_form = gr.Button("From the form", size="sm", elem_id=f"{tab.mode}-code-form")
            from_job = gr.Button("From the last job", size="sm",
                                 elem_id=f"{tab.mode}-code-job")
        self.view.contents(self.form_code(version, *values))
        outputs = self.view.outputs()
        from_form.click(self.form_code, tab.inputs(), outputs, api_visibility="private",
                        queue=False)
        from_job.click(self.last_job_code, [tab.job_id, tab.visitor], outputs,
                       api_visibility="private", queue=False)

    def form_code(self, version: str, *values: Any) -> list[Any]:
        tab = self.tab
        try:
            form = tab.form_values(version, list(values))
            request = build_request(catalog.lookup(tab.mode, version), form)
        except InputError as exc:
            return CodeView.show(None, f"Fix the form first: {plain(tab._explain(version, exc))}")
        code = snippets.for_request(request)
        given = form.get("seed") not in (None, "")
        seed = (f"seed {request.seed}" if given else
                f"seed {request.seed}, drawn now: the seed box is blank, and Generate draws "
                "its own")
        note = (f"The form as it was at {time.strftime('%H:%M:%S UTC', time.gmtime())} "
                f"({plain(version)}, {seed}): what Generate sends. {KEY_NOTE}"
                + _files_line(code))
        return CodeView.show(code, note)

    def last_job_code(self, job_id: str | None, visitor: Any, request: gr.Request,
                      profile: gr.OAuthProfile | None) -> list[Any]:
        record = self.tab.app.history.get(job_id) if job_id else None
        if record is None or record.owner != who(self.tab.app, request, profile,
                                                 visitor).owner:
            return CodeView.show(None, "No job has run in this tab yet: Generate one, or "
                                       "pick one in the History.")
        return job_code(record)


class HistoryCode:
    """The History's Code accordion, for the selected job. Hooks: `build()` under the
    job's details, `wire()` after the History's own events."""

    def __init__(self, history: HistoryTab) -> None:
        self.history = history
        self.view = CodeView("history")

    def build(self) -> None:
        self.view.build()

    def wire(self) -> None:
        inputs = [self.history.selected, self.history.visitor]
        # The selection changes as rows are clicked: stale code for another job would be
        # worse than none, so it follows the selection, open or not.
        gr.on([self.view.accordion.expand, self.history.selected.change],
              self.selected_code, inputs, self.view.outputs(), api_visibility="private",
              queue=False)

    def selected_code(self, job_id: Any, visitor: Any, request: gr.Request,
                      profile: gr.OAuthProfile | None) -> list[Any]:
        identity = who(self.history.app, request, profile, visitor)
        record = self.history._visible(job_id, identity)
        if record is None:
            return CodeView.show(None, "Pick a job in the table first.")
        return job_code(record)
