// What the detail page's address says: which job (job.html?id=<uuid>), and where "back
// to the list" goes. The list's view (filters, sort, page) travels in `from` (the list's
// own query string, URL-encoded), so the back link shows the same view; a same-origin
// referrer that is the list page is the fallback (the pages send no referrer today, so
// usually there is none), then the bare list. Pure: no DOM, no globals.

import { PAGE_PARAMS, PARAM_NAMES } from "./url_state.js";

// The API's canonical form (backend/jobdash/store/sqlite/store.py is_uuid): lower-case, hyphenated.
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SHOWN_MAX = 60;
const EXAMPLE_ID = "0b7e2b5e-8f4f-4d3c-9a51-2f1f5b8f0c11";

/**
 * Whether text is a job id as the API writes it (a canonical, lower-case UUID).
 *
 * @param {unknown} text
 * @returns {boolean}
 */
export function isJobId(text) {
  return typeof text === "string" && UUID_PATTERN.test(text);
}

function shown(text) {
  const single = text.replace(/[\u0000-\u001f\u007f]/g, "?");
  return single.length > SHOWN_MAX ? `${single.slice(0, SHOWN_MAX)}…` : single;
}

/**
 * @typedef {Object} JobLocation
 * @property {string|null} id       the job id, or null when the address has none that is valid
 * @property {string} problem       what is wrong with the address ("" when id is valid)
 * @property {string} backHref      the link back to the list, e.g. "./?status=failed"
 */

/**
 * Read the detail page's address.
 *
 * @param {string} search           location.search, e.g. "?id=…&from=status%3Dfailed"
 * @param {Object} [options]
 * @param {string} [options.referrer=""]  document.referrer
 * @param {string} [options.origin=""]    location.origin (a referrer from elsewhere is ignored)
 * @returns {JobLocation}
 */
export function readJobLocation(search, { referrer = "", origin = "" } = {}) {
  const params = new URLSearchParams(search);
  const backHref = listHref(params, referrer, origin);
  const ids = params.getAll("id");
  if (ids.length === 0 || ids[0].trim() === "") {
    return { id: null, problem: "This address names no job: open a job from the jobs list.", backHref };
  }
  if (ids.length > 1) {
    return { id: null, problem: "This address names more than one job (id appears twice).", backHref };
  }
  const id = ids[0].trim();
  if (isJobId(id)) return { id, problem: "", backHref };
  if (isJobId(id.toLowerCase())) return { id: id.toLowerCase(), problem: "", backHref };
  return {
    id: null,
    problem: `“${shown(id)}” is not a job id: a job id is a UUID such as ${EXAMPLE_ID}.`,
    backHref,
  };
}

/**
 * The list's own parameters from a query string (anything else is dropped), as "?…" or "".
 *
 * @param {URLSearchParams} list
 * @param {URLSearchParams} page  the detail page's parameters (debug=1 carries over)
 * @returns {string}
 */
function listQuery(list, page) {
  const out = new URLSearchParams();
  for (const name of PARAM_NAMES) {
    const value = list.get(name);
    if (value) out.set(name, value);
  }
  for (const name of PAGE_PARAMS) {
    const value = page.get(name);
    if (value) out.set(name, value);
  }
  const text = out.toString();
  return text ? `?${text}` : "";
}

/**
 * The link back to the list: "./" plus the list's query from `from`, else from a
 * same-origin referrer that is the list page, else none.
 *
 * @param {URLSearchParams} params
 * @param {string} referrer
 * @param {string} origin
 * @returns {string}
 */
function listHref(params, referrer, origin) {
  if (params.has("from")) {
    const from = params.get("from").replace(/^\?/, "");
    return `./${listQuery(new URLSearchParams(from), params)}`;
  }
  let url = null;
  try {
    url = referrer && origin ? new URL(referrer) : null;
  } catch {
    url = null;
  }
  if (url && url.origin === origin && /\/(index\.html)?$/.test(url.pathname)) {
    return `./${listQuery(url.searchParams, params)}`;
  }
  return `./${listQuery(new URLSearchParams(), params)}`;
}
