"""A tiny JSON Schema validator for the subset the OpenAPI document uses.

Supported keywords: ``type`` (a name or a list of names, ``"null"`` included), ``enum``,
``required``, ``properties``, ``additionalProperties: false``, ``items``, ``minimum``, ``maximum``, ``minLength``,
``maxLength``, ``$ref`` (local ``#/...`` pointers only), ``format`` (``uuid`` and
``date-time`` are checked; others are accepted) and the annotations ``description``,
``default``. Anything else raises :class:`UnsupportedKeyword`, so a schema that grows a
keyword this checker ignores fails loudly instead of passing silently.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

SUPPORTED = frozenset(
    {
        "type",
        "enum",
        "required",
        "properties",
        "additionalProperties",
        "items",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "$ref",
        "format",
        "description",
        "default",
    }
)
_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


class UnsupportedKeyword(AssertionError):
    """The schema uses a keyword this validator does not implement."""


def resolve(document: dict[str, Any], ref: str) -> Any:
    """Given a document and a local ``$ref`` (``#/a/b``), return the target or raise KeyError."""
    if not ref.startswith("#/"):
        raise KeyError(f"only local refs are supported; got {ref!r}")
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[part]
    return node


def iter_refs(node: Any, where: str = "#") -> Iterator[tuple[str, str]]:
    """Yield (location, ref) for every ``$ref`` anywhere in ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield where, value
            else:
                yield from iter_refs(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from iter_refs(value, f"{where}/{index}")


def _type_ok(value: Any, name: str) -> bool:
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "string":
        return isinstance(value, str)
    if name == "array":
        return isinstance(value, list)
    if name == "object":
        return isinstance(value, dict)
    raise UnsupportedKeyword(f"unknown type {name!r}")


def _format_ok(value: str, fmt: str) -> bool:
    if fmt == "uuid":
        try:
            return str(uuid.UUID(value)) == value.lower()
        except ValueError:
            return False
    if fmt == "date-time":
        if not _DATE_TIME.fullmatch(value):
            return False
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
        return True
    return True


def errors(value: Any, schema: dict[str, Any], document: dict[str, Any], path: str = "$") -> list[str]:
    """Given a value and a schema (refs resolved against ``document``), return the problems."""
    unknown = set(schema) - SUPPORTED
    if unknown:
        raise UnsupportedKeyword(f"{path}: unsupported keywords {sorted(unknown)}")
    if "$ref" in schema:
        return errors(value, resolve(document, schema["$ref"]), document, path)
    found: list[str] = []
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_type_ok(value, name) for name in names):
            return [f"{path}: {value!r} is not of type {schema['type']}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            found.append(f"{path}: {value!r} is below the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            found.append(f"{path}: {value!r} is above the maximum {schema['maximum']}")
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            found.append(f"{path}: {value!r} is shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            found.append(f"{path}: {value!r} is longer than {schema['maxLength']}")
        if "format" in schema and not _format_ok(value, schema["format"]):
            found.append(f"{path}: {value!r} is not a valid {schema['format']}")
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                found.append(f"{path}: required property {name!r} is missing")
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                found.extend(errors(value[name], sub, document, f"{path}.{name}"))
        if schema.get("additionalProperties", True) is False:
            for name in set(value) - set(schema.get("properties", {})):
                found.append(f"{path}: property {name!r} is not allowed")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found.extend(errors(item, schema["items"], document, f"{path}[{index}]"))
    return found


def validate(value: Any, schema: dict[str, Any], document: dict[str, Any]) -> None:
    """Raise AssertionError listing every problem if ``value`` does not match ``schema``."""
    problems = errors(value, schema, document)
    if problems:
        raise AssertionError("schema validation failed:\n  " + "\n  ".join(problems[:20]))


def keywords_used(node: Any) -> set[str]:
    """Return every keyword used by the schema ``node`` (recursively through sub-schemas)."""
    used: set[str] = set()
    if isinstance(node, dict):
        used |= set(node)
        for key, value in node.items():
            if key == "properties":
                for sub in value.values():
                    used |= keywords_used(sub)
            elif key == "items":
                used |= keywords_used(value)
    return used
