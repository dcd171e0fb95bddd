"""job_types.js and json_feed.js in the browser: the names the type filter offers, live
workers per type, which queued job waits for a worker, and one ETag-revalidated feed."""

from __future__ import annotations

from typing import Any

import pytest

from support.js_harness import (
    HarnessHTTPServer,
    harness_fixture,  # noqa: F401 (the `harness` fixture)
    open_module_page,
)

pytestmark = pytest.mark.browser

ANSWER = {
    "job_types": [
        {"name": "checksum", "description": "", "target": None, "workers": 0},
        {"name": "scan", "description": "Scan a directory", "target": "directory", "workers": 2},
        {"name": "transcode", "description": "", "target": "file", "workers": 0},
        {"name": "Bad Name", "description": "", "target": None, "workers": 1},
        {"name": "<img src=x>", "workers": "lots"},
        {"description": "no name"},
    ]
}


@pytest.fixture
def call(page: Any, harness: HarnessHTTPServer) -> Any:
    """call(name, *args) -> job_types.js's name(...args) in the page (Maps as entries)."""
    open_module_page(page, harness.base)

    def run(name: str, *args: Any) -> Any:
        return page.evaluate(
            """async ([name, args]) => {
                const m = await import("/js/job_types.js");
                const result = m[name](...args);
                return result instanceof Map ? [...result] : result;
            }""",
            [name, list(args)],
        )

    return run


def test_the_filter_offers_well_formed_names_in_the_apis_order(call: Any) -> None:
    assert call("typeNames", ANSWER) == ["checksum", "scan", "transcode"]
    assert call("typeNames", {"job_types": []}) == []
    assert call("typeNames", None) == []
    assert call("typeNames", {"job_types": "nope"}) == []


def test_live_workers_per_type(call: Any) -> None:
    assert call("workersByType", ANSWER) == [
        ["checksum", 0],
        ["scan", 2],
        ["transcode", 0],
        ["Bad Name", 1],
        ["<img src=x>", 0],
    ]


def test_a_store_that_does_not_know_its_workers_says_so(call: Any) -> None:
    """A VPO library: its workers do not register, so no type has a count and no queued
    job waits for one."""
    vpo = {**ANSWER, "workers_known": False}
    assert call("workersKnown", vpo) is False
    assert call("workersByType", vpo) is None
    assert call("waitingType", {"status": "queued", "job_type": "transcode"}, None) == ""
    assert call("workersKnown", ANSWER) is True
    assert call("workersKnown", {**ANSWER, "workers_known": True}) is True
    assert call("workersKnown", None) is True


@pytest.mark.parametrize(
    ("job", "waiting"),
    [
        ({"status": "queued", "job_type": "transcode"}, "transcode"),  # no live worker
        ({"status": "queued", "job_type": "checksum"}, "checksum"),
        ({"status": "queued", "job_type": "archive"}, "archive"),  # not listed at all
        ({"status": "queued", "job_type": "scan"}, ""),  # two live workers
        ({"status": "running", "job_type": "transcode"}, ""),  # only queued jobs wait
        ({"status": "failed", "job_type": "transcode"}, ""),
        ({"status": "queued"}, ""),
    ],
)
def test_a_queued_job_waits_when_no_live_worker_runs_its_type(
    page: Any, call: Any, job: dict[str, Any], waiting: str
) -> None:
    decided = page.evaluate(
        """async ([job, answer]) => {
            const m = await import("/js/job_types.js");
            return { known: m.waitingType(job, m.workersByType(answer)), unknown: m.waitingType(job, null) };
        }""",
        [job, ANSWER],
    )
    assert decided == {"known": waiting, "unknown": ""}, "nothing is said before the workers are known"


def test_the_waiting_text(call: Any) -> None:
    assert call("waitingText", "transcode") == "Waiting for a worker that runs transcode"


def test_a_feed_revalidates_with_its_etag_and_applies_only_a_200(page: Any, harness: HarnessHTTPServer) -> None:
    open_module_page(page, harness.base)
    result = page.evaluate(
        """async () => {
            const { JsonFeed } = await import("/js/json_feed.js");
            const applied = [];
            const feed = new JsonFeed("/api/test/etag", (data) => applied.push(data));
            const signal = new AbortController().signal;
            const statuses = [];
            for (let i = 0; i < 3; i += 1) statuses.push(await feed.fetch(signal));
            return { statuses, applied: applied.length, data: feed.data };
        }"""
    )
    assert result == {"statuses": [200, 304, 304], "applied": 1, "data": {"jobs": [{"id": "a"}], "total": 1}}
    etag_requests = [r for r in harness.requests if r["path"] == "/api/test/etag"][-3:]
    assert [r["headers"].get("If-None-Match") for r in etag_requests] == [None, '"jobs-v1"', '"jobs-v1"']
    assert [r["headers"].get("Prefer") for r in etag_requests] == [None] * 3, "feeds are not held"
