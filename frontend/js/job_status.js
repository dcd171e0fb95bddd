// A job's status as its badge shows it, on the dashboard rows and on the job page: the
// text ("Running") and, where the word alone would puzzle, a title. Styling keys on the
// badge's data-status, never on this text.
//
// Besides jobdash's own five statuses the API may answer "unknown": a VPO library
// database can hold a status this version does not know (one VPO added later, or a
// damaged row). It is not terminal: the pages keep polling, since the row may change.
// Pure: no DOM.

/** The statuses this page knows; any other reads as unknown. */
export const KNOWN_STATUSES = Object.freeze(["queued", "running", "completed", "failed", "cancelled"]);

/** What an unknown status's badge says when pointed at. */
export const UNKNOWN_TITLE = "The job store reports a status this dashboard does not know; the page keeps checking for changes";

/**
 * The badge's data-status: the status when it is known, else "unknown".
 *
 * @param {unknown} status
 * @returns {string}
 */
export function statusKey(status) {
  return KNOWN_STATUSES.includes(status) ? String(status) : "unknown";
}

/**
 * The badge's text: "Queued", "Running", ..., and "Unknown" for anything else.
 *
 * @param {unknown} status
 * @returns {string}
 */
export function statusText(status) {
  const key = statusKey(status);
  return key[0].toUpperCase() + key.slice(1);
}

/**
 * The badge's title: an explanation for an unknown status, else null (no title).
 *
 * @param {unknown} status
 * @returns {string|null}
 */
export function statusTitle(status) {
  return statusKey(status) === "unknown" ? UNKNOWN_TITLE : null;
}
