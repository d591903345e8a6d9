"""Debian's Chromium driven by Playwright (`playwright install` cannot download here)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         "--autoplay-policy=no-user-gesture-required"]

needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                    reason="chromium is not installed")


@contextmanager
def launched() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def playing(page: Any, selector: str, timeout: float = 90_000) -> str:
    """Waits until the video at `selector` is attached (within `timeout` ms) and has a
    frame to show; returns the URL it plays."""
    video = page.locator(selector)
    video.wait_for(state="attached", timeout=timeout)
    handle = video.element_handle()
    page.wait_for_function("v => v.readyState >= 2 && v.duration > 0", arg=handle,
                           timeout=30_000)
    return page.evaluate("v => v.currentSrc", handle)
