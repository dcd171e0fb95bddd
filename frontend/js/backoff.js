/**
 * Retry schedule for pollers: how long to wait before the next attempt.
 *
 * The gap is the normal interval while things work and after the 1st and 2nd consecutive
 * failures (a blip: "reconnecting"); from the 3rd consecutive failure on, the poller backs
 * off ("offline"): 10 s, 20 s, 40 s, 80 s, then 120 s at most. A server's Retry-After
 * (503, 429) is a minimum: the wait is the larger of it and the backoff.
 *
 * Pure functions: no timers, no I/O.
 *
 * @module backoff
 */

/**
 * Backoff gaps in ms after the 3rd, 4th, 5th, 6th and 7th-and-later consecutive failures.
 * @type {readonly number[]}
 */
export const BACKOFF_STEPS_MS = Object.freeze([10000, 20000, 40000, 80000, 120000]);

/** Consecutive failures that are still a blip, retried at the normal interval. */
export const FAILURES_BEFORE_BACKOFF = 2;

/**
 * Given a failure count, return it as a whole number >= 0 (anything else counts as 0).
 * @param {number} value
 * @returns {number}
 */
function count(value) {
  return Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/**
 * Whether the poller is in backoff ("offline"): true from the 3rd consecutive failure.
 * 1–2 failures are "reconnecting" (retried at the normal interval).
 *
 * @param {number} consecutiveFailures  failures since the last success
 * @returns {boolean}
 */
export function isBackingOff(consecutiveFailures) {
  return count(consecutiveFailures) > FAILURES_BEFORE_BACKOFF;
}

/**
 * The gap in ms before the next attempt.
 *
 * | failures | 0, 1, 2  | 3     | 4     | 5     | 6     | 7+     |
 * |----------|----------|-------|-------|-------|-------|--------|
 * | gap      | interval | 10000 | 20000 | 40000 | 80000 | 120000 |
 *
 * The result is at least `retryAfterMs` (the server's Retry-After, a minimum).
 *
 * @param {number} consecutiveFailures  failures since the last success (0 after a success)
 * @param {number} intervalMs           the normal polling interval
 * @param {number} [retryAfterMs=0]     the last error's Retry-After in ms (0 when none)
 * @returns {number} milliseconds to wait
 */
export function nextDelayMs(consecutiveFailures, intervalMs, retryAfterMs = 0) {
  const failures = count(consecutiveFailures);
  let backoff = intervalMs;
  if (failures > FAILURES_BEFORE_BACKOFF) {
    const step = Math.min(failures - FAILURES_BEFORE_BACKOFF, BACKOFF_STEPS_MS.length) - 1;
    backoff = BACKOFF_STEPS_MS[step];
  }
  const minimum = Number.isFinite(retryAfterMs) && retryAfterMs > 0 ? retryAfterMs : 0;
  return Math.max(backoff, minimum);
}
