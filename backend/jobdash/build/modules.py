"""ES modules: pass each through esbuild's transform and find its static imports.

esbuild-py exposes only ``transform`` (no bundling); it returns "" when it cannot
parse the input and gives no message, so an empty result for a module with code in it
is a parse error. Imports are read from esbuild's output, which prints every top-level
statement on a line of its own starting at column 0, with double-quoted specifiers.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping

import esbuild_py

from jobdash.build.errors import BuildError

_STRING = r'"((?:[^"\\\n]|\\.)*)"'
# `import x from "..."`, `import {a} from "..."`, `export * from "..."`, `export {a} from "..."`.
# No quote may come before `from`, so a string that merely contains `from "x"` never matches.
# The clause may span lines: esbuild keeps `import {\n  a,\n  b\n} from "./x.js"` multi-line.
_FROM = re.compile(rf"^(?:import|export)\b[^\"'`;]*?\bfrom\s*{_STRING}", re.MULTILINE)
_BARE_IMPORT = re.compile(rf"^import\s*{_STRING}", re.MULTILINE)
# A statement that parses to nothing at all, to tell an empty module from a broken one.
_PROBE = "\n;void 0;\n"


def transform(name: str, source: bytes) -> bytes:
    """Given a module's path (for messages) and source bytes, return esbuild's output.

    Raises BuildError naming the module when it is not UTF-8 or cannot be parsed.
    """
    try:
        code = source.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise BuildError(f"{name}: not UTF-8 text ({error})") from None
    output = esbuild_py.transform(code)
    if not output:
        if not esbuild_py.transform(code + _PROBE):
            raise BuildError(
                f"{name}: could not be parsed as a JavaScript module (esbuild rejected it; "
                "it is not valid JS: check for a syntax error, TypeScript, or an unclosed "
                "bracket, string or comment)"
            )
        output = ""  # only comments or whitespace: a valid, empty module
    if "React.createElement" in output and "React.createElement" not in code:
        raise BuildError(f"{name}: contains JSX, which browsers cannot run; write plain JavaScript")
    return output.encode("utf-8")


def _unquote(text: str) -> str:
    """Given the inside of a double-quoted JS string as esbuild prints it, return its value."""
    if "\\" not in text:
        return text
    json_text = re.sub(r"\\x([0-9A-Fa-f]{2})", r"\\u00\1", text)
    try:
        return str(json.loads(f'"{json_text}"'))
    except ValueError:
        return text


def static_imports(code: str) -> list[str]:
    """Given esbuild output, return its static import specifiers in source order.

    Dynamic ``import()`` is not included (it is not needed before the page runs).

    >>> static_imports('import { a } from "./a.js";\\nexport * from "../b.js";\\nimport "./c.js";\\n')
    ['./a.js', '../b.js', './c.js']
    """
    found = [(m.start(), m.group(1)) for m in _FROM.finditer(code)]
    found += [(m.start(), m.group(1)) for m in _BARE_IMPORT.finditer(code)]
    return [_unquote(specifier) for _, specifier in sorted(found)]


def resolve(importer: str, specifier: str, modules: Iterable[str]) -> str:
    """Given a module, one of its import specifiers and all modules, return the logical
    name imported, or raise BuildError naming the importer.

    >>> resolve("js/pages/index.js", "../polling.js", ["js/polling.js"])
    'js/polling.js'
    """
    if not specifier.startswith(("./", "../")):
        raise BuildError(
            f"{importer} imports {specifier!r}: import other modules under js/ with a "
            "relative path such as './polling.js' (there is no bundler and no node_modules)"
        )
    if any(char in specifier for char in "?#"):
        raise BuildError(f"{importer} imports {specifier!r}: no query string or fragment, please")
    target = posixpath.normpath(posixpath.join(posixpath.dirname(importer), specifier))
    if target not in set(modules):
        raise BuildError(
            f"{importer} imports {specifier!r}, which is not a module of the frontend (looked for {target})"
        )
    return target


def import_graph(outputs: Mapping[str, bytes], label: Callable[[str], str] = str) -> dict[str, tuple[str, ...]]:
    """Given transformed modules by logical name, return each one's static imports
    (resolved logical names, sorted). Raises BuildError for every import that resolves
    to no module, naming the importer as ``label(name)``.
    """
    graph: dict[str, tuple[str, ...]] = {}
    errors: list[str] = []
    for name, output in sorted(outputs.items()):
        targets = set()
        for specifier in static_imports(output.decode("utf-8")):
            try:
                targets.add(resolve(name, specifier, outputs))
            except BuildError as error:
                errors.append(str(error).replace(name, label(name), 1))
        graph[name] = tuple(sorted(targets))
    if errors:
        raise BuildError("\n".join(errors))
    return graph


def transform_all(sources: Mapping[str, bytes], label: Callable[[str], str] = str) -> dict[str, bytes]:
    """Given module sources by logical name, return their transformed bytes, or raise
    one BuildError listing every module that fails (named as ``label(name)``)."""
    outputs: dict[str, bytes] = {}
    errors: list[str] = []
    for name, source in sorted(sources.items()):
        try:
            outputs[name] = transform(label(name), source)
        except BuildError as error:
            errors.append(str(error))
    if errors:
        raise BuildError("\n".join(errors))
    return outputs


def closure(entry: str, graph: Mapping[str, tuple[str, ...]]) -> list[str]:
    """Given an entry module and the import graph, return it and everything it imports,
    transitively, sorted by name.

    >>> closure("a", {"a": ("b",), "b": ("c", "a"), "c": (), "d": ()})
    ['a', 'b', 'c']
    """
    seen = {entry}
    stack = [entry]
    while stack:
        for target in graph[stack.pop()]:
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return sorted(seen)
