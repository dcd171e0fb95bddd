// Which log lines the detail page holds, what to ask for next, and what to do with an
// answer. The API's `offset` is the absolute index of a line (0-based), so a page that
// holds lines [start, end) asks `offset=end` and gets only new lines, even when its
// first load fetched only the tail. Pure: no DOM, no fetch.

/**
 * @typedef {Object} LogWindow  the lines held: absolute indexes [start, end)
 * @property {number} start
 * @property {number} end
 *
 * @typedef {Object} LogSlice   a logs response: GET /api/jobs/{id}/logs
 * @property {string[]} lines
 * @property {number} total_lines
 * @property {number} offset    absolute index of lines[0]
 * @property {boolean} has_more
 *
 * @typedef {Object} LogPlan    what to do with a slice
 * @property {"replace"|"append"|"none"|"reload"} action
 *   replace: show `lines` (starting at `start`) instead of what is held (the first load);
 *   append: add `lines` after what is held; none: nothing new;
 *   reload: the log no longer continues what is held (it shrank, or the page fell too far
 *   behind): fetch the tail again and replace.
 * @property {string[]} lines   the lines to add (none for "none" and "reload")
 * @property {number} start     absolute index of the first held line afterwards
 * @property {number} end       index after the last held line afterwards
 * @property {number} trim      how many of the oldest held lines to drop (the DOM cap)
 * @property {boolean} more     fetch again at once (the log has more than one answer holds)
 */

/**
 * The query of the next log request: the tail (no offset) when nothing is held, else
 * the lines after those held.
 *
 * @param {LogWindow|null} held
 * @param {number} pageLines  how many lines one answer may carry (the API allows 1–1000)
 * @returns {Object<string, number>}  e.g. {} or {offset: 120, lines: 1000}
 */
export function logQuery(held, pageLines) {
  return held ? { offset: held.end, lines: pageLines } : {};
}

function isIndex(value) {
  return Number.isSafeInteger(value) && value >= 0;
}

/**
 * Given what is held and an answer, what to do.
 *
 * @param {LogWindow|null} held   null before the first load
 * @param {LogSlice} slice
 * @param {number} maxLines       the most lines the page keeps (older ones are dropped)
 * @returns {LogPlan}
 */
export function planLog(held, slice, maxLines) {
  const lines = Array.isArray(slice?.lines) ? slice.lines.map(String) : [];
  const offset = isIndex(slice?.offset) ? slice.offset : 0;
  const total = isIndex(slice?.total_lines) ? slice.total_lines : offset + lines.length;
  const more = Boolean(slice?.has_more);
  if (!held) {
    const kept = lines.slice(Math.max(0, lines.length - maxLines));
    const start = offset + (lines.length - kept.length);
    return { action: "replace", lines: kept, start, end: start + kept.length, trim: 0, more };
  }
  const reload = { action: "reload", lines: [], start: held.start, end: held.end, trim: 0, more: true };
  // The log shrank (truncated or replaced), or this answer starts after a gap: what is
  // held no longer continues into it.
  if (total < held.end || offset > held.end) return reload;
  // Lines the page would drop again at once are not worth fetching page by page.
  if (total - held.end > maxLines) return reload;
  const fresh = lines.slice(held.end - offset); // skip lines already held (an overlap)
  if (fresh.length === 0) return { action: "none", lines: [], start: held.start, end: held.end, trim: 0, more: false };
  const end = held.end + fresh.length;
  const trim = Math.max(0, end - held.start - maxLines);
  return { action: "append", lines: fresh, start: held.start + trim, end, trim, more };
}
