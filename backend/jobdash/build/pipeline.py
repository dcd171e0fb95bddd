"""The build: frontend sources + config -> every file of dist/ (in memory), then written.

:func:`plan` is pure (same inputs, same bytes; no clock, no absolute paths in the
output) and :func:`build` writes its result atomically.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from jobdash.build import css, modules
from jobdash.build.config import BuildConfig, origin_of
from jobdash.build.csp import check_page, page_csp
from jobdash.build.errors import BuildError
from jobdash.build.hashing import hashed_name
from jobdash.build.importmap import importmap_json
from jobdash.build.output import (
    MANIFEST,
    check_out_dir,
    with_gzip_copies,
    write_tree,
)
from jobdash.build.render import environment, render
from jobdash.build.sources import (
    MODULES_DIR,
    TEMPLATES_DIR,
    Sources,
    find_sources,
)
from jobdash.model.list_query import (
    DEFAULT_SORT,
    LIMIT_DEFAULT,
    LIMIT_MAX,
    SINCE_WINDOWS,
    SORTS,
)
from jobdash.model.states import STATUSES

ASSETS_DIR = "assets"
FONT_SUFFIXES = (".woff2", ".woff", ".ttf", ".otf")


@dataclass(frozen=True)
class BuildResult:
    """What a build produced: the pages, modules and other assets, and their sizes."""

    out: Path
    pages: tuple[str, ...]
    modules: tuple[str, ...]
    assets: tuple[str, ...]
    files: int
    raw_bytes: int
    gzip_bytes: int

    def summary(self) -> str:
        """Return the one-line summary that ``build.py`` prints."""
        return (
            f"built {self.out}: {_plural(len(self.pages), 'page')} ({', '.join(self.pages)}), "
            f"{_plural(len(self.modules), 'module')}, {_plural(len(self.assets), 'other asset')}; "
            f"{_plural(self.files, 'file')}, {self.raw_bytes:,} bytes raw, {self.gzip_bytes:,} bytes gzipped"
        )


def _plural(count: int, noun: str) -> str:
    """Given a count and a noun, return e.g. "1 page" or "2 pages"."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _attribute_text(text: str) -> Markup:
    """Given text for a double-quoted attribute, return it escaped but with ' kept
    readable (the CSP is full of quotes: 'self' reads better than &#39;self&#39;)."""
    for char, entity in (("&", "&amp;"), ('"', "&quot;"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(char, entity)
    return Markup(text)


def vocabulary() -> dict[str, object]:
    """Return the job vocabulary pages render their filters from (the backend's constants).

    Job types are not in it: they are an open vocabulary (plugins register more at any
    time), so the dashboard lists them from ``GET /api/job-types`` at run time.
    """
    return {
        "statuses": list(STATUSES),
        "since": list(SINCE_WINDOWS),
        "sorts": list(SORTS),
        "default_sort": DEFAULT_SORT,
        "limit_default": LIMIT_DEFAULT,
        "limit_max": LIMIT_MAX,
    }


def _hash_assets(sources: Sources, hashed: dict[str, str]) -> dict[str, bytes]:
    """Given the sources and the modules' hashed names, return asset bytes by logical
    name, adding each asset's hashed name to ``hashed``. Stylesheets are rewritten to
    refer to hashed files, so what they refer to is hashed first.
    """
    data: dict[str, bytes] = {}
    for name in sources.assets:
        if not name.endswith(".css"):
            data[name] = sources.read(name)
            hashed[name] = hashed_name(name, data[name])

    def stylesheet(name: str, chain: tuple[str, ...]) -> str | None:
        if name in hashed:
            return hashed[name]
        if name not in sources.assets:
            return None
        if name in chain:
            raise BuildError(
                f"{sources.label(name)}: stylesheets import each other in a cycle: {' -> '.join(chain + (name,))}"
            )
        data[name] = css.rewrite(
            name, sources.read(name), lambda target: stylesheet(target, chain + (name,)), sources.label(name)
        )
        hashed[name] = hashed_name(name, data[name])
        return hashed[name]

    for name in sources.assets:
        stylesheet(name, ())
    return data


def _lookup(kind: str, names: dict[str, str], fallback_prefix: str = "") -> Callable[[str], str]:
    """Return the template function ``kind(name)``: a logical name -> its hashed URL."""

    def url(name: str) -> str:
        for candidate in (name, fallback_prefix + name):
            if candidate in names:
                return names[candidate]
        raise BuildError(
            f"{kind}({name!r}): the frontend has no file {name} (names are relative to frontend/, e.g. 'css/app.css')"
        )

    return url


def _check_rendered(where: str, html: str, csp: str, map_text: str, produced: set[str]) -> None:
    """Raise BuildError naming the template if the page breaks its CSP, lacks the import
    map, or loads a local file that the build does not produce.
    """
    problems, references = check_page(html, csp)
    if f'<script type="importmap">{map_text}</script>' not in html:
        problems.append("the page does not contain the import map; extend _base.html")
    for ref in references:
        if css.is_local(ref):
            path = posixpath.normpath(css.split_ref(ref)[0])
            if path not in produced:
                problems.append(f"it loads {ref!r}, which the build does not produce; use asset_url() or module_url()")
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise BuildError(f"{where}: {problems[0]}{more}")


def plan(source: Path, config: BuildConfig) -> tuple[Sources, dict[str, bytes]]:
    """Given the frontend source directory and a validated config, return the sources
    and every output file (relative POSIX path -> bytes, ``.gz`` copies included).

    Raises BuildError naming the file at fault.
    """
    sources = find_sources(source)
    label = sources.label
    outputs = modules.transform_all({name: sources.read(name) for name in sources.modules}, label)
    graph = modules.import_graph(outputs, label)
    hashed = {name: hashed_name(name, data) for name, data in outputs.items()}
    assets = _hash_assets(sources, hashed)

    files = {f"{ASSETS_DIR}/{hashed[name]}": data for name, data in {**outputs, **assets}.items()}
    base = config.asset_base_url or "./"
    urls = {name: f"{base}{ASSETS_DIR}/{path}" for name, path in hashed.items()}
    map_text = importmap_json({f"{base}{ASSETS_DIR}/{name}": urls[name] for name in sources.modules})
    fonts = any(name.endswith(FONT_SUFFIXES) for name in sources.assets)
    csp = page_csp(map_text, origin_of(config.asset_base_url), origin_of(config.api_base_url), fonts)
    module_url = _lookup("module_url", {n: urls[n] for n in sources.modules}, f"{MODULES_DIR}/")
    asset_url = _lookup("asset_url", urls)

    env = environment(source / TEMPLATES_DIR)
    produced = set(files) | {page.template for page in sources.pages} | {MANIFEST}
    for page in sources.pages:
        context = {
            "page": page,
            "csp": _attribute_text(csp),
            "importmap_json": map_text,
            "preloads": [urls[name] for name in modules.closure(page.entry, graph)],
            "module_url": module_url,
            "asset_url": asset_url,
            "body_data": config.body_data(),
            "vocab": vocabulary(),
        }
        where = sources.label(f"{TEMPLATES_DIR}/{page.template}")
        html = render(env, page.template, context, where)
        _check_rendered(where, html, csp, map_text, produced)
        files[page.template] = html.encode("utf-8")

    manifest = {name: f"{ASSETS_DIR}/{path}" for name, path in hashed.items()}
    files[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")
    return sources, with_gzip_copies(files)


def build(source: Path, out: Path, config: BuildConfig | None = None) -> BuildResult:
    """Given the frontend source directory, the output directory and a validated config,
    build the static frontend into ``out`` (replacing a previous build) and return what
    was built. Raises BuildError; ``out`` is untouched when the build fails.
    """
    out = check_out_dir(out, source)
    sources, files = plan(source, config or BuildConfig())
    write_tree(files, out)
    originals = {path: data for path, data in files.items() if not path.endswith(".gz")}
    return BuildResult(
        out=out,
        pages=tuple(page.template for page in sources.pages),
        modules=sources.modules,
        assets=sources.assets,
        files=len(files),
        raw_bytes=sum(len(data) for data in originals.values()),
        gzip_bytes=sum(len(files.get(path + ".gz", data)) for path, data in originals.items()),
    )
