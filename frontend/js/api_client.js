/**
 * A small client for the jobdash JSON API: URLs, conditional GETs, typed errors.
 *
 * `getJson` never caches in the browser (`cache: "no-store"`) and revalidates with the
 * ETag the caller holds (`If-None-Match`), so an unchanged resource costs a bodiless 304.
 * Cross-origin deployments (dist/ on a CDN, API elsewhere) work because requests are
 * `mode: "cors"` with `credentials: "omit"`; the API must allow the `If-None-Match` and
 * `Prefer` request headers and expose the `ETag`, `Retry-After` and `Preference-Applied`
 * response headers to the page's origin.
 *
 * Held polls: with `wait`, the request says `Prefer: wait=N` (RFC 7240): a server that
 * applies it holds an unchanged revalidation up to N s, until the data changes, and says
 * so with `Preference-Applied: wait=N`; the result's `held` tells the poller (which then
 * asks again at once instead of after its interval). A server or proxy that ignores the
 * preference answers as always, without the header: `held` is false.
 *
 * Errors: an HTTP error status -> ApiError (status, message from the body's "error",
 * retryAfterMs); a network failure -> the fetch TypeError as is; an abort -> the abort
 * reason (an AbortError, or a TimeoutError from a poller's timeout) propagates.
 *
 * @module api_client
 */

/**
 * How long the pages ask the server to hold an unchanged revalidation (s): `Prefer:
 * wait=25`. Below the 30 s a server applies at most, and below the 60 s read timeout of
 * common reverse proxies (nginx's proxy_read_timeout), so a held request is answered by
 * the server, never cut by a proxy.
 */
export const HOLD_WAIT_S = 25;
/** The same in ms: how long one held request may last (a Poller's `holdWaitMs`). */
export const HOLD_WAIT_MS = HOLD_WAIT_S * 1000;

/**
 * Given a poller run's options (polling.js RunOptions; none when called directly), return
 * the wait a request asks for: HOLD_WAIT_S, or undefined when the run may not be held
 * (a retry after a failure, a follower's catch-up).
 *
 * @param {{hold?: boolean} | undefined} run
 * @returns {number | undefined}
 */
export function holdWait(run) {
  return run?.hold === false ? undefined : HOLD_WAIT_S;
}

/**
 * An HTTP error answer from the API (any status other than 2xx and 304).
 */
export class ApiError extends Error {
  /**
   * @param {string} message  what is wrong (the body's "error", else the status text)
   * @param {object} [options]
   * @param {number} [options.status=0]        the HTTP status
   * @param {number} [options.retryAfterMs=0]  Retry-After in ms (0 when none)
   * @param {unknown} [options.body=null]      the parsed JSON body, if any
   * @param {string} [options.url=""]          the URL requested
   */
  constructor(message, { status = 0, retryAfterMs = 0, body = null, url = "" } = {}) {
    super(message);
    this.name = "ApiError";
    /** @type {number} */
    this.status = status;
    /** @type {number} */
    this.retryAfterMs = retryAfterMs;
    /** @type {unknown} */
    this.body = body;
    /** @type {string} */
    this.url = url;
  }
}

/**
 * Given a Retry-After header value (delta-seconds or an HTTP-date), return the wait in ms.
 * A missing, malformed or past value gives 0.
 *
 * @param {string | null | undefined} value
 * @param {number} [now=Date.now()]  the current time in ms (for an HTTP-date)
 * @returns {number}
 */
export function parseRetryAfter(value, now = Date.now()) {
  if (typeof value !== "string") return 0;
  const text = value.trim();
  if (text === "") return 0;
  if (/^\d+$/.test(text)) {
    const seconds = Number.parseInt(text, 10);
    return Number.isSafeInteger(seconds * 1000) ? seconds * 1000 : 0;
  }
  const when = Date.parse(text);
  if (Number.isNaN(when)) return 0;
  return Math.max(0, when - now);
}

/**
 * Given a Preference-Applied header value, return the wait the server applied in whole
 * seconds; 0 when it applied none (no header, no `wait`, or a value that is not a whole
 * number). Like Prefer (RFC 7240), a list of preferences; the first `wait` counts.
 *
 * @param {string | null | undefined} value  e.g. "wait=25"
 * @returns {number}
 */
export function appliedWait(value) {
  if (typeof value !== "string") return 0;
  for (const item of value.split(",")) {
    const match = /^\s*wait\s*(?:=\s*"?([^";,\s]*)"?)?\s*(?:;.*)?$/i.exec(item);
    if (!match) continue;
    const text = match[1] ?? "";
    return /^\d{1,6}$/.test(text) ? Number.parseInt(text, 10) : 0;
  }
  return 0;
}

/**
 * Build an API URL.
 *
 * With `apiBase` "" the API shares the page's origin and sits at its root: the result is
 * an absolute path ("/api/jobs?…"), whatever sub-path the page itself is served from.
 * Otherwise the path resolves against `apiBase` (e.g. "https://api.example/" ->
 * "https://api.example/api/jobs?…"). Parameters with null, undefined or "" values are
 * left out; the others are written sorted by name (one URL per query, whatever order the
 * caller built its object in); an array value repeats the parameter.
 *
 * @param {string} apiBase   "" (same origin) or a base URL / absolute path ending in "/"
 * @param {string} path      e.g. "api/jobs" or `api/jobs/${encodeURIComponent(id)}/logs`
 * @param {Record<string, unknown>} [params={}]  query parameters
 * @returns {string}
 */
export function apiUrl(apiBase, path, params = {}) {
  const relative = String(path).replace(/^\/+/, "");
  const query = new URLSearchParams();
  for (const name of Object.keys(params ?? {}).sort()) {
    const values = Array.isArray(params[name]) ? params[name] : [params[name]];
    for (const value of values) {
      if (value === null || value === undefined || value === "") continue;
      query.append(name, String(value));
    }
  }
  const search = query.toString();
  if (!apiBase) return `/${relative}${search ? `?${search}` : ""}`;
  const base = new URL(apiBase, globalThis.location?.href);
  const url = new URL(relative, base);
  url.search = search;
  return url.href;
}

/**
 * Given a failed response, return the ApiError it stands for (reads the body).
 * @param {Response} response
 * @param {string} url
 * @returns {Promise<ApiError>}
 */
async function errorFrom(response, url) {
  const text = await response.text();
  let body = null;
  let message = "";
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (body && typeof body === "object" && typeof body.error === "string" && body.error) {
    message = body.error;
  } else {
    message = `${response.status} ${response.statusText || "HTTP error"}`.trim();
  }
  return new ApiError(message, {
    status: response.status,
    retryAfterMs: parseRetryAfter(response.headers.get("Retry-After")),
    body,
    url,
  });
}

/**
 * @typedef {object} JsonResult
 * @property {200 | 304} status   304: unchanged since `etag` (data is null)
 * @property {unknown} data       the parsed JSON body (null on 304)
 * @property {string | null} etag the response's ETag (on 304: the one sent, if none came)
 * @property {boolean} held       the server holds this resource's revalidations (its
 *   answer said `Preference-Applied: wait=N`, N >= 1): the next one may be asked at once
 */

/**
 * GET a JSON resource, revalidating with an ETag.
 *
 * @param {string} url                           from apiUrl()
 * @param {object} [options]
 * @param {AbortSignal} [options.signal]         aborts the request (the reason propagates)
 * @param {string | null} [options.etag]         sent as If-None-Match
 * @param {number} [options.wait]                ask the server to hold an unchanged
 *   revalidation up to this many whole seconds (`Prefer: wait=N`; see HOLD_WAIT_S);
 *   the caller's timeout must allow for it. Not a whole number >= 1: nothing is asked
 * @returns {Promise<JsonResult>}
 * @throws {ApiError} on an HTTP error status, or a 2xx body that is not JSON
 * @throws {TypeError} on a network failure (as fetch throws it)
 */
export async function getJson(url, { signal, etag, wait } = {}) {
  const headers = { Accept: "application/json" };
  if (etag) headers["If-None-Match"] = etag;
  if (Number.isSafeInteger(wait) && wait >= 1) headers.Prefer = `wait=${wait}`;
  const response = await fetch(url, {
    method: "GET",
    headers,
    signal,
    cache: "no-store",
    credentials: "omit",
    mode: "cors",
    redirect: "follow",
  });
  const responseEtag = response.headers.get("ETag");
  const held = appliedWait(response.headers.get("Preference-Applied")) >= 1;
  if (response.status === 304) {
    return { status: 304, data: null, etag: responseEtag || etag || null, held };
  }
  if (!response.ok) throw await errorFrom(response, url);
  const text = await response.text();
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ApiError("The API answered with something that is not JSON", {
      status: response.status,
      url,
    });
  }
  return { status: 200, data, etag: responseEtag || null, held };
}
