/**
 * The dashboard's workers strip (`#workers`), from `GET /api/workers`: how many workers
 * are alive, and per worker its host and pid, the types it runs, and the job it runs now
 * (a link to the job's page) — a gone worker greyed out and labelled "Gone" (never by
 * colour alone). Workers are kept by id and updated in place through the
 * write-if-different helpers, so an answer that changes nothing writes nothing.
 *
 * Hooks: `#workers[data-alive="<n>"]`; one child per worker,
 * `[data-worker-id="<id>"][data-state="alive|gone"]`, with `[data-field="state|host|pid|
 * types|current_job"]`; `[data-role="workers-empty"]` when none is registered.
 *
 * @module workers_strip
 */

import { make, setAttr, setText } from "./dom_write.js";
import { formatTimestamp } from "./format.js";
import { jobHref } from "./jobs_table.js";

const SHORT_ID = 8;

/**
 * @typedef {object} WorkerItem  one entry of `{"workers": [...]}`
 * @property {string} id
 * @property {string} host
 * @property {number} pid
 * @property {string[]} types
 * @property {"alive" | "gone"} state
 * @property {string | null} started_at
 * @property {string | null} stopped_at
 * @property {{id: string, job_type: string | null, file_path: string | null} | null} current_job
 *
 * @typedef {{root: HTMLElement, fields: Object<string, HTMLElement>, link: HTMLAnchorElement,
 *            jobText: HTMLElement, worker: WorkerItem}} WorkerView
 */

/**
 * The workers of an answer, alive ones first (each group in the API's order).
 * @param {unknown} data
 * @returns {WorkerItem[]}
 */
function workersOf(data) {
  const list = data && typeof data === "object" && Array.isArray(data.workers) ? data.workers : [];
  const valid = list.filter((worker) => worker && typeof worker.id === "string" && worker.id);
  const alive = valid.filter((worker) => worker.state === "alive");
  return [...alive, ...valid.filter((worker) => worker.state !== "alive")];
}

/**
 * The hover text of a worker: when it started (and stopped).
 * @param {WorkerItem} worker
 * @returns {string}
 */
function titleOf(worker) {
  const started = formatTimestamp(worker.started_at).text;
  const stopped = worker.stopped_at ? `, stopped ${formatTimestamp(worker.stopped_at).text}` : "";
  return `Started ${started}${stopped}`;
}

/** The workers strip of the dashboard. */
export class WorkersStrip {
  #root;
  #count;
  #empty;
  /** @type {Map<string, WorkerView>} */
  #views = new Map();
  #listQuery = "";
  /** Whether the store knows its workers (a VPO library's do not register here). */
  #known = true;
  /** An answer has been shown. */
  #rendered = false;

  /**
   * @param {HTMLElement} root  `#workers`: holds [data-role="workers-count"] and
   *   [data-role="workers-empty"]; worker elements are appended after them
   */
  constructor(root) {
    this.#root = root;
    this.#count = root.querySelector('[data-role="workers-count"]');
    this.#empty = root.querySelector('[data-role="workers-empty"]');
  }

  /**
   * Set the list's query that job links carry (see jobs_table.js jobHref); rewrites
   * the links only when it changed.
   *
   * @param {string} query
   */
  setListQuery(query) {
    if (query === this.#listQuery) return;
    this.#listQuery = query;
    for (const view of this.#views.values()) this.#updateJob(view);
  }

  /**
   * Say whether the store knows its workers (`workers_known` of GET /api/job-types). A
   * store whose workers do not register here (a VPO library) has no strip at all: "No
   * workers registered — start one with jobdash worker" would be wrong there.
   *
   * @param {boolean} known
   */
  setKnown(known) {
    this.#known = known;
    setAttr(this.#root, "hidden", !this.#rendered || !known);
  }

  /**
   * Show an answer of `GET /api/workers`: add, update, reorder and remove workers.
   *
   * @param {unknown} data  `{"workers": [WorkerItem], "alive": n}` (`"workers_known":
   *   false` hides the strip, as {@link setKnown} does)
   */
  render(data) {
    if (data && typeof data === "object" && data.workers_known === false) this.#known = false;
    const workers = workersOf(data);
    const alive = workers.filter((worker) => worker.state === "alive").length;
    const gone = workers.length - alive;
    this.#rendered = true;
    setAttr(this.#root, "data-alive", alive);
    setAttr(this.#root, "hidden", !this.#known);
    setText(this.#count, workers.length ? `${alive} alive${gone ? `, ${gone} gone` : ""}` : "");
    setAttr(this.#empty, "hidden", workers.length > 0);

    const ids = new Set(workers.map((worker) => worker.id));
    for (const [id, view] of this.#views) {
      if (!ids.has(id)) {
        view.root.remove();
        this.#views.delete(id);
      }
    }
    // Worker elements follow the empty note, in order; only misplaced ones move.
    let previous = this.#empty;
    for (const worker of workers) {
      let view = this.#views.get(worker.id);
      if (!view) {
        view = this.#create(worker);
        this.#views.set(worker.id, view);
      }
      view.worker = worker;
      this.#update(view);
      if (previous.nextElementSibling !== view.root) previous.after(view.root);
      previous = view.root;
    }
  }

  /**
   * Build the (empty) element of a new worker.
   * @param {WorkerItem} worker
   * @returns {WorkerView}
   */
  #create(worker) {
    const doc = this.#root.ownerDocument;
    const root = make(doc, "div", "worker", { "data-worker-id": worker.id });
    const fields = {};
    for (const name of ["state", "host", "pid", "types", "current_job"]) {
      fields[name] = make(doc, "span", `worker-${name.replace("_", "-")}`, { "data-field": name });
    }
    const name = make(doc, "span", "worker-name");
    name.append(fields.host, make(doc, "span", "worker-pid-label", {}, " pid "), fields.pid);
    const jobText = make(doc, "span", "worker-job-text");
    const link = make(doc, "a", "worker-job-link");
    fields.current_job.append(jobText, link);
    root.append(fields.state, name, fields.types, fields.current_job);
    return { root, fields, link, jobText, worker };
  }

  /**
   * Bring a worker's element up to date (writes only what differs).
   * @param {WorkerView} view
   */
  #update(view) {
    const { worker, fields, root } = view;
    const alive = worker.state === "alive";
    setAttr(root, "data-state", alive ? "alive" : "gone");
    setAttr(root, "title", titleOf(worker));
    setText(fields.state, alive ? "Alive" : "Gone");
    setText(fields.host, String(worker.host ?? ""));
    setText(fields.pid, String(worker.pid ?? ""));
    const types = Array.isArray(worker.types) ? worker.types.map(String) : [];
    setText(fields.types, types.length ? types.join(", ") : "no types");
    this.#updateJob(view);
  }

  /**
   * The worker's current job: "running <link>" or "idle"; nothing for a gone worker.
   * @param {WorkerView} view
   */
  #updateJob(view) {
    const { worker, fields, link, jobText } = view;
    const alive = worker.state === "alive";
    const job = alive && worker.current_job && typeof worker.current_job.id === "string" ? worker.current_job : null;
    setAttr(fields.current_job, "hidden", !alive);
    setText(jobText, job ? "running " : alive ? "idle" : "");
    setAttr(link, "hidden", !job);
    setAttr(link, "href", job ? jobHref(job.id, this.#listQuery) : null);
    setAttr(link, "title", job?.file_path ? String(job.file_path) : null);
    setText(link, job ? `${job.job_type ?? "job"} ${job.id.slice(0, SHORT_ID)}` : "");
  }
}
