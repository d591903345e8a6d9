"""Gradio inputs that leave judging a value to the request builder.

Gradio's own checks (a radio value outside its choices, a number that is
text, an image Pillow cannot open) fail before our handler runs, with
messages that do not say which field is wrong. A lenient widget passes such
values through, so the builder refuses them with the field's name, for free.
"""

from __future__ import annotations

from typing import Any, TypeVar

import gradio as gr

W = TypeVar("W", bound=gr.components.Component)


def lenient(widget: W) -> W:
    # Per instance, not a subclass: Gradio writes a .pyi file beside every subclass.
    strict = widget.preprocess

    def preprocess(payload: Any) -> Any:
        try:
            return strict(payload)
        except Exception:  # the raw value goes on to a check that names the field
            return getattr(payload, "path", None) or payload

    widget.preprocess = preprocess  # type: ignore[method-assign]
    return widget
