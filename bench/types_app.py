"""The floor for the page's time to interactive: the bare app (bench/bare_app.py) plus one
component of each type the playground's page holds, and nothing else. Gradio's page loads
every type's script and styles before it draws anything, so no page holding these types
becomes clickable sooner than this one, however few of each it has.

    python bench/types_app.py --port P --types textbox,video,tabs,...
"""

from __future__ import annotations

import argparse
import contextlib

import gradio as gr
from gradio.components import get_component_instance

# Layouts, each with one child so the page draws it; "form" Gradio adds by itself.
LAYOUTS = {"row": gr.Row, "column": gr.Column, "group": gr.Group,
           "accordion": lambda: gr.Accordion("a", open=False)}
SKIPPED = {"form", "tabs", "tabitem"}

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=7860)
parser.add_argument("--types", default="")
args = parser.parse_args()
types = [t for t in args.types.split(",") if t]

with gr.Blocks() as demo:
    box = gr.Textbox()
    gr.Button("Go", elem_id="go").click(lambda s: s, box, box)
    tabbed = bool({"tabs", "tabitem"} & set(types))
    with gr.Tabs() if tabbed else contextlib.nullcontext():
        with gr.Tab("a") if tabbed else contextlib.nullcontext():
            for name in types:
                if name in LAYOUTS:
                    with LAYOUTS[name]():
                        gr.Textbox()
                elif name not in SKIPPED:
                    get_component_instance(name, render=True)
        if tabbed:
            with gr.Tab("b"):
                gr.Textbox()

if __name__ == "__main__":
    demo.launch(server_name="127.0.0.1", server_port=args.port)
