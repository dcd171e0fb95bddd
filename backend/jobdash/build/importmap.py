"""The import map: every module's unhashed URL -> its hashed URL.

Modules keep their relative import specifiers ("./polling.js"); the browser resolves
them to unhashed URLs, which the map sends to the hashed files. So a module's bytes do
not depend on its dependencies' hashes, and a change re-hashes only the changed file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping


def importmap_json(imports: Mapping[str, str]) -> str:
    """Given specifier -> URL, return the import map as compact JSON safe inside <script>.

    ``<``, ``>`` and ``&`` are escaped so no text in it can close the script element;
    the exact text returned is what the CSP hash covers.

    >>> importmap_json({"./assets/js/a.js": "./assets/js/a.0123.js"})
    '{"imports":{"./assets/js/a.js":"./assets/js/a.0123.js"}}'
    >>> importmap_json({"x</script>": "y"})
    '{"imports":{"x\\\\u003c/script\\\\u003e":"y"}}'
    """
    text = json.dumps({"imports": dict(imports)}, sort_keys=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
