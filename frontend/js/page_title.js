/**
 * The tab titles: what a tab says about its job, or how many jobs run, when it is one of
 * many in the tab strip. Pure: the pages write the result into `document.title`.
 *
 *     jobTitle({status: "running", progress_percent: 47.5, job_type: "scan", id_short: "c02d6a3c"})
 *       // "● Running 47% — scan c02d6a3c"
 *     jobTitle({status: "completed", job_type: "scan", id_short: "c02d6a3c"})
 *       // "✓ Completed — scan c02d6a3c"
 *     dashboardTitle(3)  // "(3 running) Jobs — jobdash"
 *
 * @module page_title
 */

import { statusKey, statusText } from "./job_status.js";

/** A mark per status, so the state reads at a glance even when the title is cut short. */
const MARKS = Object.freeze({
  queued: "◌",
  running: "●",
  completed: "✓",
  failed: "✗",
  cancelled: "⊘",
  unknown: "?",
});

/**
 * Given a job (a JobDetailItem), return its tab title.
 * @param {{status: string, job_type?: string, id_short?: string, id?: string,
 *   progress_percent?: number, processed_count?: number|null, total_count?: number|null}} job
 * @returns {string}
 */
export function jobTitle(job) {
  const key = statusKey(job.status);
  const percent = Number(job.progress_percent);
  const counted = Number.isFinite(job.processed_count) && Number.isFinite(job.total_count) && job.total_count > 0;
  const hasProgress = counted || (Number.isFinite(percent) && percent > 0);
  // Whole percents only: 99.9% must not read as done.
  const progress = key === "running" && hasProgress ? ` ${Math.floor(Math.min(100, Math.max(0, percent)))}%` : "";
  const id = String(job.id_short ?? String(job.id ?? "").slice(0, 8));
  const type = String(job.job_type ?? "job");
  return `${MARKS[key]} ${statusText(job.status)}${progress} — ${type} ${id}`;
}

/**
 * Given how many jobs run, return the dashboard's tab title.
 * @param {number} running
 * @returns {string}
 */
export function dashboardTitle(running) {
  const count = Number.isSafeInteger(running) && running > 0 ? running : 0;
  return count ? `(${count.toLocaleString("en")} running) Jobs — jobdash` : "Jobs — jobdash";
}
