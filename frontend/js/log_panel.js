// The detail page's log panel: #job-log holds one <li> per log line, appended (never
// re-rendered) as new lines arrive, written with textContent only. It follows the tail
// only while the reader is scrolled to the bottom; scrolled up, new lines wait behind a
// "Jump to latest" button instead of moving the text being read. The list is not a live
// region (a scan logs a line per file: announcing them would drown a screen reader).
//
// Hooks: #job-log[data-following="true|false"], #job-log > li[data-line] (1-based
// absolute line number) and the panel's data-state (its poller's state; "updating" while
// a log request is in flight, with aria-busy).

import { setAttr, setText } from "./dom_write.js";
import { formatCount } from "./format.js";
import { isTerminal } from "./job_time.js";
import { parseLogLine, splitClock } from "./log_line.js";
import { planLog } from "./log_state.js";

/** The most lines the page keeps; older ones are dropped as new ones arrive. */
export const MAX_LINES = 5000;
/** Scrolled to within this many pixels of the bottom counts as "at the bottom". */
const BOTTOM_SLACK_PX = 24;

/**
 * One line's element: the time and the level (jobdash's own lines) in spans for styling,
 * the rest as text. A jobdash line's element has exactly the line as its textContent; a
 * VPO line ("[time] message") shows as "time message", like a jobdash line without a
 * level (log_line.js). Anything else is the line as it is.
 *
 * @param {Document} doc
 * @param {string} text
 * @param {number} number  1-based absolute line number
 * @returns {HTMLLIElement}
 */
function lineElement(doc, text, number) {
  const li = doc.createElement("li");
  li.dataset.line = String(number);
  const parts = parseLogLine(text);
  if (!parts) {
    li.textContent = text;
    return li;
  }
  const time = doc.createElement("span");
  time.className = "log-time";
  if (parts.date) {
    // The date in a span of its own, so that a narrow screen can show the time of day only.
    const date = doc.createElement("span");
    date.className = "log-date";
    date.textContent = parts.date;
    time.append(date);
  }
  const fine = splitClock(parts.clock);
  if (fine) {
    // Digits past the millisecond (VPO's microseconds) in a span too: left out on a phone.
    const extra = doc.createElement("span");
    extra.className = "log-fine";
    extra.textContent = fine[1];
    time.append(fine[0], extra, fine[2]);
  } else {
    time.append(parts.clock);
  }
  if (!parts.level) {
    li.append(time, " ", parts.message);
    return li;
  }
  li.dataset.level = parts.level.toLowerCase();
  const level = doc.createElement("span");
  level.className = "log-level";
  level.textContent = parts.level;
  li.append(time, " ", level, " ", parts.message);
  return li;
}

/** The log panel of the detail page. */
export class LogPanel {
  #doc;
  #list;
  #jump;
  #empty;
  #note;
  #count;
  #root;
  #maxLines;
  /** @type {import("./log_state.js").LogWindow|null} */
  #held = null;
  #reload = false;
  #following = true;
  #unseen = 0;
  #total = 0;
  #status = "";

  /**
   * @param {HTMLElement} root  the panel: contains #job-log, #log-jump, #job-log-empty,
   *   #job-log-note and [data-role=log-count]
   * @param {{maxLines?: number}} [options]
   */
  constructor(root, { maxLines = MAX_LINES } = {}) {
    this.#root = root;
    this.#doc = root.ownerDocument;
    const find = (selector) => root.querySelector(selector);
    this.#list = find("#job-log");
    this.#jump = find("#log-jump");
    this.#empty = find("#job-log-empty");
    this.#note = find("#job-log-note");
    this.#count = find('[data-role="log-count"]');
    this.#maxLines = maxLines;
    this.#list.addEventListener("scroll", this.#onScroll, { passive: true });
    this.#jump.addEventListener("click", this.#onJump);
    setAttr(this.#list, "data-following", "true");
  }

  /**
   * The lines held ([start, end) absolute indexes), or null when the next request must
   * fetch the tail (nothing loaded yet, or the log no longer continues what is held).
   * @returns {import("./log_state.js").LogWindow|null}
   */
  get held() {
    return this.#reload ? null : this.#held;
  }

  /** @returns {boolean} whether new lines scroll into view */
  get following() {
    return this.#following;
  }

  /**
   * Apply a logs response.
   *
   * @param {import("./log_state.js").LogSlice} slice
   * @returns {{more: boolean}} more: fetch again at once (more lines wait, or a reload)
   */
  apply(slice) {
    const plan = planLog(this.held, slice, this.#maxLines);
    if (plan.action === "reload") {
      this.#reload = true;
      return { more: true };
    }
    if (Number.isSafeInteger(slice?.total_lines)) this.#total = slice.total_lines;
    if (plan.action === "replace") this.#replace(plan);
    else if (plan.action === "append") this.#append(plan);
    this.#held = { start: plan.start, end: plan.end };
    this.#reload = false;
    this.#renderInfo();
    // After #renderInfo: the list may only now be shown, and a hidden list cannot scroll.
    if (this.#following) this.#scrollToEnd();
    return { more: plan.more };
  }

  /**
   * Tell the panel the job's status, for its empty state.
   * @param {string} status
   */
  setStatus(status) {
    this.#status = status;
    this.#renderInfo();
  }

  /**
   * Show a log poller's state (data-state, aria-busy while a request is in flight).
   * @param {import("./polling.js").PollerState} state
   */
  setState(state) {
    setAttr(this.#root, "data-state", state.state);
    setAttr(this.#root, "aria-busy", state.state === "updating" ? "true" : null);
  }

  // --- internals ---------------------------------------------------------------------------

  #replace(plan) {
    const fragment = this.#doc.createDocumentFragment();
    plan.lines.forEach((text, index) => fragment.append(lineElement(this.#doc, text, plan.start + index + 1)));
    this.#list.replaceChildren(fragment);
    this.#unseen = 0;
    this.#following = true; // a fresh list starts at its end
    setAttr(this.#list, "data-following", "true");
  }

  #append(plan) {
    const fragment = this.#doc.createDocumentFragment();
    const first = plan.end - plan.lines.length;
    plan.lines.forEach((text, index) => fragment.append(lineElement(this.#doc, text, first + index + 1)));
    const list = this.#list;
    list.append(fragment);
    if (plan.trim > 0) {
      // Dropping lines above the reader moves the text up: scroll back by as much.
      const before = list.scrollHeight;
      for (let i = 0; i < plan.trim && list.firstElementChild; i += 1) list.firstElementChild.remove();
      if (!this.#following) list.scrollTop -= before - list.scrollHeight;
    }
    if (!this.#following) this.#unseen += plan.lines.length;
  }

  #renderInfo() {
    const held = this.#held;
    const shown = held ? held.end - held.start : 0;
    const none = held !== null && this.#total === 0 && shown === 0;
    setAttr(this.#list, "hidden", none || held === null);
    setAttr(this.#empty, "hidden", !(none || (held === null && this.#status === "queued")));
    setText(this.#empty, this.#emptyText());
    setText(this.#count, held && this.#total > 0 ? `${formatCount(this.#total)} ${this.#total === 1 ? "line" : "lines"}` : "");
    const partial = held !== null && held.start > 0;
    setAttr(this.#note, "hidden", !partial);
    setText(this.#note, partial ? `Showing lines ${formatCount(held.start + 1)}–${formatCount(held.end)}; earlier lines are not shown.` : "");
    setAttr(this.#jump, "hidden", this.#following || this.#unseen === 0);
    const label = this.#unseen === 1 ? "1 new line" : `${formatCount(this.#unseen)} new lines`;
    setText(this.#jump, `Jump to latest (${label})`);
  }

  #emptyText() {
    if (this.#status === "queued") return "The log starts when the job runs.";
    // Running, or a status this page does not know (it may still change): lines may come.
    if (!isTerminal(this.#status)) return "No log lines yet.";
    return "This job has no log.";
  }

  #atBottom() {
    const list = this.#list;
    return list.scrollHeight - list.scrollTop - list.clientHeight <= BOTTOM_SLACK_PX;
  }

  #scrollToEnd() {
    this.#list.scrollTop = this.#list.scrollHeight;
  }

  #follow(on) {
    this.#following = on;
    setAttr(this.#list, "data-following", on ? "true" : "false");
    if (on) {
      this.#unseen = 0;
      this.#scrollToEnd();
    }
    this.#renderInfo();
  }

  #onScroll = () => {
    const bottom = this.#atBottom();
    if (bottom !== this.#following) this.#follow(bottom);
  };

  #onJump = () => {
    this.#follow(true);
    // The button hides itself: keep the keyboard in the log rather than on <body>.
    this.#list.focus({ preventScroll: true });
  };
}
