// The rows of the jobs table, kept in step with the API by targeted updates: a changed
// job rewrites only the cells that show the changed fields (in the same <tr>), new jobs
// are inserted where the server's order puts them, jobs that left the page are removed,
// and rows that did not move stay untouched — so focus, scroll and text selection survive.
// A queued job whose type no live worker runs says so under its status badge ("Waiting
// for a worker that runs transcode"), decided from its status and type and the live
// workers per type (setTypeWorkers), never from the badge's text.
// A running job's progress cell also says its pace (job_pace.js): "~3 min left", or "No
// progress for 2 min" in warning colours; it ticks with the elapsed time.

import { formatDuration, formatTimestamp } from "./format.js";
import { stableIds } from "./job_diff.js";
import { statusKey, statusText, statusTitle } from "./job_status.js";
import { waitingText, waitingType } from "./job_types.js";
import { make, setAttr, setText } from "./dom_write.js";
import { JobPace } from "./job_pace.js";
import { DEFAULT_STALL_AFTER_S } from "./page_config.js";
import { createPaceNote, showPace } from "./pace_note.js";
import { createProgressBar, updateProgressBar } from "./progress_bar.js";

/** @typedef {import("./job_diff.js").Job} Job */
/** @typedef {import("./job_diff.js").JobsDiff} JobsDiff */
/** @typedef {{tr: HTMLTableRowElement, cells: Object<string, HTMLElement>, job: Job}} Row */
/**
 * What a cell's update sees besides its job (the table itself): the list's query (for
 * links), the type a queued job waits for a worker of ("" when it does not), and a
 * running job's pace.
 * @typedef {{listQuery: string, waitingFor: (job: Job) => string,
 *   paceView: (job: Job, nowMs: number) => import("./job_pace.js").PaceView}} CellContext
 */

const SHORT_ID = 8;

/** Elapsed (running) or total (ended) time of a job; "—" before it starts. */
function durationText(job, nowMs) {
  if (job.status === "running") {
    const started = Date.parse(job.started_at);
    // The API leaves duration_seconds null while a job runs (so that its response only
    // changes with its data): the page counts the time itself.
    if (!Number.isFinite(started)) return "—";
    return formatDuration(Math.max(0, Math.floor((nowMs - started) / 1000)));
  }
  return typeof job.duration_seconds === "number" ? formatDuration(job.duration_seconds) : "—";
}

/**
 * The detail page's address for a job; the list's own query rides along in `from`, so
 * the detail page's "back to the list" returns to the same view.
 *
 * @param {string} id
 * @param {string} listQuery  the list's query string without "?" ("" for the default view)
 * @returns {string}
 */
export function jobHref(id, listQuery = "") {
  const params = new URLSearchParams({ id });
  if (listQuery) params.set("from", listQuery);
  return `job.html?${params}`;
}

// Each shown cell: its data-field (the API field it stands for), the fields it depends
// on, how to build it once and how to bring it up to date (cell, job, now, CellContext).
// Updates go through setText / setAttr, which write only what differs.
const CELLS = [
  {
    field: "id",
    deps: ["id"],
    tag: "th",
    build: (cell, doc) => {
      cell.setAttribute("scope", "row");
      cell.append(make(doc, "a", "job-link"));
    },
    update: (cell, job, now, context) => {
      const link = cell.firstElementChild;
      setAttr(link, "href", jobHref(job.id, context.listQuery));
      setAttr(link, "title", job.id);
      setText(link, String(job.id).slice(0, SHORT_ID));
    },
  },
  {
    field: "job_type",
    deps: ["job_type"],
    update: (cell, job) => setText(cell, job.job_type),
  },
  {
    field: "status",
    deps: ["status", "job_type"],
    build: (cell, doc) => {
      cell.append(make(doc, "span", "badge"), make(doc, "span", "waiting-note", { "data-role": "waiting", hidden: "" }));
    },
    update: (cell, job, now, context) => {
      // Styling keys on data-status, never on the text; the text is there for everyone
      // who cannot tell the colours apart.
      const [badge, note] = cell.children;
      setAttr(badge, "data-status", statusKey(job.status));
      setAttr(badge, "title", statusTitle(job.status));
      setText(badge, statusText(job.status));
      const waiting = context.waitingFor(job);
      setText(note, waiting ? waitingText(waiting) : "");
      setAttr(note, "hidden", !waiting);
      setAttr(note, "data-waiting-for", waiting || null);
    },
  },
  {
    field: "file_path",
    deps: ["file_path"],
    update: (cell, job) => {
      setText(cell, job.file_path);
      setAttr(cell, "title", job.file_path);
    },
  },
  {
    field: "progress_percent",
    deps: ["status", "progress_percent", "processed_count", "total_count", "progress_unit", "progress_updated_at"],
    build: (cell, doc) => cell.append(createProgressBar(doc), createPaceNote(doc)),
    update: (cell, job, now, context) => {
      updateProgressBar(cell.firstElementChild, job);
      showPace(cell.lastElementChild, context.paceView(job, now));
    },
  },
  {
    field: "created_at",
    deps: ["created_at"],
    build: (cell, doc) => cell.append(make(doc, "time")),
    update: (cell, job) => {
      const time = cell.firstElementChild;
      const { text, title: full } = formatTimestamp(job.created_at);
      setAttr(time, "datetime", job.created_at);
      setAttr(time, "title", full || null);
      setText(time, text);
    },
  },
  {
    field: "duration_seconds",
    deps: ["status", "started_at", "completed_at", "duration_seconds"],
    update: (cell, job, nowMs) => setText(cell, durationText(job, nowMs)),
  },
];

/** The jobs table body and its rows, by job id. */
export class JobsTable {
  /**
   * @param {HTMLTableSectionElement} tbody  the (empty) <tbody> to fill
   * @param {{now?: () => number, stallAfterMs?: number}} [options]  clock for elapsed
   *   times (tests may pass their own); how long still progress takes to be a stall
   */
  constructor(tbody, { now = () => Date.now(), stallAfterMs = DEFAULT_STALL_AFTER_S * 1000 } = {}) {
    this.tbody = tbody;
    this.now = now;
    this.stallAfterMs = stallAfterMs;
    /** @type {Map<string, JobPace>} the pace of each running job shown */
    this.paces = new Map();
    /** @type {Map<string, Row>} */
    this.rows = new Map();
    this.listQuery = "";
    /** @type {Map<string, number> | null} live workers per type; null until known */
    this.typeWorkers = null;
  }

  /**
   * The type a job waits for a worker of ("" when it does not, or while the live
   * workers per type are not known yet).
   *
   * @param {Job} job
   * @returns {string}
   */
  waitingFor(job) {
    return waitingType(job, this.typeWorkers);
  }

  /**
   * A job's pace now ("none" unless it runs): CellContext's paceView.
   * @param {Job} job
   * @param {number} nowMs
   * @returns {import("./job_pace.js").PaceView}
   */
  paceView(job, nowMs) {
    const pace = this.paces.get(job.id);
    return pace ? pace.view(nowMs, { compact: true }) : { kind: "none", text: "" };
  }

  /**
   * Take in a version of a job: a running job's pace learns its progress; a job that no
   * longer runs has none.
   * @param {Job} job
   * @param {number} nowMs
   */
  observe(job, nowMs) {
    if (job.status !== "running") {
      this.paces.delete(job.id);
      return;
    }
    let pace = this.paces.get(job.id);
    if (!pace) {
      pace = new JobPace({ stallAfterMs: this.stallAfterMs, startedAt: job.started_at });
      this.paces.set(job.id, pace);
    }
    pace.observe(job, nowMs);
  }

  /**
   * Set how many live workers run each type (from GET /api/job-types); rewrites only the
   * status cells of queued jobs, and of those only what changed.
   *
   * @param {Map<string, number>} workers  type name -> live workers
   */
  setTypeWorkers(workers) {
    this.typeWorkers = workers;
    const statusCell = CELLS.find((cell) => cell.field === "status");
    const now = this.now();
    for (const row of this.rows.values()) {
      if (row.job.status === "queued") statusCell.update(row.cells.status, row.job, now, this);
    }
  }

  /**
   * Set the list's query that row links carry (see {@link jobHref}); rewrites the
   * links only when it changed.
   *
   * @param {string} query
   */
  setListQuery(query) {
    if (query === this.listQuery) return;
    this.listQuery = query;
    const idCell = CELLS.find((cell) => cell.field === "id");
    for (const row of this.rows.values()) idCell.update(row.cells.id, row.job, this.now(), this);
  }

  /**
   * Apply a diff from {@link import("./job_diff.js").diffJobs}: remove, update, insert
   * and reorder rows. Does nothing at all for an empty diff.
   *
   * @param {JobsDiff} diff
   */
  apply(diff) {
    for (const id of diff.removed) {
      this.rows.get(id)?.tr.remove();
      this.rows.delete(id);
      this.paces.delete(id);
    }
    const now = this.now();
    for (const [id, fields] of diff.changed) {
      const row = this.rows.get(id);
      if (!row) continue;
      row.job = diff.byId.get(id);
      this.observe(row.job, now);
      for (const cell of CELLS) {
        if (cell.deps.some((name) => fields.includes(name))) {
          cell.update(row.cells[cell.field], row.job, now, this);
        }
      }
    }
    for (const id of diff.added) this.rows.set(id, this.createRow(diff.byId.get(id), now));
    if (diff.added.length || diff.orderChanged) this.arrange(diff.order);
  }

  /**
   * Bring the elapsed time of running jobs up to date (once a second); touches nothing else.
   *
   * @param {number} [nowMs]
   */
  tick(nowMs = this.now()) {
    for (const row of this.rows.values()) {
      if (row.job.status !== "running") continue;
      setText(row.cells.duration_seconds, durationText(row.job, nowMs));
      showPace(row.cells.progress_percent.lastElementChild, this.paceView(row.job, nowMs));
    }
  }

  /** @returns {boolean} true while some shown job is running (the elapsed time needs ticking) */
  hasRunning() {
    for (const row of this.rows.values()) if (row.job.status === "running") return true;
    return false;
  }

  /** @returns {number} how many rows are shown */
  get size() {
    return this.rows.size;
  }

  /** Build the row of a new job (not yet in the table). */
  createRow(job, now) {
    const doc = this.tbody.ownerDocument;
    const tr = doc.createElement("tr");
    tr.dataset.jobId = job.id;
    this.observe(job, now);
    const cells = {};
    for (const cell of CELLS) {
      const element = doc.createElement(cell.tag ?? "td");
      element.dataset.field = cell.field;
      cell.build?.(element, doc);
      cell.update(element, job, now, this);
      cells[cell.field] = element;
      tr.append(element);
    }
    return { tr, cells, job };
  }

  /**
   * Put the rows in `order`, moving as few as possible: the longest run already in
   * order stays, the others are inserted before their successor.
   *
   * @param {string[]} order  ids, every one of them in this.rows
   */
  arrange(order) {
    const current = [...this.tbody.children].map((tr) => tr.dataset.jobId);
    const stable = stableIds(current, order);
    const active = this.tbody.ownerDocument.activeElement;
    const hadFocus = active && active !== this.tbody.ownerDocument.body && this.tbody.contains(active);
    let anchor = null;
    for (let i = order.length - 1; i >= 0; i -= 1) {
      const { tr } = this.rows.get(order[i]);
      if (!stable.has(order[i]) && !(tr.parentNode === this.tbody && tr.nextSibling === anchor)) {
        this.tbody.insertBefore(tr, anchor);
      }
      anchor = tr;
    }
    // Moving a node blurs what it contains: give a moved row's link its focus back.
    if (hadFocus && active.isConnected && this.tbody.ownerDocument.activeElement !== active) {
      active.focus({ preventScroll: true });
    }
  }
}
