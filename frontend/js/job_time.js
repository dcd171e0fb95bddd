// A job's elapsed time or duration, for the detail page. The API leaves duration_seconds
// null until a job ends (so that a running job's response changes only with its data):
// the page counts a running job's time itself, from started_at. Pure: the caller passes
// the clock.

import { formatDuration, MISSING } from "./format.js";

/** Statuses after which a job never changes again. */
export const TERMINAL_STATUSES = Object.freeze(["completed", "failed", "cancelled"]);

/**
 * Whether a status is terminal (completed, failed or cancelled).
 *
 * @param {string} status
 * @returns {boolean}
 */
export function isTerminal(status) {
  return TERMINAL_STATUSES.includes(status);
}

/**
 * @typedef {Object} TimingView
 * @property {string} label     "Elapsed" while running, else "Duration"
 * @property {string} text      "3 min 05 s", or "—"
 * @property {string} hint      why there is no time yet ("not started yet"), else ""
 * @property {boolean} ticking  true while the text changes by itself (a running job)
 */

/**
 * What the detail page shows as a job's time: the elapsed time of a running job (from
 * started_at to now, floored to the second), the duration of an ended one (the API's
 * duration_seconds), "—" for a job that has not started.
 *
 * @param {{status: string, started_at?: string|null, duration_seconds?: number|null}} job
 * @param {number} nowMs  the current time (epoch ms)
 * @returns {TimingView}
 */
export function timingView(job, nowMs) {
  if (job.status === "running") {
    const started = Date.parse(job.started_at ?? "");
    if (!Number.isFinite(started)) return { label: "Elapsed", text: MISSING, hint: "", ticking: false };
    // Clock skew between server and browser must not show a negative time.
    const seconds = Math.max(0, Math.floor((nowMs - started) / 1000));
    return { label: "Elapsed", text: formatDuration(seconds), hint: "", ticking: true };
  }
  const hasDuration = typeof job.duration_seconds === "number" && Number.isFinite(job.duration_seconds);
  if (hasDuration) return { label: "Duration", text: formatDuration(job.duration_seconds), hint: "", ticking: false };
  const hint = job.status === "queued" || !job.started_at ? "not started" : "";
  return { label: "Duration", text: MISSING, hint, ticking: false };
}
