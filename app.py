"""Pika Playground: `demo` for Hugging Face Spaces; `pika-playground` on the command line."""

from __future__ import annotations

import argparse
import gc
import importlib.util
import logging
import os
import sys

# Gradio tries `import matplotlib` twice for every page update, and httpcore and anyio try
# `import sniffio` several times for every request. Where they are not installed, each try
# searches every directory on sys.path again (26 us, and a dozen stat calls that hand the
# GIL around under load). Recording them as absent makes those tries fail at once.
for _name in ("matplotlib", "sniffio"):
    if importlib.util.find_spec(_name) is None:
        sys.modules.setdefault(_name, None)  # type: ignore[arg-type]

if sys.argv[1:2] == ["catalog"]:  # a maintainer's command: no page to build for it
    from playground.livecatalog import main as catalog_main

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    sys.exit(catalog_main(sys.argv[2:]))

from playground.service import Playground  # noqa: E402
from playground.settings import Settings  # noqa: E402
from ui.app import CLOCK_JS, CSS, build_app  # noqa: E402
from ui.identity import browsers  # noqa: E402
from ui.serving import serve  # noqa: E402
from ui.uploads import own_uploads  # noqa: E402
from ui.videos import by_name  # noqa: E402
from ui.weight import compressed_pages  # noqa: E402

# `--mcp` must be known before the app is built (its tools are endpoints), and the app is
# built at import, where Spaces take `demo` from: it is read here as PIKA_MCP would be.
launched = __name__ == "__main__" or os.path.basename(sys.argv[0]) == "pika-playground"
if launched and "--mcp" in sys.argv[1:]:
    os.environ["PIKA_MCP"] = "1"
settings = Settings.from_env()
demo = build_app(settings)
# What is built so far lives as long as the server: keep it out of every later collection.
# Each visitor's page adds a copy of the app's config, so full collections come often; when
# they rescanned the whole app they held the server still for 110-190 ms (13-70 ms now).
gc.freeze()


def launch_options(app: Playground) -> dict[str, object]:
    settings = app.settings
    return {
        "css": CSS,
        "js": CLOCK_JS,
        "auth": settings.auth or None,
        # Refused at the upload route, before a byte is kept; each kind's own (smaller)
        # limit is the job manager's. Gradio's "mb" is 1024 * 1024 bytes, as is ours.
        "max_file_size": f"{settings.max_upload_mb}mb",
        "footer_links": ["api"],
        # Gradio's MCP server at /gradio_api/mcp, one tool per mode (ui/mcp_tools.py).
        "mcp_server": settings.mcp,
        # Gradio runs at most `max_threads` events at once across the whole app (40 unless
        # told), even async ones that only wait on fal: the 41st person would wait for
        # someone else's video. The queue's max size is the real bound.
        "max_threads": settings.max_queue,
        # Every browser gets an id cookie; results go out by job id to their owner only,
        # never by their path here, and uploads to the browsers they were handed to
        # (ui/identity.py, ui/videos.py, ui/uploads.py).
        "app_kwargs": {"middleware": [browsers(), by_name(app), own_uploads(app),
                                      compressed_pages()]},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, epilog="pika-playground catalog --refresh | --diff: fal's live "
        "schemas for the Pika endpoints, fetched now or compared with the built-in catalog")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT",
                                                                       "7860")))
    parser.add_argument("--share", action="store_true", help="open a public gradio.live link")
    parser.add_argument("--mcp", action="store_true",
                        help="serve Gradio's MCP server with a tool per mode (or PIKA_MCP=1); "
                             "needs `pip install 'pika-playground[mcp]'`")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                                                   "%(message)s")
    # Whose key pays and where the history lives, said once: an offline demo where fal was
    # meant, or a history on a Space's throwaway disk, is otherwise found out too late.
    logging.getLogger("app").info("%s", settings.describe())
    serve(demo, demo.playground.jobs, server_name=args.host, server_port=args.port,
          share=args.share, **launch_options(demo.playground))


if __name__ == "__main__":
    main()
