/**
 * Display formatting for counts, ranges, durations, ages, timestamps, percentages, sizes,
 * media times and progress counts in their unit.
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

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/**
 * A byte count in binary units, one decimal past bytes (rounded): 0 -> "0 B",
 * 1536 -> "1.5 KiB", 1258291 -> "1.2 MiB" (as the server's own summaries write sizes).
 *
 * @param {number} n
 * @param {string} [locale="en"]
 * @returns {string} "—" for a missing or negative value
 */
export function formatBytes(n, locale = "en") {
  const value = finite(n);
  if (value === null || value < 0) return MISSING;
  if (value < 1024) return `${formatCount(Math.floor(value), locale)} B`;
  let size = value;
  let unit = 0;
  // Rounded to one decimal; a size that rounds up to 1024 of a unit is 1.0 of the next.
  while (Math.round(size * 10) / 10 >= 1024 && unit < BYTE_UNITS.length - 1) {
    size /= 1024;
    unit += 1;
  }
  const text = numberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(size);
  return `${text} ${BYTE_UNITS[unit]}`;
}

/**
 * A position in media time, as players show it: 23 -> "0:23", 60 -> "1:00",
 * 3725 -> "1:02:05" (hours only past an hour). Seconds are floored.
 *
 * @param {number} seconds
 * @returns {string} "—" for a missing or negative value
 */
export function formatMediaTime(seconds) {
  const value = finite(seconds);
  if (value === null || value < 0) return MISSING;
  const total = Math.floor(value);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = pad2(total % 60);
  return hours > 0 ? `${hours}:${pad2(minutes)}:${rest}` : `${minutes}:${rest}`;
}

/** The unit progress counts have when a job does not say (what a scan counts). */
export const DEFAULT_PROGRESS_UNIT = "files";

// A unit is data (a job type's own word): shown only when it is a short plain word.
const UNIT_WORD = /^\p{L}[\p{L}\p{N} _-]{0,23}$/u;

/**
 * @typedef {object} ProgressParts
 * @property {string} processed  e.g. "1,417", "0:23", "1.2 MiB"
 * @property {string} total      e.g. "3,000", "1:00", "4.0 MiB"
 * @property {string} unit       the word after the total ("files"), or "" when the
 *                               numbers carry their unit themselves (times, sizes)
 */

/**
 * Progress counts in the words of their unit: files -> {"1,417", "3,000", "files"};
 * seconds -> media time {"0:23", "1:00", ""}; bytes -> {"1.2 MiB", "4.0 MiB", ""}; any
 * other unit -> {"5", "9", unit}. A missing unit is "files"; a unit that is not a short
 * plain word is left out ({"5", "9", ""}).
 *
 * @param {number} processed
 * @param {number} total
 * @param {string | null} [unit="files"]
 * @param {string} [locale="en"]
 * @returns {ProgressParts}
 */
export function formatProgressParts(processed, total, unit = DEFAULT_PROGRESS_UNIT, locale = "en") {
  const word = typeof unit === "string" && unit.trim() ? unit.trim() : DEFAULT_PROGRESS_UNIT;
  const kind = word.toLowerCase();
  if (kind === "seconds" || kind === "second") {
    return { processed: formatMediaTime(processed), total: formatMediaTime(total), unit: "" };
  }
  if (kind === "bytes" || kind === "byte") {
    return { processed: formatBytes(processed, locale), total: formatBytes(total, locale), unit: "" };
  }
  return {
    processed: formatCount(processed, locale),
    total: formatCount(total, locale),
    unit: UNIT_WORD.test(word) ? word : "",
  };
}

/**
 * Progress counts as one phrase: "1,417 of 3,000 files", "0:23 of 1:00",
 * "1.2 MiB of 4.0 MiB", "5 of 9 items" (see {@link formatProgressParts}).
 *
 * @param {number} processed
 * @param {number} total
 * @param {string | null} [unit="files"]
 * @param {string} [locale="en"]
 * @returns {string}
 */
export function formatProgress(processed, total, unit = DEFAULT_PROGRESS_UNIT, locale = "en") {
  const parts = formatProgressParts(processed, total, unit, locale);
  return `${parts.processed} of ${parts.total}${parts.unit ? ` ${parts.unit}` : ""}`;
}
