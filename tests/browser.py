"""A real browser for tests: the machine's own Chromium, driven by Playwright's async API.

Never a browser Playwright downloads: `.ci/run` installs Debian's `chromium`, and the tests that
need it skip (saying why) where it or the `playwright` package is missing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",  # root in CI, and no user namespaces to spare
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # nothing leaves the machine but the page's requests
    "--disable-component-update",
    "--disable-sync",
]


def why_no_browser() -> str | None:
    """Why these tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return f"no {CHROMIUM}: install Debian's `chromium` (.ci/run does)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "the `playwright` package is missing: pip install -e '.[test]'"
    return None


@asynccontextmanager
async def chromium(profile: Path) -> AsyncIterator[BrowserContext]:
    """Chromium on a fresh profile (`profile`, a new folder), skipping the test where there is
    none; closed on the way out."""
    reason = why_no_browser()
    if reason:
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    profile.mkdir()
    async with async_playwright() as driver:
        context = await driver.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            await context.close()
