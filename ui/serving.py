"""Serving until asked to stop: SIGTERM (`docker stop`, a Space restarting) works as Ctrl-C.

Gradio's `launch()` blocks until KeyboardInterrupt and leaves SIGTERM alone. Outside a
container SIGTERM therefore killed the app at once; as a container's PID 1, which the
kernel spares every default signal action, it did nothing, and `docker stop` killed the
app 10 s later (exit 137). Ctrl-C took over 5 s while a page followed a job: uvicorn
waits for open connections to end, and Gradio gives up on its server thread after 5 s.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from typing import Any

import gradio as gr
from gradio.tunneling import CURRENT_TUNNELS

from playground.jobs import JobManager

log = logging.getLogger(__name__)
# Seconds for the pages following a job to hear their last update before the server stops
# (milliseconds, unless the machine is very busy); then for open requests to end.
GRACE = 0.5


def serve(demo: gr.Blocks, jobs: JobManager, **launch: Any) -> None:
    """Launches the app and serves until SIGTERM or SIGINT, then stops within about 1 s.

    Jobs that fal has accepted stay unfinished in the history and are followed again at
    the next start; a job cut off mid-submit is recorded as "may have been queued"."""
    asked = threading.Event()
    loops: list[asyncio.AbstractEventLoop] = []

    def ask_to_stop(signum: int, _frame: object) -> None:
        log.info("%s received: stopping", signal.Signals(signum).name)
        asked.set()

    async def note_loop() -> None:
        loops.append(asyncio.get_running_loop())

    # Before launching, so that a stop asked for during start-up is not lost.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, ask_to_stop)
    demo.extra_startup_events.append(note_loop)  # run by launch(), on the server's loop
    demo.launch(prevent_thread_lock=True, **launch)
    demo.server.config.timeout_graceful_shutdown = GRACE
    asked.wait()
    started = time.monotonic()
    if loops:
        try:
            asyncio.run_coroutine_threadsafe(_wind_down(demo, jobs), loops[0]
                                             ).result(GRACE + 1)
        except TimeoutError:
            log.warning("the pages following jobs were not let go within %.1f s", GRACE + 1)
    # Stops Gradio's queue and the server. As the server's event loop ends, asyncio cancels
    # the job tasks still running, and each is recorded as far as it got.
    demo.close(verbose=False)
    for tunnel in CURRENT_TUNNELS:  # --share: as Gradio does on Ctrl-C
        tunnel.kill()
    log.info("Stopped in %.1f s; %d job(s) at fal will be followed again at the next start",
             time.monotonic() - started, len(jobs.resumable()))


async def _wind_down(demo: gr.Blocks, jobs: JobManager) -> None:
    jobs.close()
    deadline = time.monotonic() + GRACE
    while _pages_waiting(demo) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


def _pages_waiting(demo: gr.Blocks) -> bool:
    """Whether a page has yet to hear that its event ended. Once Gradio's queue is closed
    its streams no longer pass that on, so a page's stream would stay open until the
    server cuts it, with a traceback in the log. (Gradio 6 keeps the events a page waits
    for in `_queue.pending_event_ids_session`.)"""
    pending = getattr(demo._queue, "pending_event_ids_session", {})
    return any(pending.values())
