"""The start-up baseline: a bare Gradio Blocks app, launched the way the playground is."""

from __future__ import annotations

import argparse

import gradio as gr

with gr.Blocks() as demo:
    box = gr.Textbox()
    gr.Button("Go", elem_id="go").click(lambda s: s, box, box)

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=7860)
    args = parser.parse_args()
    demo.launch(server_name="127.0.0.1", server_port=args.port)
