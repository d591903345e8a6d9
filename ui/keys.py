"""A fal key pasted in the page: held in this session's server-side state, never echoed.

The state holds the key with the person who pasted it (ui/identity.py): a session id is
not a secret worth a fal key, so whoever else presents it gets no use of the key.
"""

from __future__ import annotations

import re
from typing import Any

import gradio as gr

from playground.errors import InputError
from playground.identity import Identity
from playground.service import Playground
from ui.identity import who

_KEY_SHAPE = re.compile(r"^[\w.-]{6,}(:[\w.-]{6,})?$")
# A pasted key is dropped this long after it was pasted, or an hour after its page closed
# (Gradio's own rule for closed sessions), whichever comes first.
KEY_HOURS = 8


def key_for(state: Any, identity: Identity) -> str | None:
    """The session's pasted key, if the person asking now is the one who pasted it."""
    if not isinstance(state, dict) or not state.get("key"):
        return None
    if state.get("owner") != identity.owner:
        raise InputError("fal key", "the key in this session was pasted by someone else "
                                    "(another login or browser). Paste your own key.")
    return state["key"]


def _where_jobs_go(app: Playground, has_own: bool) -> str:
    if has_own:
        return "Your key is set for this session only. Jobs from this tab go to fal on it."
    if app.server_key_allowed():
        return "Jobs go to fal on the server's key. Paste your own to use it instead."
    if app.settings.server_key:
        return ("This server does not lend its key to visitors: paste your own fal key to "
                "generate. Until then you get free local previews.")
    return ("**Offline demo**: no fal key, so every run renders a local preview (not Pika). "
            "Paste a fal key to generate for real.")


def _headline(app: Playground, has_own: bool) -> str:
    """The folded section's label: where the next job goes, without opening it."""
    if has_own:
        return "fal key · yours, for this session"
    if app.server_key_allowed():
        return "fal key · jobs run on the server's key"
    if app.settings.server_key:
        return "fal key · paste yours to generate (until then: free local previews)"
    return "fal key · offline demo: free local previews until you paste a key"


def build_key_section(app: Playground, visitor: gr.BrowserState) -> gr.State:
    key_state = gr.State(None, time_to_live=KEY_HOURS * 3600)
    # Folded unless a key is what this visitor must do first: the forms come first.
    needs_own = bool(app.settings.server_key) and not app.server_key_allowed()
    with gr.Accordion(_headline(app, False), open=needs_own, elem_id="fal-key-section"
                      ) as section:
        with gr.Row():
            box = gr.Textbox(type="password", label="Your fal key", scale=4,
                             placeholder="key-id:key-secret (kept on the server for this "
                                         "session only)", elem_id="fal-key")
            use = gr.Button("Use this key", scale=1, elem_id="fal-key-use")
            forget = gr.Button("Forget my key", scale=1)
        status = gr.Markdown(_where_jobs_go(app, False), elem_id="fal-key-status")

    def set_key(key: str, visitor_id: Any, held: Any, request: gr.Request,
                profile: gr.OAuthProfile | None) -> tuple[Any, ...]:
        key = (key or "").strip()
        if not _KEY_SHAPE.match(key):
            # Said here, in the key section: this event is not queued, and Gradio answers
            # an error raised outside the queue with a bare HTTP 500 the page never shows.
            # The box is emptied: a mistyped key may still be most of a secret.
            before = ("The key you set before is still in use." if isinstance(held, dict)
                      and held.get("key") else "No key was kept.")
            return gr.skip(), "", ("**That does not look like a fal key** (key-id:key-secret):"
                                   f" copy it again from fal's dashboard. {before}"), gr.skip()
        owner = who(app, request, profile, visitor_id).owner
        return ({"key": key, "owner": owner}, "", _where_jobs_go(app, True),
                gr.Accordion(label=_headline(app, True)))

    def forget_key() -> tuple[None, str, str, Any]:
        return None, "", _where_jobs_go(app, False), gr.Accordion(label=_headline(app, False))

    # Private and outside the queue: the key is no API parameter and never comes back.
    for trigger in (use.click, box.submit):
        trigger(set_key, [box, visitor, key_state], [key_state, box, status, section],
                api_visibility="private", queue=False, show_progress="hidden")
    forget.click(forget_key, None, [key_state, box, status, section], api_visibility="private",
                 queue=False)
    return key_state
