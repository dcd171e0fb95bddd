"""workers_strip.js in the browser: alive and gone workers with their host, pid, types and
current job (a link to its page), alive ones first; the empty state; updates in place, and
nothing written for an answer that changes nothing. Data is text, never markup."""

from __future__ import annotations

from typing import Any

import pytest

from support.js_harness import (
    HarnessHTTPServer,
    harness_fixture,  # noqa: F401 (the `harness` fixture)
    open_module_page,
)

pytestmark = pytest.mark.browser

JOB = "0b7e2b5e-8f4f-4d3c-9a51-2f1f5b8f0c11"

SETUP = """async () => {
  const { WorkersStrip } = await import("/js/workers_strip.js");
  document.body.innerHTML = `<section id="workers" hidden>
    <h2>Workers <span data-role="workers-count"></span></h2>
    <p data-role="workers-empty" hidden>No workers registered — start one with <code>jobdash worker</code></p>
  </section>`;
  const root = document.getElementById("workers");
  window.strip = new WorkersStrip(root);
  window.records = [];
  new MutationObserver((r) => window.records.push(...r)).observe(root,
    { subtree: true, childList: true, attributes: true, characterData: true });
  window.show = () => ({
    hidden: root.hidden,
    alive: root.dataset.alive,
    count: root.querySelector("[data-role=workers-count]").textContent,
    empty: !root.querySelector("[data-role=workers-empty]").hidden,
    workers: [...root.children].filter((el) => el.dataset.workerId).map((el) => ({
      id: el.dataset.workerId,
      state: el.dataset.state,
      fields: Object.fromEntries([...el.querySelectorAll("[data-field]")].map((f) => [f.dataset.field, f.hidden ? null : f.textContent])),
      href: el.querySelector("a")?.getAttribute("href") ?? null,
      linkHidden: el.querySelector("a")?.hidden ?? null,
    })),
  });
}"""


def worker(wid: str, state: str = "alive", job: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "id": wid,
        "host": fields.get("host", "media-01"),
        "pid": fields.get("pid", 4242),
        "types": fields.get("types", ["scan", "transcode"]),
        "state": state,
        "started_at": "2025-11-29T14:03:12Z",
        "stopped_at": "2025-11-29T15:00:00Z" if state == "gone" else None,
        "current_job": job,
    }


def answer(*workers: dict[str, Any]) -> dict[str, Any]:
    return {"workers": list(workers), "alive": sum(w["state"] == "alive" for w in workers)}


@pytest.fixture
def strip(page: Any, harness: HarnessHTTPServer) -> Any:
    open_module_page(page, harness.base)
    page.evaluate(SETUP)

    def render(data: dict[str, Any], query: str | None = None) -> dict[str, Any]:
        return page.evaluate(
            "([data, query]) => { if (query !== null) strip.setListQuery(query); strip.render(data); return show(); }",
            [data, query],
        )

    render.page = page
    return render


def mutations(page: Any) -> int:
    return page.evaluate("() => { const n = window.records.length; window.records = []; return n; }")


def test_alive_and_gone_workers_with_what_they_run(strip: Any) -> None:
    running = {"id": JOB, "job_type": "scan", "file_path": "/srv/media/Movies"}
    shown = strip(answer(worker("w-gone", "gone", types=["transcode"]), worker("w-1", job=running)))
    assert shown["hidden"] is False and shown["alive"] == "1" and shown["empty"] is False
    assert shown["count"] == "1 alive, 1 gone"
    alive, gone = shown["workers"]  # alive first
    assert alive == {
        "id": "w-1",
        "state": "alive",
        "fields": {
            "state": "Alive",
            "host": "media-01",
            "pid": "4242",
            "types": "scan, transcode",
            "current_job": f"running scan {JOB[:8]}",
        },
        "href": f"job.html?id={JOB}",
        "linkHidden": False,
    }
    # Gone: labelled in words, no current job.
    assert gone["id"] == "w-gone" and gone["state"] == "gone"
    assert gone["fields"]["state"] == "Gone" and gone["fields"]["current_job"] is None
    assert gone["fields"]["types"] == "transcode"
    page = strip.page
    link = page.locator('[data-worker-id="w-1"] a')
    assert link.get_attribute("title") == "/srv/media/Movies"
    assert "stopped" in page.locator('[data-worker-id="w-gone"]').get_attribute("title")


def test_an_idle_worker_and_the_empty_state(strip: Any) -> None:
    shown = strip(answer(worker("w-1")))
    assert shown["workers"][0]["fields"]["current_job"] == "idle"
    assert shown["workers"][0]["linkHidden"] is True and shown["workers"][0]["href"] is None
    assert shown["count"] == "1 alive"
    empty = strip(answer())
    assert empty["workers"] == [] and empty["empty"] is True and empty["alive"] == "0" and empty["count"] == ""


def test_updates_happen_in_place_and_an_unchanged_answer_writes_nothing(strip: Any) -> None:
    page = strip.page
    strip(answer(worker("w-1"), worker("w-2", types=["transcode"])))
    page.evaluate("() => { window.tagged = document.querySelector('[data-worker-id=w-1]'); }")
    mutations(page)
    strip(answer(worker("w-1"), worker("w-2", types=["transcode"])))
    assert mutations(page) == 0, "an unchanged answer changed the strip"

    running = {"id": JOB, "job_type": "transcode", "file_path": "/srv/a.mkv"}
    shown = strip(answer(worker("w-1", "gone"), worker("w-2", types=["transcode"], job=running)))
    assert [(w["id"], w["state"]) for w in shown["workers"]] == [("w-2", "alive"), ("w-1", "gone")]
    assert shown["workers"][0]["fields"]["current_job"] == f"running transcode {JOB[:8]}"
    assert page.evaluate("() => window.tagged === document.querySelector('[data-worker-id=w-1]')")
    assert mutations(page) > 0
    shown = strip(answer(worker("w-2", types=["transcode"], job=running)))
    assert [w["id"] for w in shown["workers"]] == ["w-2"]


def test_job_links_carry_the_lists_view(strip: Any) -> None:
    running = {"id": JOB, "job_type": "scan", "file_path": "/srv"}
    shown = strip(answer(worker("w-1", job=running)), "status=running")
    assert shown["workers"][0]["href"] == f"job.html?id={JOB}&from=status%3Drunning"


def test_hostile_data_is_text(strip: Any) -> None:
    evil = "<img src=x onerror=window.__xss=1>"
    running = {"id": JOB, "job_type": evil, "file_path": evil}
    shown = strip(answer(worker(evil, host=evil, types=[evil], job=running)))
    fields = shown["workers"][0]["fields"]
    assert fields["host"] == evil and fields["types"] == evil
    assert fields["current_job"] == f"running {evil} {JOB[:8]}"
    assert shown["workers"][0]["id"] == evil
    assert strip.page.evaluate("document.querySelectorAll('#workers img').length") == 0
    assert strip.page.evaluate("typeof window.__xss") == "undefined"


def test_a_store_that_does_not_know_its_workers_has_no_strip(strip: Any) -> None:
    """A VPO library's workers do not register: "No workers registered — start one with
    jobdash worker" would be wrong there, so the strip is hidden (told by the job types,
    or by the workers answer itself), and back once the workers are known."""
    page = strip.page
    assert page.evaluate("() => { strip.setKnown(false); return show().hidden; }") is True
    assert strip(answer())["hidden"] is True
    assert page.evaluate("() => { strip.setKnown(true); return show(); }")["empty"] is True
    assert page.evaluate("() => show().hidden") is False
    assert strip({**answer(), "workers_known": False})["hidden"] is True
