"""The pages' Content-Security-Policy, and a check that a rendered page keeps to it.

The policy goes into a ``<meta>`` so a plain static host enforces it too. There is no
``'unsafe-inline'``: the only inline script is the import map, allowed by its hash.
``frame-ancestors`` cannot be set from a ``<meta>``; the server sends it as a header.
"""

from __future__ import annotations

from html.parser import HTMLParser

from jobdash.build.hashing import csp_hash

# Inline <script> types the browser executes (and the CSP governs); others are data.
_SELF = "'self'"
_SCRIPT_TYPES = {"", "module", "importmap", "text/javascript", "application/javascript", "speculationrules"}


def page_csp(importmap_text: str, asset_origin: str = "", api_origin: str = "", fonts: bool = False) -> str:
    """Given the exact import map text, the asset and API origins ("" = same origin) and
    whether the build ships font files, return the pages' Content-Security-Policy.

    >>> page_csp("{}", api_origin="https://api.example.com").split("; ")[1]
    "script-src 'self' 'sha256-RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o='"
    """

    def sources(*items: str) -> str:
        return " ".join(item for item in items if item)

    directives = [
        "default-src 'none'",
        f"script-src {sources(_SELF, asset_origin, csp_hash(importmap_text))}",
        f"style-src {sources(_SELF, asset_origin)}",
        f"img-src {sources(_SELF, 'data:', asset_origin)}",
        f"connect-src {sources(_SELF, api_origin)}",
        # Only when there are fonts to load: otherwise default-src 'none' forbids them.
        f"font-src {sources(_SELF, asset_origin)}" if fonts else "",
        "base-uri 'none'",
        "form-action 'self'",
        "manifest-src 'self'",
    ]
    return "; ".join(directive for directive in directives if directive)


class _PageChecker(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block, and local references."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.inline_scripts: list[str] = []
        self.references: list[str] = []
        self._script: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name, value in values.items():
            if name.startswith("on"):
                self.problems.append(
                    f"<{tag} {name}=...>: inline event handlers are blocked by the CSP; use addEventListener in a module"
                )
            elif name == "style":
                self.problems.append(f"<{tag} style=...>: inline styles are blocked by the CSP; use a class in css/")
            elif name in ("href", "src", "action") and value.strip().lower().startswith("javascript:"):
                self.problems.append(f'<{tag} {name}="javascript:...">: blocked by the CSP')
        if tag == "style":
            self.problems.append("<style>: inline styles are blocked by the CSP; put the rules in css/")
        if tag == "script":
            if "src" in values:
                self.references.append(values["src"])
            elif values.get("type", "").strip().lower() in _SCRIPT_TYPES:
                self._script = []
        if tag in ("link", "img", "source") and (values.get("href") or values.get("src")):
            self.references.append(values.get("href") or values.get("src") or "")

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.inline_scripts.append("".join(self._script))
            self._script = None


def check_page(html: str, csp: str) -> tuple[list[str], list[str]]:
    """Given a rendered page and its CSP, return (problems, URLs it loads from src/href).

    A problem is anything the policy would block: an inline script whose hash is not in
    the CSP, an inline event handler, a ``style`` attribute or element, a ``javascript:`` URL.
    """
    checker = _PageChecker()
    checker.feed(html)
    checker.close()
    for script in checker.inline_scripts:
        if csp_hash(script) not in csp:
            checker.problems.append(
                f"inline <script> starting {script.strip()[:40]!r} is not allowed by the CSP: "
                "only the import map is inline; put code in a module under js/"
            )
    return checker.problems, checker.references
