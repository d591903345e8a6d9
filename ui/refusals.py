"""How a refused run is said: one line where the person looks (a tab's status line), the
field outlined, and for an API caller an error the page does not toast."""

from __future__ import annotations

import gradio as gr

from ui.text import plain

PROBLEM = "has-problem"  # a widget, or a status line, saying what is wrong (ui/app.py CSS)


def refusal_line(title: str, message: str) -> str:
    return f'<span class="{PROBLEM}"><b>{plain(title)}</b>: {plain(message)}</span>'


def quiet_error(message: str, title: str) -> gr.Error:
    """What an API caller gets for a refusal; the page shows the status line instead: a
    toast would repeat it, pile up behind later ones, and Gradio would badge every output
    "Error" while the status line spoke."""
    return gr.Error(plain(message), title=title, visible=False, print_exception=False)
