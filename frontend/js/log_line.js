// One log line split into the parts the log panel styles: its time (with the date apart,
// so that a narrow screen can show the time of day only), its level and its message.
// Two line formats are read:
//
//   jobdash's own:  "2026-12-06T13:20:03.323Z INFO found 412 media files"
//                   (backend/jobdash/store/log_writer.py: <timestamp> <LEVEL> <message>)
//   VPO's:          "[2026-12-06T13:20:03.323968Z] Transcoding video track: h264 -> hevc"
//                   (VPO's job logs: [<timestamp>] <message>; no level)
//
// A VPO line is shown as time + message, as a jobdash line is (its brackets are the
// file's delimiters, not part of the time); its microseconds can be left out where space
// is short (splitClock). Anything else is a plain line, shown as it is.
// Pure: strings in, strings out; the panel writes them with textContent only.

/** @typedef {"jobdash"|"vpo"} LogLineFormat */

/**
 * @typedef {Object} LogLineParts
 * @property {LogLineFormat} format
 * @property {string} date     "2026-12-06T", or "" when the time has no date of this shape
 * @property {string} clock    the rest of the timestamp ("13:20:03.323968Z"); date + clock
 *                             is the timestamp as written
 * @property {string} level    "INFO", "WARN", ... for jobdash lines; "" for VPO lines
 * @property {string} message  the rest of the line, as written (leading spaces kept)
 */

// "<timestamp> <LEVEL> <message>": the timestamp is any token without spaces.
const JOBDASH_LINE = /^(\S+) (DEBUG|INFO|WARN|WARNING|ERROR|CRITICAL) /;
// "[<timestamp>] <message>": only an ISO-8601 date and time in the brackets counts, so
// that a plain line which happens to start with "[something]" stays plain.
const VPO_LINE = /^\[(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}[^\]\s]*)\](?: |$)/;
const DATE_PART = /^(\d{4}-\d{2}-\d{2}T)(.+)$/;

function timeParts(timestamp) {
  const split = DATE_PART.exec(timestamp);
  return split ? { date: split[1], clock: split[2] } : { date: "", clock: timestamp };
}

// A time of day to the millisecond, then finer digits (VPO writes microseconds).
const FINE_CLOCK = /^(\d{2}:\d{2}:\d{2}\.\d{3})(\d+)(\D.*)?$/;

/**
 * A clock split where the milliseconds end, so that a narrow screen can leave out the
 * finer digits: "13:20:03.323968Z" -> ["13:20:03.323", "968", "Z"]; a clock without
 * finer digits ("13:20:03.323Z") -> null. The three parts joined are the clock.
 *
 * @param {string} clock
 * @returns {[string, string, string]|null}
 */
export function splitClock(clock) {
  const match = FINE_CLOCK.exec(String(clock ?? ""));
  return match ? [match[1], match[2], match[3] ?? ""] : null;
}

/**
 * Split a log line into its parts, or return null for a line of neither format.
 *
 * @param {string} text  one line, without its line break
 * @returns {LogLineParts|null}
 */
export function parseLogLine(text) {
  const line = String(text ?? "");
  const native = JOBDASH_LINE.exec(line);
  if (native) {
    return { format: "jobdash", ...timeParts(native[1]), level: native[2], message: line.slice(native[0].length) };
  }
  const vpo = VPO_LINE.exec(line);
  if (vpo) {
    return { format: "vpo", ...timeParts(vpo[1]), level: "", message: line.slice(vpo[0].length) };
  }
  return null;
}

