"""Gradio inputs that leave judging a value to the request builder.

Gradio's own checks (a radio value outside its choices, a number that is
text, an image Pillow cannot open) fail before our handler runs, with
messages that do not say which field is wrong. A lenient widget passes such
values through, so the builder refuses them with the field's name, for free.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr
from gradio.utils import get_upload_folder

log = logging.getLogger(__name__)

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


MEDIA = (gr.Image, gr.Gallery, gr.Video)


def name_refused_files(demo: gr.Blocks) -> None:
    """Gradio's own refusal of a file value reaches the page with no message at all: a
    path outside its upload folder, or a bare string where a file goes, fails before any
    handler runs. This says which field it was and what to do."""
    original = demo.preprocess_data
    upload_dir = Path(get_upload_folder()).resolve()

    async def preprocess_data(block_fn: Any, inputs: list[Any], *args: Any, **kwargs: Any
                              ) -> Any:
        try:
            return await original(block_fn, inputs, *args, **kwargs)
        except gr.Error:
            raise
        except ValueError:
            for block, value in zip(block_fn.inputs, inputs, strict=False):
                if isinstance(block, MEDIA) and not _uploaded(value, upload_dir):
                    log.info("refused %s: a file value that is not an upload", block.label)
                    raise gr.Error(f"{block.label}: this file was not uploaded to this page "
                                   "(only files uploaded here can be used); upload it again.",
                                   title="Check the form", print_exception=False) from None
            raise

    demo.preprocess_data = preprocess_data  # type: ignore[method-assign]


def _uploaded(value: Any, upload_dir: Path) -> bool:
    """Whether every file in a value is a file dict naming Gradio's upload folder."""
    if value is None:
        return True
    if isinstance(value, list):
        return all(_uploaded(item, upload_dir) for item in value)
    if not isinstance(value, dict):
        return False  # a bare path string
    if "path" not in value:  # a gallery item or a video value: the file is inside
        return all(_uploaded(v, upload_dir) for k, v in value.items() if k != "caption")
    path = value.get("path")
    return (isinstance(path, str) and value.get("meta") is not None
            and Path(path).resolve().is_relative_to(upload_dir))
