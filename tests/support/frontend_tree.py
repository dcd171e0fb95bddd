"""A small fixture frontend for the build tests, and readers of what a build wrote.

The fixture has two pages, modules importing each other through relative specifiers
(including a subfolder, a dynamic import and an unused module), a stylesheet that
refers to an image, and a layout and a partial.
"""

from __future__ import annotations

import html as html_lib
import json
import re
from pathlib import Path

BASE_HTML = """\
<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta http-equiv="Content-Security-Policy" content="{{ csp }}">
  <title>{% block title %}fixture{% endblock %}</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{{ asset_url('css/app.css') }}">
  <script type="importmap">{{ importmap_json | safe }}</script>
  {%- for url in preloads %}
  <link rel="modulepreload" href="{{ url }}">
  {%- endfor %}
  <script type="module" src="{{ module_url(page.entry) }}"></script>
</head>
<body{% for name, value in body_data.items() %} data-{{ name }}="{{ value }}"{% endfor %}>
  {% include "_nav.html" %}
  <main>{% block content %}{% endblock %}</main>
</body>
</html>
"""

FIXTURE: dict[str, str] = {
    "templates/_base.html": BASE_HTML,
    "templates/_nav.html": '<nav><a href="./">jobs</a> <span id="page-name">{{ page.name }}</span></nav>\n',
    "templates/index.html": """\
{% extends "_base.html" %}
{% block title %}Jobs{% endblock %}
{% block content %}
<div id="probe" class="probe">probe</div>
<select id="status">{% for status in vocab.statuses %}<option value="{{ status }}">{{ status }}</option>{% endfor %}</select>
<select id="sort">{% for sort in vocab.sorts %}<option>{{ sort }}</option>{% endfor %}</select>
<p id="limits">{{ vocab.limit_default }}/{{ vocab.limit_max }}</p>
{% endblock %}
""",
    "templates/job.html": """\
{% extends "_base.html" %}
{% block content %}<p id="job">job</p>{% endblock %}
""",
    "js/pages/index.js": """\
// The dashboard's entry: uses static imports, a nested import and a dynamic one.
import { greet } from "../format.js";
import { startPolling } from "../polling.js";

const lazy = await import("../lazy.js");
const probe = document.getElementById("probe");
document.body.dataset.color = getComputedStyle(probe).color;
document.body.dataset.result = `${greet("jobs")} ${startPolling()} ${lazy.value}`;
document.body.dataset.ready = "index";
""",
    "js/pages/job.js": """\
import { greet } from "../format.js";
document.body.dataset.result = greet(new URLSearchParams(location.search).get("id"));
document.body.dataset.ready = "job";
""",
    "js/format.js": "/** Formatting. */\nexport function greet(name) {\n  return `hello ${name}`;\n}\n",
    "js/polling.js": 'import { now } from "./util/clock.js";\nexport function startPolling() {\n  return now();\n}\n',
    "js/util/clock.js": "export const now = () => 42;\n",
    "js/lazy.js": 'export const value = "lazy";\n',
    "js/unused.js": "// Not imported by any page, but still built and mapped.\nexport const unused = 1;\n",
    "css/app.css": '/* url("../img/missing.svg") in a comment is ignored */\n.probe { color: rgb(1, 2, 3); background-image: url("../img/dot.svg"); }\n',
    "img/dot.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"><rect width="1" height="1"/></svg>\n',
}

MODULES = sorted(name for name in FIXTURE if name.startswith("js/"))
ASSETS = ["css/app.css", "img/dot.svg"]
TEXT_SUFFIXES = (".html", ".js", ".css", ".json", ".svg")


def make_frontend(root: Path, files: dict[str, str] | None = None, **changes: str | None) -> Path:
    """Write the fixture frontend (or ``files``) under ``root``; ``changes`` maps a
    file name with "/" written as "__" to new text (None deletes it). Return ``root``."""
    tree = dict(FIXTURE if files is None else files)
    for key, text in changes.items():
        name = key.replace("__", "/")
        if text is None:
            tree.pop(name, None)
        else:
            tree[name] = text
    for name, text in tree.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def read_tree(root: Path) -> dict[str, bytes]:
    """Return every file under ``root`` as relative POSIX path -> bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def importmap_of(html: str) -> tuple[str, dict[str, dict[str, str]]]:
    """Return (exact text, parsed) of the page's import map."""
    match = re.search(r'<script type="importmap">(.*?)</script>', html, re.DOTALL)
    assert match, html
    return match.group(1), json.loads(match.group(1))


def csp_of(html: str) -> str:
    match = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', html)
    assert match, html
    return html_lib.unescape(match.group(1))


def preloads_of(html: str) -> list[str]:
    return re.findall(r'<link rel="modulepreload" href="([^"]+)">', html)
