/**
 * What `GET /api/job-types` tells the pages: the type names the dashboard's type filter
 * offers, and how many live workers run each type — so that a queued job whose type no
 * live worker runs can say that it waits for one. Pure: no DOM, no fetch.
 *
 * @module job_types
 */

/** A job type name as the API accepts it in `type=` (backend/jobdash/model/states.py). */
export const JOB_TYPE_NAME = /^[a-z][a-z0-9_-]{0,39}$/;

/**
 * @typedef {object} JobTypeItem  one entry of `{"job_types": [...]}`
 * @property {string} name
 * @property {string} [description]
 * @property {string | null} [target]   "directory" | "file" | "path" | "any" | null
 * @property {number} [workers]         live workers that run it
 */

/**
 * The entries of a job-types answer, or [] when it is not one.
 * @param {unknown} data
 * @returns {JobTypeItem[]}
 */
function items(data) {
  const list = data && typeof data === "object" ? data.job_types : null;
  return Array.isArray(list) ? list.filter((item) => item && typeof item.name === "string") : [];
}

/**
 * The type names a filter can offer, in the API's order (sorted by name), each once;
 * names the API would refuse in `type=` (malformed rows written by another process)
 * are left out.
 *
 * @param {unknown} data  a `GET /api/job-types` answer
 * @returns {string[]}
 */
export function typeNames(data) {
  const names = items(data).map((item) => item.name).filter((name) => JOB_TYPE_NAME.test(name));
  return [...new Set(names)];
}

/**
 * Whether the store knows its workers: false when the answer says `workers_known: false`
 * (another program's store, such as a VPO library, whose workers do not register here),
 * else true.
 *
 * @param {unknown} data  a `GET /api/job-types` (or `GET /api/workers`) answer
 * @returns {boolean}
 */
export function workersKnown(data) {
  return !(data && typeof data === "object" && data.workers_known === false);
}

/**
 * How many live workers run each type.
 *
 * @param {unknown} data  a `GET /api/job-types` answer
 * @returns {Map<string, number> | null}  type name -> live workers (0 when none); null
 *   when the answer says workers are not known (`workers_known: false`)
 */
export function workersByType(data) {
  if (!workersKnown(data)) return null;
  const counts = new Map();
  for (const item of items(data)) {
    const workers = Number(item.workers);
    counts.set(item.name, Number.isFinite(workers) && workers > 0 ? workers : 0);
  }
  return counts;
}

/**
 * The type a job waits for a worker of: its own type when it is queued and no live
 * worker runs that type (0 workers, or a type the answer does not list); "" when it
 * does not wait for one, or when the workers are not known yet (`workers` null).
 * Decided from the job's status and type fields, never from any text on the page.
 *
 * @param {{status?: unknown, job_type?: unknown}} job
 * @param {Map<string, number> | null} workers  from {@link workersByType}
 * @returns {string}
 */
export function waitingType(job, workers) {
  if (!workers || job?.status !== "queued") return "";
  const type = typeof job.job_type === "string" ? job.job_type : "";
  if (!type) return "";
  return (workers.get(type) ?? 0) > 0 ? "" : type;
}

/**
 * The note a waiting job shows.
 *
 * @param {string} jobType
 * @returns {string}  e.g. "Waiting for a worker that runs transcode"
 */
export function waitingText(jobType) {
  return `Waiting for a worker that runs ${jobType}`;
}
