"""The frontend build (build.py / jobdash.build) over a small fixture frontend.

The fixture has two pages, modules importing each other through relative specifiers
(including a subfolder, a dynamic import and an unused module), a stylesheet that
refers to an image, and a layout and a partial (tests/support/frontend_tree.py).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jobdash.build import BuildConfig, BuildError, build, config_from_values
from jobdash.build.csp import page_csp
from jobdash.build.hashing import csp_hash
from jobdash.model.list_query import SORTS
from jobdash.model.states import STATUSES
from support.frontend_tree import (
    ASSETS,
    MODULES,
    TEXT_SUFFIXES,
    csp_of,
    importmap_of,
    make_frontend,
    preloads_of,
    read_tree,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def frontend(tmp_path: Path) -> Path:
    return make_frontend(tmp_path / "frontend")


@pytest.fixture
def built(frontend: Path, tmp_path: Path) -> Path:
    out = tmp_path / "dist"
    build(frontend, out)
    return out


# --- output layout -------------------------------------------------------------------------


def test_build_writes_pages_hashed_modules_and_assets(built: Path) -> None:
    files = read_tree(built)
    assert "index.html" in files and "job.html" in files
    assert not any(name.startswith("_") for name in files), "layouts and partials are not pages"
    manifest = json.loads(files["manifest.json"])
    assert sorted(manifest) == sorted(MODULES + ASSETS), "manifest maps every module and asset"
    for logical, hashed in manifest.items():
        stem, suffix = logical.rsplit(".", 1)
        match = re.fullmatch(rf"assets/{re.escape(stem)}\.([0-9a-f]{{12}})\.{suffix}", hashed)
        assert match, (logical, hashed)
        assert hashlib.sha256(files[hashed]).hexdigest()[:12] == match.group(1), "hash of the bytes"
    shipped = {name for name in files if not name.endswith(".gz")}
    assert shipped == {"index.html", "job.html", "manifest.json", *manifest.values()}


def test_modules_went_through_esbuild(built: Path) -> None:
    manifest = json.loads((built / "manifest.json").read_text())
    clock = (built / manifest["js/util/clock.js"]).read_text()
    assert clock == "export const now = () => 42;\n"
    unused = (built / manifest["js/unused.js"]).read_text()
    assert "Not imported" not in unused, "esbuild's output drops comments"
    index = (built / manifest["js/pages/index.js"]).read_text()
    assert 'from "../format.js"' in index, "specifiers are left as written: the import map resolves them"


def test_gz_copies_decompress_to_the_originals(built: Path) -> None:
    files = read_tree(built)
    originals = [name for name in files if name.endswith(TEXT_SUFFIXES)]
    assert len(originals) == len(MODULES) + len(ASSETS) + 3
    for name in originals:
        compressed = files[name + ".gz"]
        assert gzip.decompress(compressed) == files[name], name
        # Deterministic header: no file name flag, mtime 0.
        assert compressed[3] & 0x08 == 0 and compressed[4:8] == b"\0\0\0\0", name


def test_pages_render_the_backend_vocabulary(built: Path) -> None:
    html = (built / "index.html").read_text()
    assert re.findall(r'<option value="([^"]+)">', html) == list(STATUSES)
    assert re.findall(r"<option>([^<]+)</option>", html) == list(SORTS)
    assert '<p id="limits">50/100</p>' in html
    assert '<span id="page-name">index</span>' in html


def test_body_carries_the_polling_config(built: Path) -> None:
    html = (built / "index.html").read_text()
    assert (
        '<body data-polling-interval="5000" data-polling-log-interval="15000" '
        'data-polling-enabled="true" data-polling-min-update-gap="1000" data-stall-after="120" data-api-base="" '
        'data-debug="false">'
    ) in html


# --- determinism ---------------------------------------------------------------------------


def test_build_is_deterministic(frontend: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    build(frontend, first)
    build(frontend, second)
    assert read_tree(first) == read_tree(second)
    # The same sources elsewhere, rebuilt in place: still the same bytes (no paths, no time).
    moved = tmp_path / "elsewhere" / "src"
    shutil.copytree(frontend, moved)
    build(moved, first)
    assert read_tree(first) == read_tree(second)


def test_a_change_rehashes_only_the_changed_module(frontend: Path, tmp_path: Path) -> None:
    before = json.loads((build(frontend, tmp_path / "a").out / "manifest.json").read_text())
    (frontend / "js/util/clock.js").write_text("export const now = () => 43;\n")
    after = json.loads((build(frontend, tmp_path / "b").out / "manifest.json").read_text())
    changed = sorted(name for name in before if before[name] != after[name])
    assert changed == ["js/util/clock.js"]


# --- import map, preloads, CSP ----------------------------------------------------------------


def test_import_map_maps_every_module_to_its_hashed_file(built: Path) -> None:
    manifest = json.loads((built / "manifest.json").read_text())
    _, importmap = importmap_of((built / "index.html").read_text())
    assert importmap == {"imports": {f"./assets/{m}": f"./{manifest[m]}" for m in MODULES}}
    assert importmap_of((built / "job.html").read_text())[1] == importmap


def test_modulepreload_links_are_the_static_import_closure(built: Path) -> None:
    manifest = json.loads((built / "manifest.json").read_text())

    def urls(*names: str) -> list[str]:
        return [f"./{manifest[name]}" for name in names]

    index = (built / "index.html").read_text()
    # Entry included; the dynamic import (lazy.js) and unused.js are not preloaded.
    assert preloads_of(index) == urls("js/format.js", "js/pages/index.js", "js/polling.js", "js/util/clock.js")
    assert f'<script type="module" src="./{manifest["js/pages/index.js"]}">' in index
    assert preloads_of((built / "job.html").read_text()) == urls("js/format.js", "js/pages/job.js")


def test_csp_meta_allows_exactly_the_import_map(built: Path) -> None:
    html = (built / "index.html").read_text()
    text, _ = importmap_of(html)
    csp = csp_of(html)
    assert csp == (
        f"default-src 'none'; script-src 'self' {csp_hash(text)}; style-src 'self'; "
        "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
        "manifest-src 'self'"
    )
    assert "unsafe" not in csp


def test_import_map_text_cannot_close_its_script(tmp_path: Path) -> None:
    # A module whose path contains "<" must not end the <script> element early.
    frontend = make_frontend(tmp_path / "src", **{"js__a<b.js": "export const x = 1;\n"})
    out = build(frontend, tmp_path / "out").out
    html = (out / "index.html").read_text()
    text, importmap = importmap_of(html)
    assert "<" not in text and "\\u003c" in text
    assert "./assets/js/a<b.js" in importmap["imports"]
    assert csp_hash(text) in csp_of(html)


def test_asset_and_api_origins(frontend: Path, tmp_path: Path) -> None:
    config, _ = config_from_values(
        {"asset_base_url": "https://CDN.example.com/jobdash", "api_base_url": "https://api.example.com:8443"}
    )
    out = build(frontend, tmp_path / "out", config).out
    html = (out / "index.html").read_text()
    manifest = json.loads((out / "manifest.json").read_text())
    cdn = "https://cdn.example.com/jobdash/"
    _, importmap = importmap_of(html)
    assert importmap["imports"][f"{cdn}assets/js/format.js"] == cdn + manifest["js/format.js"]
    assert f'<link rel="stylesheet" href="{cdn}{manifest["css/app.css"]}">' in html
    assert 'data-api-base="https://api.example.com:8443/"' in html
    csp = csp_of(html)
    assert "script-src 'self' https://cdn.example.com 'sha256-" in csp
    assert "style-src 'self' https://cdn.example.com;" in csp
    assert "img-src 'self' data: https://cdn.example.com;" in csp
    assert "connect-src 'self' https://api.example.com:8443;" in csp


def test_asset_base_path(frontend: Path, tmp_path: Path) -> None:
    out = build(frontend, tmp_path / "out", config_from_values({"asset_base_url": "/static"})[0]).out
    html = (out / "index.html").read_text()
    assert '"/static/assets/js/format.js":"/static/assets/js/format.' in html
    assert "script-src 'self' 'sha256-" in csp_of(html), "a path is same-origin: no extra source"


def test_shipped_fonts_are_allowed(frontend: Path, tmp_path: Path) -> None:
    (frontend / "fonts").mkdir()
    (frontend / "fonts" / "ui.woff2").write_bytes(b"wOF2" + bytes(16))
    (frontend / "css" / "app.css").write_text('@font-face { font-family: ui; src: url("../fonts/ui.woff2"); }\n')
    html = (build(frontend, tmp_path / "out").out / "index.html").read_text()
    assert "; font-src 'self'; base-uri" in csp_of(html)


def test_page_csp_lists_no_empty_sources() -> None:
    for csp in (page_csp("{}"), page_csp("{}", "https://a.example", "https://b.example", fonts=True)):
        assert "  " not in csp and "; ;" not in csp and not csp.endswith(";")


def test_stylesheet_references_point_at_hashed_files(built: Path) -> None:
    manifest = json.loads((built / "manifest.json").read_text())
    css = (built / manifest["css/app.css"]).read_text()
    image = manifest["img/dot.svg"].removeprefix("assets/")
    assert f'url("../{image}")' in css
    assert 'url("../img/missing.svg")' in css, "comments are left alone"


# --- failures ------------------------------------------------------------------------------


def test_a_module_that_does_not_parse_fails_the_build_naming_it(frontend: Path, tmp_path: Path) -> None:
    broken = frontend / "js" / "polling.js"
    broken.write_text("export function startPolling( {\n  return 1;\n")
    with pytest.raises(BuildError) as caught:
        build(frontend, tmp_path / "out")
    message = str(caught.value)
    assert str(broken) in message and "could not be parsed" in message
    assert not (tmp_path / "out").exists()


def test_every_broken_module_is_named(frontend: Path, tmp_path: Path) -> None:
    (frontend / "js/lazy.js").write_text("const = ;\n")
    (frontend / "js/unused.js").write_text("export const x: number = 1;\n")  # TypeScript
    with pytest.raises(BuildError) as caught:
        build(frontend, tmp_path / "out")
    assert str(frontend / "js/lazy.js") in str(caught.value)
    assert str(frontend / "js/unused.js") in str(caught.value)


def test_build_py_exits_1_naming_the_broken_module(frontend: Path, tmp_path: Path) -> None:
    broken = frontend / "js" / "util" / "clock.js"
    broken.write_text("export const now = () => {;\n")
    result = subprocess.run(
        [sys.executable, str(ROOT / "build.py"), "--source", str(frontend), "--out", str(tmp_path / "out")],
        capture_output=True,
        check=False,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 1, result
    assert result.stderr.startswith("build.py: error: ") and str(broken) in result.stderr, result.stderr
    assert result.stdout == ""


def test_a_comment_only_module_is_valid(frontend: Path, tmp_path: Path) -> None:
    (frontend / "js/unused.js").write_text("// nothing here yet\n")
    out = build(frontend, tmp_path / "out").out
    manifest = json.loads((out / "manifest.json").read_text())
    assert (out / manifest["js/unused.js"]).read_bytes() == b""


def test_jsx_is_refused(frontend: Path, tmp_path: Path) -> None:
    (frontend / "js/unused.js").write_text("export const x = <div/>;\n")
    with pytest.raises(BuildError, match="JSX"):
        build(frontend, tmp_path / "out")


@pytest.mark.parametrize(
    ("specifier", "problem"),
    [
        ("./missing.js", "not a module of the frontend"),
        ("lodash", "relative path"),
        ("../../outside.js", "not a module"),
    ],
)
def test_an_import_that_resolves_to_no_module_fails(
    frontend: Path, tmp_path: Path, specifier: str, problem: str
) -> None:
    (frontend / "js/util/clock.js").write_text(f'import "{specifier}";\nexport const now = () => 42;\n')
    with pytest.raises(BuildError) as caught:
        build(frontend, tmp_path / "out")
    assert str(frontend / "js/util/clock.js") in str(caught.value)
    assert repr(specifier) in str(caught.value) and problem in str(caught.value)


def test_a_page_without_its_entry_module_fails_naming_both(frontend: Path, tmp_path: Path) -> None:
    (frontend / "templates/about.html").write_text('{% extends "_base.html" %}\n')
    with pytest.raises(BuildError) as caught:
        build(frontend, tmp_path / "out")
    assert "templates/about.html" in str(caught.value)
    assert str(frontend / "js/pages/about.js") in str(caught.value)


def test_no_pages_is_an_error(tmp_path: Path) -> None:
    frontend = make_frontend(tmp_path / "src", **{"templates__index.html": None, "templates__job.html": None})
    with pytest.raises(BuildError, match="no pages"):
        build(frontend, tmp_path / "out")


def test_a_missing_stylesheet_reference_fails(frontend: Path, tmp_path: Path) -> None:
    (frontend / "css/app.css").write_text(".x { background: url(../img/nope.png) }\n")
    with pytest.raises(BuildError, match=re.escape(f"{frontend / 'css/app.css'} refers to '../img/nope.png'")):
        build(frontend, tmp_path / "out")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("<p>{{ no_such_variable }}</p>", "'no_such_variable' is undefined"),
        ("<p>{{ asset_url('css/nope.css') }}</p>", "asset_url('css/nope.css')"),
        ("<p>{{ module_url('nope.js') }}</p>", "module_url('nope.js')"),
        ('<button onclick="go()">go</button>', "inline event handlers"),
        ('<p style="color: red">x</p>', "inline styles"),
        ("<script>alert(1)</script>", "inline <script>"),
        ('<img src="img/nope.png" alt="">', "'img/nope.png', which the build does not produce"),
        ("{% include '_nope.html' %}", "'_nope.html'"),
        ("{% if %}", "index.html:4"),
    ],
)
def test_a_page_that_would_break_fails_naming_its_template(
    frontend: Path, tmp_path: Path, content: str, problem: str
) -> None:
    (frontend / "templates/index.html").write_text(
        '{% extends "_base.html" %}\n{% block content %}\n<div>\n' + content + "\n</div>\n{% endblock %}\n"
    )
    with pytest.raises(BuildError) as caught:
        build(frontend, tmp_path / "out")
    assert "templates/index.html" in str(caught.value) and problem in str(caught.value), str(caught.value)


def test_a_page_without_the_import_map_fails(frontend: Path, tmp_path: Path) -> None:
    (frontend / "templates/job.html").write_text(
        '<!doctype html><script type="module" src="{{ module_url(page.entry) }}"></script>\n'
    )
    with pytest.raises(BuildError, match="import map"):
        build(frontend, tmp_path / "out")


def test_autoescape_is_on(frontend: Path, tmp_path: Path) -> None:
    (frontend / "templates/job.html").write_text(
        '{% extends "_base.html" %}{% block content %}{{ "<img src=x onerror=alert(1)>" }}{% endblock %}\n'
    )
    html = (build(frontend, tmp_path / "out").out / "job.html").read_text()
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


# --- the output directory ------------------------------------------------------------------------


def test_a_rebuild_replaces_the_previous_build(frontend: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    build(frontend, out)
    (frontend / "js/unused.js").unlink()
    build(frontend, out)
    assert not any("unused" in name for name in read_tree(out)), "stale files are gone"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist", "frontend"], "no staging dirs left"


def test_a_failed_build_leaves_the_previous_one_alone(frontend: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    build(frontend, out)
    before = read_tree(out)
    (frontend / "js/format.js").write_text("export function (\n")
    with pytest.raises(BuildError):
        build(frontend, out)
    assert read_tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist", "frontend"]


def test_an_empty_out_dir_is_fine(frontend: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    build(frontend, tmp_path / "empty")
    assert (tmp_path / "empty" / "index.html").is_file()


@pytest.mark.parametrize("where", ["source", "inside", "parent", "not-a-build", "a-file"])
def test_dangerous_out_dirs_are_refused(frontend: Path, tmp_path: Path, where: str) -> None:
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "notes.txt").write_text("keep me")
    (tmp_path / "file").write_text("keep me")
    out = {
        "source": frontend,
        "inside": frontend / "dist",
        "parent": tmp_path,  # e.g. the repository root
        "not-a-build": tmp_path / "stuff",
        "a-file": tmp_path / "file",
    }[where]
    before = read_tree(tmp_path)
    with pytest.raises(BuildError, match="refusing"):
        build(frontend, out)
    assert read_tree(tmp_path) == before


def test_out_dir_permissions_follow_the_umask(frontend: Path, tmp_path: Path) -> None:
    # A web server running as another user must be able to read dist/ (not mkdtemp's 0700).
    previous = os.umask(0o022)
    try:
        out = build(frontend, tmp_path / "out").out
    finally:
        os.umask(previous)
    assert out.stat().st_mode & 0o777 == 0o755


def test_default_config_matches_the_dataclass() -> None:
    assert config_from_values({}) == (BuildConfig(), [])


def test_a_multi_line_import_is_preloaded(tmp_path: Path) -> None:
    """esbuild keeps `import {\n a,\n b\n} from` on several lines; it still counts as an import."""
    frontend = make_frontend(tmp_path / "frontend")
    (frontend / "js" / "wide.js").write_text(
        "export const alpha = 1;\nexport const beta = 2;\nexport const gamma = 3;\n"
        "export const delta = 4;\nexport const epsilon = 5;\n"
    )
    entry = frontend / "js" / "pages" / "index.js"
    entry.write_text(
        'import {\n  alpha,\n  beta,\n  gamma,\n  delta,\n  epsilon\n} from "../wide.js";\n'
        + entry.read_text()
        + "\nexport const total = alpha + beta + gamma + delta + epsilon;\n"
    )
    out = build(frontend, tmp_path / "dist").out
    manifest = json.loads((out / "manifest.json").read_text())
    assert f'<link rel="modulepreload" href="./{manifest["js/wide.js"]}">' in (out / "index.html").read_text()
