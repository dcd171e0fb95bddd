/**
 * Display formatting for counts, ranges, durations, ages, timestamps and percentages.
 *
 * Pure and deterministic given their inputs: the locale is "en" unless one is passed
 * (and timestamps use the browser's time zone unless `timeZone` is passed). Results are
 * plain text for `textContent`, never markup. Missing or invalid numbers give "—".
 *
 * @module format
 */

/** Shown for a missing or invalid value. */
export const MISSING = "—";

const numberFormats = new Map();
const dateFormats = new Map();

/**
 * A cached Intl.NumberFormat.
 * @param {string} locale
 * @param {Intl.NumberFormatOptions} options
 * @returns {Intl.NumberFormat}
 */
function numberFormat(locale, options) {
  const key = `${locale}|${JSON.stringify(options)}`;
  let format = numberFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, options);
    numberFormats.set(key, format);
  }
  return format;
}

/**
 * Given a value, return it as a finite number, or null.
 * @param {unknown} value
 * @returns {number | null}
 */
function finite(value) {
  if (value === null || value === undefined || value === "" || typeof value === "boolean") {
    return null;
  }
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}

/**
 * Two-digit zero padding.
 * @param {number} value
 * @returns {string}
 */
function pad2(value) {
  return String(value).padStart(2, "0");
}

/**
 * A whole number with grouping: 1234 -> "1,234".
 *
 * @param {number} n
 * @param {string} [locale="en"]
 * @returns {string} "—" when n is not a number
 */
export function formatCount(n, locale = "en") {
  const value = finite(n);
  if (value === null) return MISSING;
  return numberFormat(locale, { maximumFractionDigits: 0 }).format(value);
}

/**
 * The pagination text: (50, 50, 1234) -> "51–100 of 1,234"; one item -> "51 of 51";
 * nothing on this page of a non-empty list -> "0 of 1,234"; an empty list -> `empty`.
 *
 * @param {number} offset  index of the first shown item (0-based)
 * @param {number} shown   how many items are shown
 * @param {number} total   how many items match
 * @param {object} [options]
 * @param {string} [options.locale="en"]
 * @param {string} [options.empty="No jobs"]  the text for total 0
 * @returns {string}
 */
export function formatRange(offset, shown, total, { locale = "en", empty = "No jobs" } = {}) {
  const whole = (value) => Math.max(0, Math.floor(finite(value) ?? 0));
  const [start, count, all] = [whole(offset), whole(shown), whole(total)];
  if (all === 0) return empty;
  const of = formatCount(all, locale);
  if (count === 0) return `0 of ${of}`;
  const first = formatCount(start + 1, locale);
  const last = formatCount(start + count, locale);
  return count === 1 ? `${first} of ${of}` : `${first}–${last} of ${of}`;
}

/**
 * A duration: 45 -> "45 s", 185 -> "3 min 05 s", 7380 -> "2 h 03 min",
 * 93784 -> "1 d 02 h"; under a second -> "< 1 s"; 0 -> "0 s". Seconds are floored.
 *
 * @param {number} seconds
 * @returns {string} "—" for a missing or negative value
 */
export function formatDuration(seconds) {
  const value = finite(seconds);
  if (value === null || value < 0) return MISSING;
  if (value > 0 && value < 1) return "< 1 s";
  const total = Math.floor(value);
  if (total < 60) return `${total} s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes} min ${pad2(total % 60)} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${pad2(minutes % 60)} min`;
  return `${formatCount(Math.floor(hours / 24))} d ${pad2(hours % 24)} h`;
}

/**
 * How long ago, from an age in ms: < 1 s (or negative: clock skew) -> "just now",
 * 12000 -> "12 s ago", then "3 min ago", "2 h ago", "4 d ago" (floored).
 *
 * @param {number} ms  the age in milliseconds
 * @returns {string} "" for a missing value
 */
export function formatAgo(ms) {
  const value = finite(ms);
  if (value === null) return "";
  if (value < 1000) return "just now";
  const seconds = Math.floor(value / 1000);
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  return `${formatCount(Math.floor(hours / 24))} d ago`;
}

/**
 * A cached short date-time format.
 * @param {string} locale
 * @param {string | undefined} timeZone
 * @returns {Intl.DateTimeFormat}
 */
function dateFormat(locale, timeZone) {
  const key = `${locale}|${timeZone ?? ""}`;
  let format = dateFormats.get(key);
  if (!format) {
    const options = {
      year: "numeric",
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    };
    try {
      format = new Intl.DateTimeFormat(locale, { ...options, timeZone });
    } catch {
      format = new Intl.DateTimeFormat(locale, options); // unknown time zone: the local one
    }
    dateFormats.set(key, format);
  }
  return format;
}

/**
 * @typedef {object} FormattedTimestamp
 * @property {string} text   short local date-time, e.g. "Nov 29, 2025, 14:03:12"
 * @property {string} title  the full ISO-8601 text as given (for a title attribute), or ""
 */

/**
 * A timestamp from the API (ISO-8601 with an offset; "Z" and "+00:00" both read).
 * Missing -> {text: "—", title: ""}; unparsable -> the text as given, title "".
 *
 * @param {string | null | undefined} iso
 * @param {object} [options]
 * @param {string} [options.timeZone]       IANA zone (default: the browser's)
 * @param {string} [options.locale="en"]
 * @returns {FormattedTimestamp}
 */
export function formatTimestamp(iso, { timeZone, locale = "en" } = {}) {
  if (typeof iso !== "string" || iso.trim() === "") return { text: MISSING, title: "" };
  const text = iso.trim();
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return { text, title: "" };
  return { text: dateFormat(locale, timeZone).format(ms), title: text };
}

/**
 * A progress percentage (0–100): 25 -> "25%", 99.5 -> "99.5%". Floored to one decimal,
 * so a job at 99.96% never reads "100%"; clamped to 0–100.
 *
 * @param {number} p
 * @param {string} [locale="en"]
 * @returns {string} "—" when p is not a number
 */
export function formatPercent(p, locale = "en") {
  const value = finite(p);
  if (value === null) return MISSING;
  const clamped = Math.min(100, Math.max(0, value));
  const shown = clamped >= 100 ? 100 : Math.floor(clamped * 10 + 1e-9) / 10;
  return numberFormat(locale, { style: "percent", maximumFractionDigits: 1 }).format(shown / 100);
}
