// Dashboard state <-> URL query, under the API's own parameter names, so that a link or
// a reload shows the same view and the same query string can be sent to the API. Pure:
// the allowed values are passed in (the page reads them from its own <select> options,
// which the build renders from the backend's constants), nothing here reads the DOM.
// Job types are an open vocabulary (plugins register more at any time): a type is
// accepted when it is a well-formed name, and the API says whether it knows it.

import { JOB_TYPE_NAME } from "./job_types.js";

/** The API's parameter names, in the order they are written. */
export const PARAM_NAMES = Object.freeze(["status", "type", "since", "sort", "limit", "offset"]);

/** Parameters of the page itself (page_config.js reads ?debug=1, ?shared=0): kept in the URL, never sent to the API. */
export const PAGE_PARAMS = Object.freeze(["debug", "shared"]);

// The API refuses deeper offsets (backend/jobdash/model/list_query.py OFFSET_MAX) with a 400; a URL
// asking for more is treated like any other invalid value.
const OFFSET_MAX = 1_000_000;
const DIGITS = /^[0-9]{1,7}$/;

/**
 * @typedef {Object} Vocabulary  the values the page accepts (job types: any well-formed name)
 * @property {string[]} statuses
 * @property {string[]} since
 * @property {string[]} sorts        every sort, with and without the leading "-"
 * @property {string} defaultSort
 * @property {number} limitDefault
 * @property {number} limitMax
 *
 * @typedef {Object} DashboardState
 * @property {string} status  "" (all), one status, or several comma-separated
 * @property {string} type    "" (all), one type, or several comma-separated
 * @property {string} since   "" (any time) or a window such as "24h"
 * @property {string} sort
 * @property {number} limit
 * @property {number} offset
 */

/**
 * The state of a dashboard opened without a query string.
 *
 * @param {Vocabulary} vocab
 * @returns {DashboardState}
 */
export function defaultState(vocab) {
  return { status: "", type: "", since: "", sort: vocab.defaultSort, limit: vocab.limitDefault, offset: 0 };
}

function choices(value, allowed) {
  const items = [];
  for (const item of value.split(",").map((part) => part.trim())) {
    if (!allowed(item)) return null;
    if (!items.includes(item)) items.push(item);
  }
  return items.join(",");
}

function wholeNumber(value, low, high) {
  if (!DIGITS.test(value)) return null;
  const number = Number(value);
  return number >= low && number <= high ? number : null;
}

/**
 * Read the dashboard state from a query string. Invalid values fall back to their
 * defaults (and are reported), so a hand-edited URL still shows a page instead of an
 * API error; an empty value means "not given", as in the API.
 *
 * @param {URLSearchParams|string} search
 * @param {Vocabulary} vocab
 * @returns {{state: DashboardState, rejected: string[]}} rejected: names of ignored parameters
 */
export function readState(search, vocab) {
  const params = typeof search === "string" ? new URLSearchParams(search) : search;
  const state = defaultState(vocab);
  const rejected = [];
  const parsers = {
    status: (value) => choices(value, (item) => vocab.statuses.includes(item)),
    type: (value) => choices(value, (item) => JOB_TYPE_NAME.test(item)),
    since: (value) => (vocab.since.includes(value) ? value : null),
    sort: (value) => (vocab.sorts.includes(value) ? value : null),
    limit: (value) => wholeNumber(value, 1, vocab.limitMax),
    offset: (value) => wholeNumber(value, 0, OFFSET_MAX),
  };
  for (const name of new Set(params.keys())) {
    if (PAGE_PARAMS.includes(name)) continue;
    const values = params.getAll(name);
    const parse = parsers[name];
    // The API refuses unknown and repeated parameters; drop them here instead.
    if (!parse || values.length !== 1) {
      rejected.push(name);
      continue;
    }
    if (values[0] === "") continue;
    const value = parse(values[0]);
    if (value === null) rejected.push(name);
    else state[name] = value;
  }
  return { state, rejected };
}

/**
 * The query string of a state: only the values that differ from the defaults, in a
 * fixed order, so one view has one URL. The API takes the same parameters.
 *
 * @param {DashboardState} state
 * @param {Vocabulary} vocab
 * @returns {URLSearchParams}
 */
export function writeParams(state, vocab) {
  const defaults = defaultState(vocab);
  const params = new URLSearchParams();
  for (const name of PARAM_NAMES) {
    if (state[name] !== defaults[name]) params.set(name, String(state[name]));
  }
  return params;
}

/**
 * The page's own parameters in a query string (see PAGE_PARAMS), to carry over into the
 * URLs the page writes.
 *
 * @param {URLSearchParams|string} search
 * @returns {URLSearchParams}
 */
export function pageParams(search) {
  const params = typeof search === "string" ? new URLSearchParams(search) : search;
  return new URLSearchParams([...params].filter(([name]) => PAGE_PARAMS.includes(name)));
}

/**
 * A new state with some values changed. A new filter, sort or page size starts again
 * at the first page: the old offset means nothing in the new list.
 *
 * @param {DashboardState} state
 * @param {Partial<DashboardState>} changes
 * @returns {DashboardState}
 */
export function changeState(state, changes) {
  const next = { ...state, ...changes };
  if (!("offset" in changes)) next.offset = 0;
  return next;
}

/**
 * True when two states show the same view.
 *
 * @param {DashboardState} a
 * @param {DashboardState} b
 * @returns {boolean}
 */
export function sameState(a, b) {
  return PARAM_NAMES.every((name) => a[name] === b[name]);
}

/**
 * True when the state narrows the list by status, type or time.
 *
 * @param {DashboardState} state
 * @returns {boolean}
 */
export function hasFilters(state) {
  return Boolean(state.status || state.type || state.since);
}

/**
 * The sort after a click on a column's sort button: the same column flips direction; a
 * new column starts in the default sort's direction if it is the default column (dates
 * newest first), else ascending.
 *
 * @param {string} current  the current sort, e.g. "-created_at"
 * @param {string} key      the column's sort key, e.g. "status"
 * @param {string} defaultSort
 * @returns {string}
 */
export function nextSort(current, key, defaultSort) {
  if (current === key) return `-${key}`;
  if (current === `-${key}`) return key;
  return defaultSort.replace(/^-/, "") === key ? defaultSort : key;
}

/**
 * The direction of a column under a sort, as aria-sort spells it.
 *
 * @param {string} sort  e.g. "-created_at"
 * @param {string} key   e.g. "created_at"
 * @returns {"ascending"|"descending"|null}
 */
export function sortDirection(sort, key) {
  if (sort === key) return "ascending";
  if (sort === `-${key}`) return "descending";
  return null;
}

/**
 * Offsets of the previous and next pages (null where there is none).
 *
 * @param {DashboardState} state
 * @param {number} total  jobs matching the filters
 * @returns {{prev: number|null, next: number|null}}
 */
export function pageOffsets(state, total) {
  const prev = state.offset > 0 ? Math.max(0, Math.min(state.offset, total) - state.limit) : null;
  const next = state.offset + state.limit < total ? state.offset + state.limit : null;
  return { prev, next: next !== null && next <= OFFSET_MAX ? next : null };
}
