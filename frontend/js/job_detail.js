// The detail page's view of one job: every JobDetailItem field in its own
// [data-field="<API field name>"] element, kept up to date by targeted updates. A new
// version of the job rewrites only the elements that show a changed field, through the
// write-if-different helpers, so a poll that changes nothing changes nothing on the page.
// The progress bar is progress_bar.js's, the same as on the dashboard rows.

import { changedFields } from "./job_diff.js";
import { make, setAttr, setText } from "./dom_write.js";
import { formatTimestamp, MISSING } from "./format.js";
import { statusKey, statusText, statusTitle } from "./job_status.js";
import { waitingText } from "./job_types.js";
import { progressInput, progressSentence } from "./job_progress.js";
import { JobPace } from "./job_pace.js";
import { timingView } from "./job_time.js";
import { DEFAULT_STALL_AFTER_S } from "./page_config.js";
import { showPace } from "./pace_note.js";
import { createProgressBar, updateProgressBar } from "./progress_bar.js";

/** @typedef {Object<string, unknown>} Job  a JobDetailItem as the API returns it */

function capitalized(text) {
  const value = String(text ?? "");
  return value ? value[0].toUpperCase() + value.slice(1) : "";
}

function textOr(value) {
  return value === null || value === undefined || value === "" ? MISSING : String(value);
}

function writeTime(element, iso) {
  const { text, title } = formatTimestamp(iso);
  setAttr(element, "datetime", typeof iso === "string" && iso ? iso : null);
  setAttr(element, "title", title || null);
  setText(element, text);
}

// summary_raw and params are objects: compared by their JSON text, so an unchanged
// summary (or set of parameters) is unchanged.
function comparable(job) {
  return { ...job, summary_raw: JSON.stringify(job.summary_raw ?? null), params: JSON.stringify(job.params ?? null) };
}

const PROGRESS_DEPS = ["status", "progress_percent", "processed_count", "total_count", "progress_unit", "summary_raw"];

/**
 * A parameter's value as text: a string as it is, anything else as JSON on one line with
 * a space after each separator (`{ "codec": "aac", "bitrate": "128k" }`), so that a long
 * value wraps between items. Strings inside keep their escapes: the only raw line breaks
 * in the indented JSON are its own.
 * @param {unknown} value
 * @returns {string}
 */
function paramText(value) {
  if (typeof value === "string") return value;
  return JSON.stringify(value, null, 1).replace(/\n */g, " ");
}

/**
 * A job's parameters as [key, text] rows, in the API's order.
 * @param {unknown} params  the JobDetailItem's params (an object; {} when none)
 * @returns {Array<[string, string]>}
 */
function paramRows(params) {
  if (typeof params !== "object" || params === null || Array.isArray(params)) return [];
  return Object.entries(params).map(([key, value]) => [key, paramText(value)]);
}

/** Rebuild the parameters list: one <div><dt>key</dt><dd>value</dd></div> per key, all text. */
function writeParams(list, params) {
  const doc = list.ownerDocument;
  const rows = paramRows(params).map(([key, value]) => {
    const row = make(doc, "div", "job-param");
    row.append(make(doc, "dt", "", {}, key), make(doc, "dd", "", {}, value));
    return row;
  });
  list.replaceChildren(...rows);
  return rows.length;
}

// Each part of the view: the fields it depends on and how to bring it up to date.
// `el(name)` finds [data-field=name] (or [data-role=name]) inside the view.
const PARTS = [
  {
    deps: ["id", "id_short"],
    update: (el, job) => {
      setText(el("id"), textOr(job.id));
      setText(el("id_short"), textOr(job.id_short ?? String(job.id ?? "").slice(0, 8)));
    },
  },
  {
    deps: ["job_type"],
    update: (el, job) => setText(el("job_type"), capitalized(job.job_type)),
  },
  {
    deps: ["status"],
    update: (el, job, _now, root) => {
      // Styling keys on data-status, never on the text.
      setAttr(el("status"), "data-status", statusKey(job.status));
      setAttr(el("status"), "title", statusTitle(job.status));
      setText(el("status"), statusText(job.status));
      setAttr(root, "data-status", statusKey(job.status));
    },
  },
  {
    deps: ["file_path"],
    update: (el, job) => {
      setText(el("file_path"), textOr(job.file_path));
      setAttr(el("file_path"), "title", job.file_path ? String(job.file_path) : null);
    },
  },
  { deps: ["priority"], update: (el, job) => setText(el("priority"), textOr(job.priority)) },
  { deps: ["policy_name"], update: (el, job) => setText(el("policy_name"), textOr(job.policy_name)) },
  {
    deps: ["output_path"],
    update: (el, job) => {
      setText(el("output_path"), textOr(job.output_path));
      setAttr(el("output_path"), "data-empty", !job.output_path); // "—" is not a path: no mono
    },
  },
  { deps: ["created_at"], update: (el, job) => writeTime(el("created_at"), job.created_at) },
  { deps: ["started_at"], update: (el, job) => writeTime(el("started_at"), job.started_at) },
  { deps: ["completed_at"], update: (el, job) => writeTime(el("completed_at"), job.completed_at) },
  {
    deps: ["status", "started_at", "duration_seconds"],
    update: (el, job, now) => writeTiming(el, job, now),
  },
  {
    deps: PROGRESS_DEPS,
    update: (el, job) => {
      updateProgressBar(el("progress_percent").firstElementChild, progressInput(job));
      const { verb, counts, text } = progressSentence(job);
      setText(el("progress-verb"), counts ? `${verb} ` : verb);
      setText(el("processed_count"), counts ? counts.processed : "");
      setText(el("progress-of"), counts ? " of " : "");
      setText(el("total_count"), counts ? counts.total : "");
      setText(el("progress-unit"), counts?.unit ? ` ${counts.unit}` : "");
      setAttr(el("progress-text"), "hidden", text === "");
    },
  },
  {
    deps: ["error_message"],
    update: (el, job) => {
      setText(el("error_message"), job.error_message ? String(job.error_message) : "");
      setAttr(el("error"), "hidden", !job.error_message);
    },
  },
  {
    deps: ["summary", "summary_raw"],
    update: (el, job) => {
      const raw = job.summary_raw && typeof job.summary_raw === "object" ? job.summary_raw : null;
      setText(el("summary"), job.summary ? String(job.summary) : "");
      setAttr(el("summary"), "hidden", !job.summary);
      setText(el("summary_raw"), raw ? JSON.stringify(raw, null, 2) : "");
      setAttr(el("summary-raw"), "hidden", !raw);
      setAttr(el("summary-section"), "hidden", !job.summary && !raw);
    },
  },
  {
    deps: ["params"],
    update: (el, job) => {
      // Parameters never change once a job is queued: rebuilt only when they do.
      const shown = writeParams(el("params"), job.params);
      setAttr(el("params-section"), "hidden", shown === 0);
    },
  },
  {
    // Where a VPO job came from ("cli", "daemon") and the batch it was queued with; jobdash's
    // own jobs have neither (null), and their rows stay hidden.
    deps: ["origin"],
    update: (el, job) => {
      setText(el("origin"), job.origin ? String(job.origin) : "");
      setAttr(el("origin-row"), "hidden", !job.origin);
    },
  },
  {
    deps: ["batch_id"],
    update: (el, job) => {
      setText(el("batch_id"), job.batch_id ? String(job.batch_id) : "");
      setAttr(el("batch-row"), "hidden", !job.batch_id);
    },
  },
  {
    deps: ["has_logs"],
    update: (el, job) => setText(el("has_logs"), job.has_logs ? "Yes" : "No"),
  },
];

function writeTiming(el, job, now) {
  const view = timingView(job, now);
  setText(el("duration-label"), view.label);
  setText(el("duration_seconds"), view.text);
  setText(el("duration-hint"), view.hint ? `(${view.hint})` : "");
}

/** One job's fields on the detail page. */
export class JobDetail {
  #root;
  #elements = new Map();
  /** @type {Job|null} the last job rendered (as compared) */
  #last = null;
  /** @type {Job|null} */
  #job = null;
  #stallAfterMs;
  /** @type {JobPace|null} the job's pace while it runs */
  #pace = null;

  /**
   * @param {HTMLElement} root  the view: holds every [data-field] / [data-role] element,
   *   and an empty [data-field="progress_percent"] that receives the progress bar
   * @param {{stallAfterMs?: number}} [options]  still progress for this long is a stall
   */
  constructor(root, { stallAfterMs = DEFAULT_STALL_AFTER_S * 1000 } = {}) {
    this.#root = root;
    this.#stallAfterMs = stallAfterMs;
    const doc = root.ownerDocument;
    for (const element of root.querySelectorAll("[data-field], [data-role]")) {
      this.#elements.set(element.dataset.field ?? element.dataset.role, element);
    }
    const holder = this.#el("progress_percent");
    if (!holder.firstElementChild) holder.append(createProgressBar(doc));
    // The bar's own "25 of 100 files" line would repeat the sentence above it.
    holder.firstElementChild.classList.add("progress-large");
  }

  /** @returns {Job|null} the job last rendered */
  get job() {
    return this.#job;
  }

  /**
   * Show a version of the job: only the parts whose fields changed are written.
   *
   * @param {Job} job     a JobDetailItem
   * @param {number} now  the current time (epoch ms), for a running job's elapsed time
   * @returns {string[]}  the names of the fields that changed (every field the first time)
   */
  render(job, now) {
    const next = comparable(job);
    const changed = this.#last ? changedFields(this.#last, next) : Object.keys(next);
    const el = (name) => this.#el(name);
    for (const part of PARTS) {
      if (!this.#last || part.deps.some((name) => changed.includes(name))) part.update(el, job, now, this.#root);
    }
    this.#last = next;
    this.#job = job;
    if (job.status === "running") {
      this.#pace ??= new JobPace({ stallAfterMs: this.#stallAfterMs, startedAt: job.started_at });
      this.#pace.observe(job, now);
    } else {
      this.#pace = null;
    }
    this.#showPace(now);
    return changed;
  }

  #showPace(now) {
    showPace(this.#el("pace"), this.#pace ? this.#pace.view(now) : { kind: "none", text: "" });
  }

  /**
   * Say that the job waits for a worker that runs its type, or (with "") that it does not.
   * The caller decides, from the job's status and the live workers per type
   * ({@link import("./job_types.js").waitingType}); only the note is written.
   *
   * @param {string} jobType  the type no live worker runs, or ""
   */
  showWaiting(jobType) {
    const note = this.#el("waiting");
    setText(note, jobType ? waitingText(jobType) : "");
    setAttr(note, "hidden", !jobType);
    setAttr(note, "data-waiting-for", jobType || null);
  }

  /**
   * Bring a running job's elapsed time up to date; touches nothing else.
   * @param {number} now  epoch ms
   */
  tick(now) {
    if (!this.#job) return;
    writeTiming((name) => this.#el(name), this.#job, now);
    this.#showPace(now);
  }

  #el(name) {
    const element = this.#elements.get(name);
    if (!element) throw new Error(`job view: no element for ${name}`);
    return element;
  }
}
