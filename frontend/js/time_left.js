/**
 * Time left for a running job, estimated in the page from its progress over time.
 *
 * The API carries no "now" and no estimate (its answers stay cacheable): the page feeds
 * each progress it sees, with the time it saw it, to a `TimeLeftEstimator`. The rate is
 * the progress made over the recent window (up to `WINDOW_MS`), measured up to *now*, so a
 * job that stops moving sees its rate fall and its estimate grow. After a reload the
 * estimator is seeded with the job's `started_at` (progress 0 then).
 *
 * No estimate (null) before `MIN_FRACTION` of the work is done or before `MIN_ELAPSED_MS`
 * of progress time, when progress has stood still for much longer than its usual gap, or
 * when the estimate is unstable: the projected end times of the last few observations
 * disagree by more than a quarter of the time left.
 *
 * Pure logic: no timers, no DOM; times are epoch milliseconds given by the caller.
 *
 * @module time_left
 */

/** Estimates start once this fraction of the work is done (2%). */
export const MIN_FRACTION = 0.02;

/** ... and once progress has been made for this long. */
export const MIN_ELAPSED_MS = 10_000;

/** The rate is measured over the progress of (about) the last two minutes. */
export const WINDOW_MS = 120_000;

/** How many recent projections are compared to decide whether the estimate is stable. */
const STABILITY_SAMPLES = 3;

/** Projected end times may spread by this share of the time left (plus SLACK_MS). */
const STABLE_SPREAD = 0.25;
const SLACK_MS = 5_000;

/** Progress that has not moved for STILL_FACTOR mean gaps (and at least STILL_MIN_MS) has
 * no estimate: the rate it would give is falling, not known. */
const STILL_FACTOR = 3;
const STILL_MIN_MS = 15_000;

/**
 * Given a fraction of work done, return it clamped to 0..1, or null when not a number.
 * @param {number} fraction
 * @returns {number | null}
 */
function clampFraction(fraction) {
  return Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : null;
}

/** Estimates a running job's time left from the progress observed at each poll. */
export class TimeLeftEstimator {
  /** @type {{at: number, fraction: number}[]} progress changes, oldest first */
  #samples = [];
  /** @type {number[]} the projected end times of the latest observations */
  #ends = [];
  /** @type {number | null} */
  #startedAt;

  /**
   * @param {object} [options]
   * @param {number | null} [options.startedAtMs]  the job's `started_at` (epoch ms), which
   *   seeds the estimate after a reload (progress was 0 then)
   */
  constructor({ startedAtMs = null } = {}) {
    this.#startedAt = Number.isFinite(startedAtMs) ? startedAtMs : null;
  }

  /**
   * Record the job's progress as seen at `nowMs`.
   *
   * Progress that goes back (a job run again) starts the estimate afresh; an observation
   * not later than the previous one is ignored.
   *
   * @param {number} nowMs     when the progress was seen (epoch ms)
   * @param {number} fraction  work done, 0..1 (processed / total)
   */
  observe(nowMs, fraction) {
    const done = clampFraction(fraction);
    if (done === null || !Number.isFinite(nowMs)) return;
    let last = this.#samples.at(-1);
    if (last && nowMs <= last.at) return;
    if (last && done < last.fraction) {
      this.#samples = [];
      this.#ends = [];
      this.#startedAt = nowMs;
      last = undefined;
    }
    if (!last) {
      if (this.#startedAt !== null && this.#startedAt < nowMs) this.#samples.push({ at: this.#startedAt, fraction: 0 });
      this.#samples.push({ at: nowMs, fraction: done });
    } else if (done > last.fraction) {
      this.#samples.push({ at: nowMs, fraction: done });
    }
    const newest = this.#samples.at(-1).at;
    while (this.#samples.length > 2 && this.#samples[1].at <= newest - WINDOW_MS) this.#samples.shift();
    const end = this.#projectedEnd(nowMs);
    this.#ends.push(end ?? Number.NaN);
    if (this.#ends.length > STABILITY_SAMPLES) this.#ends.shift();
  }

  /**
   * When the job would end at the recent rate, measured up to `nowMs` (null when no
   * progress was made in the window).
   * @param {number} nowMs
   * @returns {number | null}
   */
  #projectedEnd(nowMs) {
    if (this.#samples.length < 2) return null;
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    const elapsed = nowMs - first.at;
    const rate = elapsed > 0 ? (last.fraction - first.fraction) / elapsed : 0;
    if (!(rate > 0)) return null;
    return nowMs + (1 - last.fraction) / rate;
  }

  /**
   * Whether progress has not moved for much longer than it usually takes to move: over
   * STILL_FACTOR times the mean gap between the changes in the window, and STILL_MIN_MS.
   * @param {number} nowMs
   * @returns {boolean}
   */
  #standingStill(nowMs) {
    const samples = this.#samples;
    const last = samples.at(-1);
    const gap = samples.length > 1 ? (last.at - samples[0].at) / (samples.length - 1) : 0;
    return nowMs - last.at > Math.max(STILL_MIN_MS, STILL_FACTOR * gap);
  }

  /**
   * The time left in ms as of `nowMs` (never negative), or null when there is no
   * trustworthy estimate (too early, nothing moving, unstable, or done).
   *
   * @param {number} nowMs
   * @returns {number | null}
   */
  estimateMs(nowMs) {
    const last = this.#samples.at(-1);
    if (!last || last.fraction >= 1 || last.fraction < MIN_FRACTION) return null;
    if (nowMs - this.#samples[0].at < MIN_ELAPSED_MS) return null;
    if (this.#standingStill(nowMs)) return null;
    const end = this.#projectedEnd(nowMs);
    if (end === null) return null;
    const left = Math.max(0, end - nowMs);
    const ends = this.#ends;
    if (ends.some((value) => Number.isNaN(value))) return null;
    const spread = Math.max(...ends) - Math.min(...ends);
    if (spread > STABLE_SPREAD * left + SLACK_MS) return null;
    return left;
  }
}

/**
 * Given a time left in ms, return it in words, rounded to a human step: seconds (by 5)
 * under a minute, minutes under an hour, then hours and minutes (by 5).
 *
 *     formatTimeLeft(42_000)                     // "about 45 s left"
 *     formatTimeLeft(185_000)                    // "about 3 min left"
 *     formatTimeLeft(4_870_000)                  // "about 1 h 20 min left"
 *     formatTimeLeft(185_000, { compact: true }) // "~3 min left"
 *
 * @param {number} ms
 * @param {object} [options]
 * @param {boolean} [options.compact=false]  the short form for a table row
 * @returns {string}
 */
export function formatTimeLeft(ms, { compact = false } = {}) {
  const about = compact ? "~" : "about ";
  const seconds = Math.max(0, Number.isFinite(ms) ? ms / 1000 : 0);
  if (seconds < 5) return compact ? "<5 s left" : "a few seconds left";
  if (seconds < 57.5) return `${about}${Math.round(seconds / 5) * 5} s left`;
  const minutes = Math.max(1, Math.round(seconds / 60));
  if (minutes < 60) return `${about}${minutes} min left`;
  const rounded = Math.round(seconds / 300) * 5;
  const hours = Math.floor(rounded / 60);
  const rest = rounded % 60;
  return rest ? `${about}${hours} h ${rest} min left` : `${about}${hours} h left`;
}
