"""Checks every page screenshot test makes, then the screenshot itself.

The checks always run; the PNGs are written only for a human who asked for them
(``JOBDASH_SCREENSHOTS=DIR``): full-page captures are a large share of these tests' time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from support.accessibility import assert_accessible
from support.browser import engine_of


def screenshot_folder() -> Path | None:
    """The folder the screenshot tests write their PNGs to ($JOBDASH_SCREENSHOTS, created
    if needed), or None when nobody asked for them."""
    folder = os.environ.get("JOBDASH_SCREENSHOTS")
    if not folder:
        return None
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


def check_layout(page: Any, shots: Path | None, filename: str, scheme: str, badges: str) -> None:
    """Assert the page does not scroll sideways, every badge matched by ``badges`` has
    text (colour is never the only signal), the background suits ``scheme`` and axe-core
    finds nothing serious or critical; then save a full-page screenshot as
    ``shots/<engine>-filename`` (when ``shots`` is a folder: see :func:`screenshot_folder`)."""
    filename = f"{engine_of(page)}-{filename}"
    assert_layout(
        filename,
        page.evaluate("document.documentElement.scrollWidth - window.innerWidth"),
        [badge.inner_text() for badge in page.locator(badges).all()],
        page.evaluate("getComputedStyle(document.body).backgroundColor"),
        scheme,
    )
    assert_accessible(page, filename)
    if shots is not None:
        page.screenshot(path=str(shots / filename), full_page=True)


def assert_layout(filename: str, overflow: int, badge_texts: list[str], background: str, scheme: str) -> None:
    """The checks of :func:`check_layout`, on what a page reported: ``overflow`` (px
    scrolled sideways), the texts of its badges, and its body background colour."""
    assert overflow <= 0, f"{filename}: the page scrolls sideways by {overflow} px"
    assert all(text.strip() for text in badge_texts), f"{filename}: a status badge without text"
    channels = [int(part) for part in background[background.index("(") + 1 : -1].split(",")[:3]]
    assert (sum(channels) < 150) is (scheme == "dark"), f"{filename}: body background {background}"
