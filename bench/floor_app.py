"""Gradio's own floor for the crowd: the text-to-video tab's event (its inputs, outputs,
settings and updates: sending, running, done with a video) with no work at all, each
job only sleeping as long as the fake's.

    python bench/floor_app.py --port P --video V.mp4 --job-seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import gradio as gr

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=7860)
parser.add_argument("--video", type=Path, required=True)
parser.add_argument("--job-seconds", type=float, default=5.0)
args = parser.parse_args()


async def run(*_: Any) -> AsyncIterator[tuple[Any, ...]]:
    yield "job", "Sending to fal", "", None, "", {}
    await asyncio.sleep(0.05)
    yield "job", "Running", "", None, "", {}
    await asyncio.sleep(args.job_seconds)
    video = gr.FileData(path=str(args.video), orig_name=args.video.name)
    yield "job", "Done", "", video, "request · seed", {}


with gr.Blocks() as demo:
    inputs = [gr.Radio(["v2.2"], value="v2.2"), gr.Textbox(), gr.Textbox(), gr.Radio(["16:9"]),
              gr.Radio(["720p"]), gr.Radio(["5"]), gr.Textbox(), gr.State(None)]
    outputs = [gr.State(None), gr.HTML(), gr.Textbox(), gr.Video(), gr.HTML(),
               gr.State({})]
    gr.Button("Generate").click(run, inputs, outputs, api_name="text_to_video",
                                postprocess=False)
    gr.Button("History").click(list, None, gr.JSON(), api_name="history")

demo.queue(default_concurrency_limit=None)
demo.launch(server_name="127.0.0.1", server_port=args.port, max_threads=256,
            allowed_paths=[str(args.video.parent)])
