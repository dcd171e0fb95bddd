/**
 * A running job's pace, as the page can tell it: the time left (time_left.js) or, when its
 * progress has not moved for the configured time, a stall warning ("No progress for
 * 2 min"). One `JobPace` per running job, fed with every version of the job the page sees.
 *
 * When progress last moved: the time this page saw it move; for the progress a page finds
 * on its first look, the API's `progress_updated_at` when the store knows it (so a reload
 * shows a stall at once), else that first look. Only that first value comes from the
 * server's clock: a browser clock minutes off the server's cannot make a moving job look
 * stalled.
 * Only jobs that report progress can stall: a running job without progress data may be
 * of a type that never reports any.
 *
 * Pure logic: no timers, no DOM; times are epoch milliseconds given by the caller.
 *
 * @module job_pace
 */

import { formatTimeLeft, TimeLeftEstimator } from "./time_left.js";

/**
 * @typedef {object} PaceView
 * @property {"time-left" | "stalled" | "none"} kind
 * @property {string} text   "about 3 min left", "No progress for 2 min", or ""
 */

const NONE = Object.freeze({ kind: "none", text: "" });

/**
 * Given a job, return the fraction of its work done (0..1), or null when it reports no
 * progress (no counts and no percentage).
 * @param {{progress_percent?: number, processed_count?: number|null, total_count?: number|null}} job
 * @returns {number | null}
 */
export function fractionDone(job) {
  const processed = job.processed_count;
  const total = job.total_count;
  if (Number.isFinite(processed) && Number.isFinite(total) && total > 0 && processed >= 0) {
    return Math.min(1, processed / total);
  }
  const percent = Number(job.progress_percent);
  return Number.isFinite(percent) && percent > 0 ? Math.min(1, percent / 100) : null;
}

/**
 * Given a time without progress in ms, return it in words, floored to a human step.
 *
 *     formatStall(135_000)   // "No progress for 2 min"
 *     formatStall(3_900_000) // "No progress for 1 h 5 min"
 *
 * @param {number} ms
 * @returns {string}
 */
export function formatStall(ms) {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `No progress for ${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `No progress for ${minutes} min`;
  const rest = minutes % 60;
  return `No progress for ${Math.floor(minutes / 60)} h${rest ? ` ${rest} min` : ""}`;
}

/** The pace of one running job. */
export class JobPace {
  #stallAfterMs;
  #estimator;
  /** The progress last seen, as text (to tell when it moves); null: none reported. */
  #progress = null;
  /** Some progress has been seen (so a change is one this page saw happen). */
  #seen = false;
  /** When the progress last moved (epoch ms). */
  #movedAt = 0;
  #running = false;

  /**
   * @param {object} options
   * @param {number} options.stallAfterMs       progress still for this long is a stall
   * @param {string | null} [options.startedAt] the job's started_at (seeds the estimate)
   */
  constructor({ stallAfterMs, startedAt = null }) {
    this.#stallAfterMs = stallAfterMs;
    const started = Date.parse(startedAt ?? "");
    this.#estimator = new TimeLeftEstimator({ startedAtMs: Number.isFinite(started) ? started : null });
  }

  /**
   * Take in a version of the job, seen at `nowMs`.
   * @param {Object} job  a JobListItem or JobDetailItem
   * @param {number} nowMs
   */
  observe(job, nowMs) {
    this.#running = job.status === "running";
    const fraction = fractionDone(job);
    if (fraction === null) {
      this.#progress = null;
      return;
    }
    this.#estimator.observe(nowMs, fraction);
    const progress = `${job.processed_count}/${job.total_count}/${job.progress_percent}`;
    if (progress === this.#progress) return;
    const moved = Date.parse(job.progress_updated_at ?? "");
    this.#movedAt = !this.#seen && Number.isFinite(moved) ? Math.min(moved, nowMs) : nowMs;
    this.#progress = progress;
    this.#seen = true;
  }

  /**
   * What to show at `nowMs`.
   * @param {number} nowMs
   * @param {{compact?: boolean}} [options]  the short form of the time left (a table row)
   * @returns {PaceView}
   */
  view(nowMs, { compact = false } = {}) {
    if (!this.#running || this.#progress === null) return NONE;
    const still = nowMs - this.#movedAt;
    if (still >= this.#stallAfterMs) return { kind: "stalled", text: formatStall(still) };
    const left = this.#estimator.estimateMs(nowMs);
    if (left === null) return NONE;
    return { kind: "time-left", text: formatTimeLeft(left, { compact }) };
  }
}
