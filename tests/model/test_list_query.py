"""Validation of the GET /api/jobs query parameters (jobdash.model.list_query)."""

from __future__ import annotations

import pytest

from jobdash.model.list_query import (
    DEFAULT_SORT,
    LIMIT_DEFAULT,
    OFFSET_MAX,
    SORTS,
    ListQuery,
    ParamError,
    check_known_types,
    parse_choices,
    parse_int,
    parse_list_query,
    reject_unknown,
    shown,
    single,
)
from jobdash.model.states import JOB_TYPES, STATUSES


def q(**params: str | list[str]) -> ListQuery:
    """Parse keyword params the way the API passes a query string (name -> values)."""
    return parse_list_query({k: v if isinstance(v, list) else [v] for k, v in params.items()})


def error_of(**params: str | list[str]) -> str:
    """Return the ParamError message for params that must be rejected."""
    with pytest.raises(ParamError) as excinfo:
        q(**params)
    return str(excinfo.value)


def test_no_params_give_the_defaults() -> None:
    """An empty query lists everything, newest first, 50 per page from the start."""
    query = parse_list_query({})
    assert query == ListQuery()
    assert (query.statuses, query.types, query.since) == ((), (), None)
    assert (query.sort, query.limit, query.offset) == (DEFAULT_SORT, LIMIT_DEFAULT, 0)
    assert DEFAULT_SORT == "-created_at"
    assert query.has_filters is False


def test_every_valid_parameter_is_parsed() -> None:
    """Each parameter's valid value lands in its field."""
    query = q(status="failed,running", type="scan", since="7d", sort="priority", limit="20", offset="40")
    assert query == ListQuery(
        statuses=("failed", "running"), types=("scan",), since="7d", sort="priority", limit=20, offset=40
    )
    assert query.has_filters is True


@pytest.mark.parametrize("status", STATUSES)
def test_each_status_is_accepted(status: str) -> None:
    """Every status of the jobs schema is a valid filter."""
    assert q(status=status).statuses == (status,)


@pytest.mark.parametrize("job_type", JOB_TYPES)
def test_each_type_is_accepted(job_type: str) -> None:
    """Every job type of the jobs schema is a valid filter."""
    assert q(type=job_type).types == (job_type,)


@pytest.mark.parametrize("since", ["24h", "7d"])
def test_each_since_window_is_accepted(since: str) -> None:
    """Both since windows are accepted and count as a filter."""
    query = q(since=since)
    assert query.since == since
    assert query.has_filters is True


@pytest.mark.parametrize("sort", ["created_at", "-created_at", "status", "job_type", "priority"])
def test_documented_sorts_are_accepted(sort: str) -> None:
    """The sort keys the contract names are accepted."""
    assert q(sort=sort).sort == sort
    assert sort in SORTS


def test_status_list_is_deduplicated_and_trimmed() -> None:
    """A comma-separated list keeps its order, drops repeats and ignores spaces."""
    assert q(status=" queued , running,queued").statuses == ("queued", "running")


@pytest.mark.parametrize("name", ["status", "type", "since", "sort", "limit", "offset"])
def test_empty_value_means_not_given(name: str) -> None:
    """A form that submits `name=` shows the same as leaving it out."""
    assert q(**{name: ""}) == ListQuery()


@pytest.mark.parametrize(("value", "expected"), [("1", 1), ("100", 100), ("007", 7)])
def test_limit_bounds_are_inclusive(value: str, expected: int) -> None:
    """Limits 1 and 100 are both allowed; leading zeros are still a number."""
    assert q(limit=value).limit == expected


def test_offset_zero_and_max_are_allowed() -> None:
    """Offset 0 and the documented maximum are accepted."""
    assert q(offset="0").offset == 0
    assert q(offset=str(OFFSET_MAX)).offset == OFFSET_MAX


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("0", "got 0"),
        ("101", "got 101"),
        ("abc", "got 'abc'"),
        ("1.5", "got '1.5'"),
        ("\u0663", "got '\u0663'"),  # ARABIC-INDIC DIGIT THREE: a digit, but not an ASCII one
        ("-1", "got '-1'"),
        (" 5", "got ' 5'"),
        ("5\n", "got '5\\n'"),
        ("1e2", "got '1e2'"),
        ("99999999999999999999", "got '99999999999999999999'"),
    ],
)
def test_bad_limit_names_parameter_and_range(value: str, fragment: str) -> None:
    """A bad limit is rejected with a message naming `limit`, the range 1-100 and the value."""
    message = error_of(limit=value)
    assert message.startswith("limit must be ")
    assert "from 1 to 100" in message
    assert fragment in message


@pytest.mark.parametrize("value", ["-1", "x", "1.0", str(OFFSET_MAX + 1)])
def test_bad_offset_names_parameter_and_range(value: str) -> None:
    """A bad offset is rejected naming `offset` and the allowed range from 0."""
    message = error_of(offset=value)
    assert message.startswith("offset must be ")
    assert f"from 0 to {OFFSET_MAX}" in message


def test_since_other_than_24h_or_7d_is_rejected() -> None:
    """since=3d is refused with the two allowed windows listed."""
    assert error_of(since="3d") == "since must be one of 24h, 7d; got '3d'"


def test_bogus_status_lists_every_allowed_status() -> None:
    """status=bogus is refused, naming the parameter and every allowed status."""
    message = error_of(status="bogus")
    assert message.startswith("status must be one of ")
    for status in STATUSES:
        assert status in message
    assert "got 'bogus'" in message


def test_one_bad_item_in_a_status_list_is_rejected() -> None:
    """A list is only accepted when every item is valid."""
    assert "got 'done'" in error_of(status="queued,done")


def test_status_list_with_empty_item_is_rejected() -> None:
    """A trailing comma is an empty item, which is not a status."""
    assert "got ''" in error_of(status="queued,")


def test_type_names_are_checked_for_form_only() -> None:
    """The type vocabulary is open: any well-formed name parses; a malformed one is refused
    naming the rule (whether a name is known is the API's check, with the store)."""
    assert q(type="checksum, scan").types == ("checksum", "scan")
    message = error_of(type="Scan")
    assert message.startswith("type must be job type names (1-40 characters")


def test_unknown_types_are_refused_naming_the_known_ones() -> None:
    """check_known_types names the parameter and every known type."""
    with pytest.raises(ParamError) as excinfo:
        check_known_types("type", ("scan", "bogus"), {"transcode", "scan"})
    assert str(excinfo.value) == (
        "type must be a registered job type or one present in the store: scan, transcode; got 'bogus'"
    )
    check_known_types("type", ("scan",), {"scan"})


def test_status_values_are_case_sensitive() -> None:
    """Statuses are lower-case names; `FAILED` is not one of them."""
    assert "got 'FAILED'" in error_of(status="FAILED")


def test_bogus_sort_lists_every_allowed_sort() -> None:
    """sort=bogus is refused naming `sort` and every allowed key."""
    message = error_of(sort="bogus")
    assert message.startswith("sort must be one of ")
    for sort in SORTS:
        assert sort in message
    assert "got 'bogus'" in message


@pytest.mark.parametrize("name", ["status", "type", "since", "sort", "limit", "offset"])
def test_duplicate_parameter_is_rejected(name: str) -> None:
    """A parameter given twice is an error, not a silent pick of one value."""
    assert error_of(**{name: ["a", "b"]}) == f"{name} is given 2 times; give it once"


def test_unknown_parameter_is_rejected_listing_the_allowed_ones() -> None:
    """An unknown parameter (a typo such as `stauts`) is named along with the allowed names."""
    message = error_of(stauts="failed")
    assert message == "unknown parameter 'stauts'; allowed: status, type, since, sort, limit, offset"


def test_long_or_hostile_values_are_shortened_and_escaped_in_messages() -> None:
    """A huge or control-character value shows short and printable in the error."""
    message = error_of(sort="x" * 500)
    assert len(message) < 300
    assert "…" in message
    message = error_of(since="\x1b[31m\n")
    assert "\x1b" not in message and "\n" not in message


def test_shown_truncates_at_width() -> None:
    """shown() keeps the first `width` characters and marks the cut."""
    assert shown("abcdef", width=3) == "'abc…'"
    assert shown("abc", width=3) == "'abc'"


def test_single_returns_none_when_absent_or_empty_list() -> None:
    """single() treats a missing name and an empty value list alike."""
    assert single({}, "limit") is None
    assert single({"limit": []}, "limit") is None
    assert single({"limit": ["5"]}, "limit") == "5"


def test_parse_int_and_parse_choices_directly() -> None:
    """The helpers name whichever parameter they are given."""
    with pytest.raises(ParamError, match="^lines must be from 1 to 9; got 10$"):
        parse_int("lines", "10", 1, 9)
    with pytest.raises(ParamError, match="^colour must be one of red, blue"):
        parse_choices("colour", "green", ("red", "blue"))


def test_reject_unknown_with_no_allowed_names() -> None:
    """An endpoint that takes no parameters says so."""
    with pytest.raises(ParamError, match="allowed: none"):
        reject_unknown({"x": ["1"]}, ())
    reject_unknown({}, ())
