"""What an API caller gets for a parameter they leave out: the handler's own default.

Gradio offers a widget's first value as the default of its API parameter. A
widget shared by a mode's versions starts with the first version's value
(v2.5's negative prompt), which is wrong for the others; a handler that
declares a default (None, "not given") lets the chosen version decide.
"""

from __future__ import annotations

import inspect
from typing import Any

import gradio as gr


def handler_defaults_win(demo: gr.Blocks) -> None:
    original = demo.get_api_info

    def get_api_info(*args: Any, **kwargs: Any) -> Any:
        info = original(*args, **kwargs)
        for fn in demo.fns.values():
            endpoint = info["named_endpoints"].get(f"/{fn.api_name}")
            if endpoint is None or fn.fn is None:
                continue
            declared = inspect.signature(fn.fn).parameters
            for parameter in endpoint["parameters"]:
                own = declared.get(parameter.get("parameter_name", ""))
                if own is not None and own.default is not inspect.Parameter.empty:
                    parameter["parameter_has_default"] = True
                    parameter["parameter_default"] = own.default
        return info

    demo.get_api_info = get_api_info  # type: ignore[method-assign]
