"""Validation of the query parameters of ``GET /api/jobs`` (pure, no I/O).

Every bad value raises :class:`ParamError` naming the parameter and what is allowed;
the API turns it into a 400.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from jobdash.model.states import JOB_TYPE_RULE, STATUSES, is_job_type_name

SINCE_WINDOWS: dict[str, int] = {"24h": 24 * 3600, "7d": 7 * 24 * 3600}
SORT_KEYS: tuple[str, ...] = ("created_at", "status", "job_type", "priority")
SORTS: tuple[str, ...] = tuple(k for key in SORT_KEYS for k in (key, f"-{key}"))
DEFAULT_SORT = "-created_at"
LIMIT_MIN, LIMIT_MAX, LIMIT_DEFAULT = 1, 100, 50
# Deep pages are bounded so that no request can ask SQLite to skip an unbounded number
# of rows (and so the number always fits SQLite's 64-bit integers).
OFFSET_MAX = 1_000_000
LIST_PARAMS: tuple[str, ...] = ("status", "type", "since", "sort", "limit", "offset")

# Enough digits for every bound used here (10**12 is 13 digits), few enough that no
# huge number is ever converted.
_DIGITS = re.compile(r"[0-9]{1,13}")


class ParamError(ValueError):
    """A query parameter is invalid; the message names it and what is allowed."""


@dataclass(frozen=True)
class ListQuery:
    """A validated jobs listing request."""

    statuses: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    since: str | None = None
    sort: str = DEFAULT_SORT
    limit: int = LIMIT_DEFAULT
    offset: int = 0

    @property
    def has_filters(self) -> bool:
        """True when any filter (status, type, since) narrows the listing."""
        return bool(self.statuses or self.types or self.since)


def shown(value: str, width: int = 40) -> str:
    """Given a user-supplied value, return a short printable rendering for messages.

    >>> shown("a\\x00b")
    "'a\\\\x00b'"
    """
    text = value if len(value) <= width else value[:width] + "…"
    return repr(text)


def single(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    """Given multi-valued params, return the one value of ``name`` (None if absent).

    A parameter given twice is an error rather than a silent pick of one of them.
    """
    values = params.get(name) or []
    if len(values) > 1:
        raise ParamError(f"{name} is given {len(values)} times; give it once")
    return values[0] if values else None


def parse_int(name: str, value: str, low: int, high: int) -> int:
    """Given a parameter's text, return it as an int within [low, high] or raise ParamError.

    >>> parse_int("limit", "20", 1, 100)
    20
    """
    if not _DIGITS.fullmatch(value):
        raise ParamError(f"{name} must be a whole number from {low} to {high}; got {shown(value)}")
    number = int(value)
    if not low <= number <= high:
        raise ParamError(f"{name} must be from {low} to {high}; got {number}")
    return number


def parse_choices(name: str, value: str, allowed: Sequence[str]) -> tuple[str, ...]:
    """Given a comma-separated list, return its distinct values, each one of ``allowed``.

    >>> parse_choices("status", "queued,running", ("queued", "running", "failed"))
    ('queued', 'running')
    """
    items: list[str] = []
    for item in value.split(","):
        item = item.strip()
        if item not in allowed:
            raise ParamError(
                f"{name} must be one of {', '.join(allowed)} (or several, comma-separated); got {shown(item)}"
            )
        if item not in items:
            items.append(item)
    return tuple(items)


def parse_type_names(name: str, value: str) -> tuple[str, ...]:
    """Given a comma-separated list of job types, return its distinct names, each a valid
    job type name (whether it is a known type is the caller's check: the set is open).

    >>> parse_type_names("type", "scan, transcode,scan")
    ('scan', 'transcode')
    """
    items: list[str] = []
    for item in value.split(","):
        item = item.strip()
        if not is_job_type_name(item):
            raise ParamError(f"{name} must be job type names ({JOB_TYPE_RULE}), comma-separated; got {shown(item)}")
        if item not in items:
            items.append(item)
    return tuple(items)


def check_known_types(name: str, types: Sequence[str], known: Collection[str]) -> None:
    """Raise ParamError naming the known types if ``types`` holds one outside ``known``.

    >>> check_known_types("type", ("scan",), {"scan", "transcode"})
    """
    for item in types:
        if item not in known:
            choices = ", ".join(sorted(known)) or "none yet"
            raise ParamError(
                f"{name} must be a registered job type or one present in the store: {choices}; got {shown(item)}"
            )


def reject_unknown(params: Mapping[str, Sequence[str]], allowed: Sequence[str]) -> None:
    """Raise ParamError if ``params`` holds a name outside ``allowed``."""
    for name in params:
        if name not in allowed:
            known = ", ".join(allowed) if allowed else "none"
            raise ParamError(f"unknown parameter {shown(name)}; allowed: {known}")


def parse_list_query(params: Mapping[str, Sequence[str]]) -> ListQuery:
    """Given the query string as name -> values, return a ListQuery or raise ParamError.

    Empty values mean "not given", so a form that submits ``status=`` shows everything.

    >>> parse_list_query({"status": ["failed"], "limit": ["10"]}).limit
    10
    """
    reject_unknown(params, LIST_PARAMS)
    status, type_, since = (single(params, n) for n in ("status", "type", "since"))
    sort, limit, offset = (single(params, n) for n in ("sort", "limit", "offset"))
    query: dict[str, object] = {}
    if status:
        query["statuses"] = parse_choices("status", status, STATUSES)
    if type_:
        query["types"] = parse_type_names("type", type_)
    if since:
        if since not in SINCE_WINDOWS:
            raise ParamError(f"since must be one of {', '.join(SINCE_WINDOWS)}; got {shown(since)}")
        query["since"] = since
    if sort:
        if sort not in SORTS:
            raise ParamError(f"sort must be one of {', '.join(SORTS)}; got {shown(sort)}")
        query["sort"] = sort
    if limit:
        query["limit"] = parse_int("limit", limit, LIMIT_MIN, LIMIT_MAX)
    if offset:
        query["offset"] = parse_int("offset", offset, 0, OFFSET_MAX)
    return ListQuery(**query)  # type: ignore[arg-type]
