"""What the build reads from the frontend source directory, found in sorted order.

Layout: ``templates/*.html`` (a name starting with ``_`` is a layout or partial, any
other is a page), ES modules ``js/**/*.js`` (a page's entry is
``js/pages/<template stem>.js``), and every other file is a static asset (CSS, images).
Names are "logical": POSIX paths relative to the source directory, e.g. ``js/polling.js``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jobdash.build.errors import BuildError

TEMPLATES_DIR = "templates"
MODULES_DIR = "js"
# Files in the source directory that are build input but not shipped.
NOT_ASSETS = frozenset({"build.toml"})


@dataclass(frozen=True)
class Page:
    """A page: its template (``index.html``) and entry module (``js/pages/index.js``)."""

    template: str
    entry: str

    @property
    def name(self) -> str:
        """The page's name, its template's stem (``index``)."""
        return self.template.rsplit(".", 1)[0]


@dataclass(frozen=True)
class Sources:
    """The frontend sources, each list sorted by logical name."""

    root: Path
    pages: tuple[Page, ...]
    modules: tuple[str, ...]
    assets: tuple[str, ...]

    def label(self, name: str) -> str:
        """Given a logical name, return the file's path as shown in messages."""
        return str(self.root / name)

    def read(self, name: str) -> bytes:
        """Given a logical name, return the file's bytes."""
        return (self.root / name).read_bytes()


def _files(root: Path) -> list[str]:
    """Given a directory, return the logical names of its files, sorted, skipping dot-names."""
    names = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
            continue
        if path.is_file():
            names.append(relative.as_posix())
    return sorted(names)


def find_sources(root: Path) -> Sources:
    """Given the frontend source directory, return its pages, modules and assets.

    Raises BuildError when there is nothing to build or a page has no entry module.
    """
    if not root.is_dir():
        raise BuildError(f"frontend source directory {root} does not exist")
    files = _files(root)
    templates = [name for name in files if name.startswith(f"{TEMPLATES_DIR}/")]
    modules = tuple(n for n in files if n.startswith(f"{MODULES_DIR}/") and n.endswith(".js"))
    assets = tuple(n for n in files if n not in NOT_ASSETS and n not in templates and n not in modules)
    pages = []
    for name in templates:
        stem_path = name[len(TEMPLATES_DIR) + 1 :]
        # Only top-level templates are pages; subfolders and "_" names are partials.
        if "/" in stem_path or stem_path.startswith("_") or not stem_path.endswith(".html"):
            continue
        entry = f"{MODULES_DIR}/pages/{stem_path[: -len('.html')]}.js"
        if entry not in modules:
            raise BuildError(
                f"page {TEMPLATES_DIR}/{stem_path} has no entry module: create {root / entry}"
                " (every page loads js/pages/<page name>.js)"
            )
        pages.append(Page(stem_path, entry))
    if not pages:
        raise BuildError(
            f"no pages to build: {root / TEMPLATES_DIR} has no *.html template whose name does not start with _"
        )
    return Sources(root, tuple(pages), modules, assets)
