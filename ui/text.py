"""People's words on a page, shown as they are: prompts, regions, fal's messages.

What a visitor typed, and what fal answered, reaches other people's pages too
(the History is shared), so none of it may become markup. Status lines, job
info and History details are `gr.HTML`, which interprets nothing but HTML:
no Markdown, no LaTeX, and its `${value}` template takes the value as data.
Escaping the characters HTML gives meaning to is then enough, and our own
words may still be bold. Toasts (`gr.Error`) also take HTML.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Gradio takes seconds to import; `plain` alone is wanted without it
    import gradio as gr

# Text as typed: its line breaks kept, and a long line with no spaces wrapped anywhere
# rather than widening the page.
CSS = ".as-typed { white-space: pre-wrap; overflow-wrap: anywhere; }"


def plain(text: object) -> str:
    """`text` as HTML that shows exactly that text (in element content, not attributes)."""
    return html.escape(str(text), quote=False)


def text_view(value: str = "", **kwargs: Any) -> gr.HTML:
    """An HTML view of our words around escaped ones. Its values must be built with `plain`."""
    import gradio as gr

    classes = ["as-typed", *kwargs.pop("elem_classes", [])]
    return gr.HTML(value, elem_classes=classes, js_on_load=None, **kwargs)
