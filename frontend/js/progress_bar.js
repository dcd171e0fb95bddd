// A job's progress bar: determinate (role="progressbar" with aria-valuenow and a text
// in the job's progress_unit, such as "25 of 100 files", "0:23 of 1:00" or "1.2 MiB of
// 4.0 MiB") when the job reports progress, indeterminate (no aria-valuenow, an animated
// bar) for a running job without progress data, and nothing for a job that has none to
// show. Used by the jobs table and the detail page.

import { formatPercent, formatProgress } from "./format.js";
import { make, setAttr, setStyle, setText } from "./dom_write.js";

/**
 * @typedef {Object} ProgressInput  the JobListItem fields a bar needs
 * @property {string} status
 * @property {number} [progress_percent]
 * @property {number|null} [processed_count]
 * @property {number|null} [total_count]
 * @property {string|null} [progress_unit]  what the counts count (files when missing)
 *
 * @typedef {Object} ProgressView
 * @property {"determinate"|"indeterminate"|"none"} mode
 * @property {number|null} percent    0–100, null unless determinate
 * @property {string} label           short visible text ("25%", "Starting", "—")
 * @property {string} detail          counts ("25 of 100 files", "0:23 of 1:00") or ""
 * @property {string} valueText       what assistive technology reads
 */

function isCount(value) {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

/**
 * What a job's progress looks like. Pure, so it is tested without a DOM.
 *
 * @param {ProgressInput} job
 * @param {string|null} [unit]  what the counts count (default: the job's progress_unit)
 * @returns {ProgressView}
 */
export function progressView(job, unit = job.progress_unit) {
  const raw = Number(job.progress_percent);
  const percent = Number.isFinite(raw) ? Math.min(100, Math.max(0, raw)) : 0;
  const counted = isCount(job.processed_count) && isCount(job.total_count);
  const hasData = counted || percent > 0;
  if (!hasData) {
    if (job.status === "running") {
      const valueText = "Running, no progress reported yet";
      return { mode: "indeterminate", percent: null, label: "Starting", detail: "", valueText };
    }
    return { mode: "none", percent: null, label: "—", detail: "", valueText: "" };
  }
  const label = formatPercent(percent);
  const detail = counted ? formatProgress(job.processed_count, job.total_count, unit) : "";
  return { mode: "determinate", percent, label, detail, valueText: detail ? `${detail} (${label})` : label };
}

/**
 * Create an empty progress bar; fill it with {@link updateProgressBar}.
 *
 * @param {Document} [doc]
 * @returns {HTMLElement}
 */
export function createProgressBar(doc = document) {
  const root = make(doc, "div", "progress");
  const track = make(doc, "div", "progress-track", {
    role: "progressbar",
    "aria-valuemin": "0",
    "aria-valuemax": "100",
    "aria-label": "Progress",
  });
  track.append(make(doc, "div", "progress-fill"));
  const text = make(doc, "div", "progress-text");
  text.append(make(doc, "span", "progress-label"), make(doc, "span", "progress-detail"));
  root.append(track, text);
  return root;
}

/**
 * Show a job's progress in a bar made by {@link createProgressBar}. Writes only what
 * differs from what the bar shows, so an unchanged job causes no DOM mutation.
 *
 * @param {HTMLElement} root
 * @param {ProgressInput} job
 * @param {string|null} [unit]  default: the job's progress_unit
 * @returns {ProgressView} what is now shown
 */
export function updateProgressBar(root, job, unit = job.progress_unit) {
  const view = progressView(job, unit);
  const track = root.querySelector(".progress-track");
  const fill = root.querySelector(".progress-fill");
  setAttr(root, "data-mode", view.mode);
  setAttr(root, "data-status", job.status);
  // A job with nothing to show has no progressbar at all: hidden, and without
  // aria-valuenow so that no [role=progressbar][aria-valuenow] query finds a stale value.
  setAttr(track, "hidden", view.mode === "none");
  setAttr(track, "aria-valuenow", view.percent === null ? null : round(view.percent));
  setAttr(track, "aria-valuetext", view.valueText || null);
  setStyle(fill, "width", view.percent === null ? null : `${round(view.percent)}%`);
  setText(root.querySelector(".progress-label"), view.label);
  setText(root.querySelector(".progress-detail"), view.detail);
  return view;
}

function round(value) {
  return Math.round(value * 100) / 100;
}
