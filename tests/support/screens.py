"""Checks every page screenshot test makes, then the screenshot itself.

The checks always run; the PNGs are written only for a human who asked for them
(``JOBDASH_SCREENSHOTS=DIR``): full-page captures are a large share of these tests' time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from support.accessibility import assert_accessible
from support.browser import engine_of


def layouts(height: int = 900) -> dict[str, dict[str, Any]]:
    """The layouts every page is checked in, as browser-context options: 1280 px light and
    dark, and a 390 px phone (touch, 2x)."""
    return {
        "1280-light": {"viewport": {"width": 1280, "height": height}, "color_scheme": "light"},
        "1280-dark": {"viewport": {"width": 1280, "height": height}, "color_scheme": "dark"},
        "390-phone": {
            "viewport": {"width": 390, "height": 844},
            "color_scheme": "light",
            "device_scale_factor": 2,
            "is_mobile": True,
            "has_touch": True,
        },
    }


def layout_params() -> list[Any]:
    """The layouts as test parameters: 1280-light in every engine; dark and the phone in
    Chromium only — the same CSS rules (a colour-scheme query, the narrow layout) in every
    engine, and WebKit's screens check all three too — since each Firefox context costs a
    second or two."""
    chromium = pytest.mark.engines("chromium")
    return [name if name == "1280-light" else pytest.param(name, marks=chromium) for name in layouts()]


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
