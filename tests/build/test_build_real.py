"""The real frontend (./frontend) builds, and its pages run under their CSP when served
by `jobdash serve`'s app. Skipped until the dashboard's entry module exists."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest
from test_build_browser import RECORD_VIOLATIONS

from jobdash.build import build
from jobdash.build.hashing import csp_hash
from jobdash.http.app import create_app
from jobdash.http.settings import ServerSettings
from jobdash.model.states import STATUSES
from support.frontend_tree import csp_of, importmap_of, preloads_of, read_tree
from support.served_app import serving

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"

pytestmark = pytest.mark.skipif(
    not (FRONTEND / "js" / "pages" / "index.js").is_file(), reason="frontend/js/pages/index.js not written yet"
)


@pytest.fixture(scope="module")
def real_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(FRONTEND, tmp_path_factory.mktemp("real") / "dist").out


def test_every_page_is_complete(real_dist: Path) -> None:
    files = read_tree(real_dist)
    manifest = json.loads(files["manifest.json"])
    modules = sorted(p.relative_to(FRONTEND).as_posix() for p in (FRONTEND / "js").rglob("*.js"))
    assert [name for name in manifest if name.startswith("js/")] == modules
    pages = sorted(p.name for p in (FRONTEND / "templates").glob("*.html") if not p.name.startswith("_"))
    assert pages and all(page in files for page in pages)
    for page in pages:
        html = files[page].decode()
        text, importmap = importmap_of(html)
        assert csp_hash(text) in csp_of(html) and "unsafe" not in csp_of(html)
        assert set(importmap["imports"].values()) == {f"./{manifest[m]}" for m in modules}
        assert f"./{manifest['js/pages/' + page.replace('.html', '.js')]}" in preloads_of(html)
        for url in preloads_of(html):
            assert url.removeprefix("./") in files
    for name, data in files.items():
        if name.endswith((".html", ".js", ".css", ".json", ".svg")):
            assert gzip.decompress(files[name + ".gz"]) == data


def test_job_types_are_not_frozen_into_the_dashboard(real_dist: Path) -> None:
    """The type filter gets its options from GET /api/job-types at run time (plugins add
    types at any time); the statuses stay build-time."""
    html = (real_dist / "index.html").read_text()
    select = re.search(r'<select id="filter-type" name="type">(.*?)</select>', html, re.S)
    assert select is not None
    assert re.findall(r'<option value="([^"]*)">', select.group(1)) == [""]
    statuses = re.search(r'<select id="filter-status" name="status">(.*?)</select>', html, re.S)
    assert statuses is not None
    assert re.findall(r'<option value="([^"]*)">', statuses.group(1)) == ["", *STATUSES]


def test_the_real_build_is_deterministic(real_dist: Path, tmp_path: Path) -> None:
    assert read_tree(build(FRONTEND, tmp_path / "again").out) == read_tree(real_dist)


@pytest.mark.browser
def test_the_dashboard_runs_under_its_csp(page: Any, real_dist: Path, tmp_path: Path) -> None:
    app = create_app(ServerSettings(data_dir=tmp_path, dist=real_dist))
    job = app.state.store.create("/media/<img src=x onerror=alert(1)>.mkv", "scan")
    try:
        with serving(app) as served:
            page.add_init_script(RECORD_VIOLATIONS)
            page.goto(served.url("/"))
            page.wait_for_selector('#connection-status[data-state="live"]', state="attached", timeout=15_000)
            page.wait_for_selector(f'tr[data-job-id="{job["id"]}"]', timeout=15_000)
            assert page.evaluate("window.__cspViolations") == []
            # Leave the page before the server stops: its next poll would be refused.
            page.goto("about:blank")
    finally:
        app.state.store.close()
