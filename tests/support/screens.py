"""Checks every page screenshot test makes, then the screenshot itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.browser import engine_of


def check_layout(page: Any, shots: Path, filename: str, scheme: str, badges: str) -> None:
    """Assert the page does not scroll sideways, every badge matched by ``badges`` has
    text (colour is never the only signal), and the background suits ``scheme``; then
    save a full-page screenshot as ``shots/<engine>-filename``."""
    filename = f"{engine_of(page)}-{filename}"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{filename}: the page scrolls sideways by {overflow} px"
    for badge in page.locator(badges).all():
        assert badge.inner_text().strip(), "a status badge without text"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    channels = [int(part) for part in background[background.index("(") + 1 : -1].split(",")[:3]]
    assert (sum(channels) < 150) is (scheme == "dark"), f"{filename}: body background {background}"
    page.screenshot(path=str(shots / filename), full_page=True)
