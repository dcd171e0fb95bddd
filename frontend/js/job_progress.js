// How far a job has got, for the detail page: the counts ("25 of 100 files", "0:23 of
// 1:00" for a job that counts seconds, "1.2 MiB of 4.0 MiB" for bytes), taken from
// the API's processed_count/total_count or, for job types that only report counts in
// their summary, from summary_raw; the input progress_bar.js draws from (so the detail
// page and the dashboard rows draw the same bar from the same numbers); and the sentence
// above the bar ("Processing 25 of 100 files"). Pure: no DOM, no clock.

import { DEFAULT_PROGRESS_UNIT, formatProgressParts } from "./format.js";

/**
 * Pairs of summary_raw keys (processed, total) that job types use for their counts, in
 * order of preference. The scan's own summary says files_scanned / files_found.
 */
export const SUMMARY_COUNT_KEYS = Object.freeze([
  ["processed_count", "total_count"],
  ["processed", "total"],
  ["files_processed", "files_total"],
  ["files_scanned", "files_found"],
  ["items_processed", "items_total"],
]);

// A unit comes from data (progress_unit, summary_raw.unit): accept a short plain word or two only.
const UNIT_PATTERN = /^[a-z][a-z ]{0,23}$/i;

/**
 * @typedef {Object} ProgressCounts
 * @property {number} processed
 * @property {number} total
 * @property {string} unit                     e.g. "files"
 * @property {"progress"|"summary"} source     where the counts came from
 */

function isCount(value) {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function plainUnit(unit) {
  return typeof unit === "string" && UNIT_PATTERN.test(unit.trim()) ? unit.trim() : null;
}

/**
 * The unit a job's counts count: the API's progress_unit, else summary_raw.unit, when
 * it is a plain word; else "files".
 *
 * @param {Object} job  a JobDetailItem (or JobListItem)
 * @returns {string}  e.g. "files", "seconds", "bytes"
 */
export function progressUnit(job) {
  const fromSummary = isObject(job?.summary_raw) ? job.summary_raw.unit : undefined;
  return plainUnit(job?.progress_unit) ?? plainUnit(fromSummary) ?? DEFAULT_PROGRESS_UNIT;
}

/**
 * A job's counts: processed_count/total_count when the API has both, else the first pair
 * of {@link SUMMARY_COUNT_KEYS} present in summary_raw, else null.
 *
 * @param {Object} job  a JobDetailItem
 * @returns {ProgressCounts|null}
 */
export function progressCounts(job) {
  const unit = progressUnit(job);
  if (isCount(job?.processed_count) && isCount(job?.total_count)) {
    return { processed: job.processed_count, total: job.total_count, unit, source: "progress" };
  }
  const raw = job?.summary_raw;
  if (!isObject(raw)) return null;
  for (const [processed, total] of SUMMARY_COUNT_KEYS) {
    if (isCount(raw[processed]) && isCount(raw[total])) {
      return { processed: raw[processed], total: raw[total], unit, source: "summary" };
    }
  }
  return null;
}

/**
 * What progress_bar.js needs to draw a job's bar on the detail page. With the API's own
 * counts it is the job's fields as they are (exactly what the dashboard row draws); with
 * counts from summary_raw the counts are filled in, and so is the percentage when the
 * API reports none.
 *
 * @param {Object} job  a JobDetailItem
 * @returns {import("./progress_bar.js").ProgressInput}
 */
export function progressInput(job) {
  const counts = progressCounts(job);
  let percent = Number(job?.progress_percent);
  if (!Number.isFinite(percent)) percent = 0;
  if (counts?.source === "summary" && percent <= 0 && counts.total > 0) {
    percent = Math.min(100, (100 * counts.processed) / counts.total);
  }
  return {
    status: job?.status,
    progress_percent: percent,
    processed_count: counts ? counts.processed : null,
    total_count: counts ? counts.total : null,
    progress_unit: counts ? counts.unit : null,
  };
}

/**
 * @typedef {Object} ProgressSentence
 * @property {string} verb          "Processing", "Processed", "Stopped after", "Waiting to start", ...
 * @property {import("./format.js").ProgressParts|null} counts  formatted, or null; unit
 *                                  is "" when the numbers carry it ("0:23", "1.2 MiB")
 * @property {string} text          the whole sentence, e.g. "Processing 25 of 100 files"
 */

const VERBS = {
  running: ["Processing", "Starting — no progress reported yet"],
  completed: ["Processed", ""],
  failed: ["Stopped after", ""],
  cancelled: ["Stopped after", ""],
  queued: ["", "Waiting to start"],
};

/**
 * The sentence above a job's bar: "Processing 25 of 100 files" while it runs, "Processed
 * 100 of 100 files" when it completed, "Stopped after 37 of 120 files" when it failed or
 * was cancelled, "Waiting to start" while queued; without counts, "In progress" (a
 * percentage only) or "Starting — no progress reported yet"; "" when there is nothing
 * to say.
 *
 * @param {Object} job  a JobDetailItem
 * @returns {ProgressSentence}
 */
export function progressSentence(job) {
  const [withCounts, without] = VERBS[job?.status] ?? ["", ""];
  const counts = progressCounts(job);
  if (counts && withCounts) {
    const shown = formatProgressParts(counts.processed, counts.total, counts.unit);
    const unit = shown.unit ? ` ${shown.unit}` : "";
    return { verb: withCounts, counts: shown, text: `${withCounts} ${shown.processed} of ${shown.total}${unit}` };
  }
  // A job that reports a percentage but no counts: the bar says how far.
  const percent = Number(job?.progress_percent);
  const moving = job?.status === "running" && Number.isFinite(percent) && percent > 0;
  const text = moving ? "In progress" : without;
  return { verb: text, counts: null, text };
}
