"""frontend/js/notify_toggle.js: the words of the end notification, and the toggle's
states with a scripted Notification API (granted, denied, missing)."""

from __future__ import annotations

from typing import Any

import pytest

from support.js_harness import (
    HarnessHTTPServer,
    harness_fixture,  # noqa: F401 (the `harness` fixture)
    open_module_page,
)

pytestmark = pytest.mark.browser

JOB = {"job_type": "scan", "id_short": "c02d6a3c", "id": "c02d6a3c-0000-4000-8000-000000000000"}

# A toggle on a button and a note, with a scripted Notification API; clicks it `clicks`
# times, then reports the job's end twice. Returns what the button and note say and
# what was asked and shown.
TOGGLE = """async ([answer, permission, clicks, job, missing]) => {
  const { NotifyToggle } = await import("/js/notify_toggle.js");
  document.body.innerHTML = '<p hidden><button id="b">Notify me</button><span id="n"></span></p>';
  const shown = []; let asked = 0;
  const api = missing ? undefined : class {
    static permission = permission;
    static async requestPermission() { asked += 1; return answer; }
    constructor(title, options) { shown.push({ title, ...options }); }
  };
  const changes = [];
  const toggle = new NotifyToggle(document.getElementById("b"), document.getElementById("n"),
    { api: missing ? null : api, onChange: (on) => changes.push(on) });
  toggle.start();
  const button = document.getElementById("b");
  for (let i = 0; i < clicks; i += 1) { button.click(); await new Promise((r) => setTimeout(r, 0)); }
  const sent = [toggle.jobEnded(job), toggle.jobEnded(job)];
  return { state: button.dataset.notify, pressed: button.getAttribute("aria-pressed"),
           disabled: button.disabled, note: document.getElementById("n").textContent,
           visible: !button.parentElement.hidden, asked, shown, sent, changes };
}"""


@pytest.fixture
def toggle(page: Any, harness: HarnessHTTPServer) -> Any:
    open_module_page(page, harness.base)

    def run(answer: str = "granted", permission: str = "default", clicks: int = 1, *, missing: bool = False) -> Any:
        job = {**JOB, "status": "completed", "duration_seconds": 185}
        return page.evaluate(TOGGLE, [answer, permission, clicks, job, missing])

    return run


def test_no_question_before_a_click(toggle: Any) -> None:
    result = toggle(clicks=0)
    assert (result["asked"], result["state"], result["pressed"], result["visible"]) == (0, "off", "false", True)
    assert result["shown"] == [] and result["sent"] == [False, False]


def test_granted_on_click_then_one_notification(toggle: Any) -> None:
    result = toggle("granted")
    assert (result["asked"], result["state"], result["pressed"], result["changes"]) == (1, "on", "true", [True])
    assert result["shown"] == [
        {"title": "scan c02d6a3c", "body": "Completed after 3 min 05 s", "tag": f"jobdash-{JOB['id']}"}
    ]
    assert result["sent"] == [True, False], "once"


def test_denied_says_so_and_stays_off(toggle: Any) -> None:
    result = toggle("denied", clicks=2)
    assert (result["state"], result["pressed"], result["asked"]) == ("denied", "false", 2)
    assert "blocked" in result["note"] and result["shown"] == [] and result["changes"] == []


def test_denied_before_the_page_loaded(toggle: Any) -> None:
    result = toggle(permission="denied", clicks=0)
    assert (result["state"], result["pressed"]) == ("denied", "false")


def test_already_granted_turns_on_and_off_without_asking(toggle: Any) -> None:
    result = toggle(permission="granted", clicks=2)
    assert (result["asked"], result["state"], result["changes"]) == (0, "off", [True, False])
    assert result["shown"] == []


def test_a_browser_without_notifications(toggle: Any) -> None:
    result = toggle(missing=True)
    assert (result["state"], result["disabled"]) == ("unsupported", True)
    assert result["note"] == "This browser cannot show notifications."


@pytest.mark.parametrize(
    ("job", "body"),
    [
        ({"status": "completed", "duration_seconds": 185}, "Completed after 3 min 05 s"),
        ({"status": "failed", "duration_seconds": 12, "error_message": "disk full"}, "Failed after 12 s: disk full"),
        ({"status": "cancelled", "duration_seconds": None}, "Cancelled"),
    ],
)
def test_end_notice_words(page: Any, harness: HarnessHTTPServer, job: dict[str, Any], body: str) -> None:
    open_module_page(page, harness.base)
    notice = page.evaluate("async (job) => (await import('/js/notify_toggle.js')).endNotice(job)", {**JOB, **job})
    assert notice == {"title": "scan c02d6a3c", "body": body}
