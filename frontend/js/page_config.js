/**
 * The page's polling configuration, read from `<body>` data attributes and the URL.
 *
 * build.py writes `data-polling-interval`, `data-polling-log-interval`,
 * `data-polling-enabled`, `data-polling-min-update-gap`, `data-stall-after`,
 * `data-api-base` and `data-debug` (already validated and clamped
 * at build time). A hand-edited page still behaves: a value that is missing, unparsable or
 * out of range falls back to its default here (it is not clamped: the build clamps).
 *
 * @module page_config
 */

/** Default polling interval (ms). */
export const DEFAULT_INTERVAL_MS = 5000;
/** Smallest valid polling interval (ms). */
export const MIN_INTERVAL_MS = 2000;
/** Largest valid polling interval (ms). */
export const MAX_INTERVAL_MS = 60000;
/** Default log polling interval (ms). */
export const DEFAULT_LOG_INTERVAL_MS = 15000;
/** Largest valid log polling interval (ms); it is never below the polling interval. */
export const MAX_LOG_INTERVAL_MS = 300000;
/**
 * Default least time between the starts of two requests of one stream when the server
 * holds them (held polls, `Prefer: wait`): changes reach the page at most this often (ms).
 */
export const DEFAULT_MIN_UPDATE_GAP_MS = 1000;
/** Valid range of that time (ms). */
export const MIN_MIN_UPDATE_GAP_MS = 250;
export const MAX_MIN_UPDATE_GAP_MS = 10000;
/** Default time without progress after which a running job shows a stall warning (s). */
export const DEFAULT_STALL_AFTER_S = 120;
/** Valid range of that time (s). */
export const MIN_STALL_AFTER_S = 30;
export const MAX_STALL_AFTER_S = 3600;

/**
 * @typedef {object} PageConfig
 * @property {number} intervalMs      status polling interval, 2000–60000 (default 5000)
 * @property {number} logIntervalMs   log polling interval, >= intervalMs (default 15000)
 * @property {boolean} enabled        false only for data-polling-enabled="false" (or 0/no/off)
 * @property {number} minUpdateGapMs  held polls: the least time between two requests' starts
 *                                    (data-polling-min-update-gap: 250–10000, default 1000)
 * @property {number} stallAfterMs    a running job without progress for this long is stalled
 *                                    (data-stall-after, in s: 30–3600, default 120)
 * @property {string} apiBase         "" for the page's own origin, else a base URL ending in "/"
 * @property {boolean} debug          debug logging on
 * @property {boolean} shared         tabs showing the same view share one request stream
 *                                    (shared_poller.js); `?shared=0` in the URL turns it off
 */

const FALSE_WORDS = new Set(["false", "0", "no", "off"]);
const TRUE_WORDS = new Set(["true", "1", "yes", "on"]);

/**
 * Given a data attribute value, return it as a whole number, or null when it is not one.
 * @param {unknown} value
 * @returns {number | null}
 */
function wholeNumber(value) {
  if (typeof value !== "string" || !/^\s*[+-]?\d+\s*$/.test(value)) return null;
  const number = Number.parseInt(value, 10);
  return Number.isSafeInteger(number) ? number : null;
}

/**
 * Given a data-api-base value, return "" (same origin) or a base ending in "/".
 * Accepts absolute http(s) URLs and absolute paths ("/api-root/"); anything else -> "".
 * @param {unknown} value
 * @returns {string}
 */
function apiBaseOf(value) {
  const text = typeof value === "string" ? value.trim() : "";
  if (text === "") return "";
  if (text.startsWith("/") && !text.startsWith("//")) {
    return text.endsWith("/") ? text : `${text}/`;
  }
  let url;
  try {
    url = new URL(text);
  } catch {
    return "";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "";
  url.search = "";
  url.hash = "";
  const href = url.href;
  return href.endsWith("/") ? href : `${href}/`;
}

/**
 * Parse the page configuration. Pure: no DOM access.
 *
 * - intervalMs: missing, unparsable or outside 2000–60000 -> 5000.
 * - logIntervalMs: missing, unparsable or above 300000 -> 15000; then never below
 *   intervalMs (raised to it).
 * - enabled: "false" (also 0/no/off, any case) -> false; anything else -> true.
 * - minUpdateGapMs: missing, unparsable or outside 250–10000 -> 1000.
 * - stallAfterMs: data-stall-after (seconds) missing, unparsable or outside 30–3600 -> 120 s.
 * - apiBase: "" = same origin; else an http(s) URL or absolute path, with a trailing "/"
 *   added; an invalid value -> "".
 * - debug: dataset.debug "true" (or 1/yes/on), or `debug=1` (or true) in the query string.
 * - shared: true, unless the query string says `shared=0` (or false/no/off).
 *
 * @param {Record<string, string | undefined>} dataset  e.g. document.body.dataset
 * @param {string} [search=""]                          e.g. location.search ("?debug=1")
 * @returns {PageConfig}
 */
export function parsePageConfig(dataset, search = "") {
  const data = dataset ?? {};
  let intervalMs = wholeNumber(data.pollingInterval);
  if (intervalMs === null || intervalMs < MIN_INTERVAL_MS || intervalMs > MAX_INTERVAL_MS) {
    intervalMs = DEFAULT_INTERVAL_MS;
  }
  let logIntervalMs = wholeNumber(data.pollingLogInterval);
  if (logIntervalMs === null || logIntervalMs > MAX_LOG_INTERVAL_MS) {
    logIntervalMs = DEFAULT_LOG_INTERVAL_MS;
  }
  logIntervalMs = Math.max(logIntervalMs, intervalMs);

  let minUpdateGapMs = wholeNumber(data.pollingMinUpdateGap);
  if (minUpdateGapMs === null || minUpdateGapMs < MIN_MIN_UPDATE_GAP_MS || minUpdateGapMs > MAX_MIN_UPDATE_GAP_MS) {
    minUpdateGapMs = DEFAULT_MIN_UPDATE_GAP_MS;
  }

  let stallAfterS = wholeNumber(data.stallAfter);
  if (stallAfterS === null || stallAfterS < MIN_STALL_AFTER_S || stallAfterS > MAX_STALL_AFTER_S) {
    stallAfterS = DEFAULT_STALL_AFTER_S;
  }

  const enabledText = typeof data.pollingEnabled === "string" ? data.pollingEnabled : "";
  const enabled = !FALSE_WORDS.has(enabledText.trim().toLowerCase());

  const debugText = typeof data.debug === "string" ? data.debug.trim().toLowerCase() : "";
  let query = new URLSearchParams();
  try {
    query = new URLSearchParams(typeof search === "string" ? search : "");
  } catch {
    // keep the empty query
  }
  const debugParam = query.get("debug");
  const debug = TRUE_WORDS.has(debugText) || debugParam === "1" || debugParam === "true";
  const shared = !FALSE_WORDS.has(String(query.get("shared") ?? "").trim().toLowerCase());

  const stallAfterMs = stallAfterS * 1000;
  return {
    intervalMs, logIntervalMs, enabled, minUpdateGapMs, stallAfterMs, apiBase: apiBaseOf(data.apiBase), debug, shared,
  };
}

/**
 * Read the configuration of the current page (`<body>` data attributes and the URL).
 *
 * @param {Document} [doc=document]
 * @param {Location | {search: string}} [loc=location]
 * @returns {PageConfig}
 */
export function readPageConfig(doc = document, loc = location) {
  return parsePageConfig(doc?.body?.dataset ?? {}, loc?.search ?? "");
}
