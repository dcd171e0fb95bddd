// What changed between two polls of the jobs list. Pure: no DOM, no globals, so the
// table can apply exactly these changes and nothing else (a poll that changes nothing
// must not touch the page).

/**
 * @typedef {Object<string, unknown>} Job  a JobListItem as the API returns it
 *
 * @typedef {Object} JobsDiff
 * @property {string[]} added      ids new on this page, in display order
 * @property {string[]} removed    ids that left the page
 * @property {Map<string, string[]>} changed  id -> names of the fields whose value changed
 * @property {string[]} order      every id of the new page, in display order
 * @property {boolean} orderChanged  true when the kept rows are no longer in the same order
 * @property {Map<string, Job>} byId  the new page by id (the "previous" of the next diff)
 */

/**
 * Compare the last applied page with a freshly fetched one.
 *
 * @param {Map<string, Job>} previous  the last page by id; its insertion order is its display order
 * @param {Job[]} jobs  the new page, in display order
 * @returns {JobsDiff}
 */
export function diffJobs(previous, jobs) {
  const byId = new Map();
  const added = [];
  const changed = new Map();
  for (const job of jobs) {
    const id = String(job.id);
    byId.set(id, job);
    const before = previous.get(id);
    if (before === undefined) {
      added.push(id);
      continue;
    }
    const fields = changedFields(before, job);
    if (fields.length) changed.set(id, fields);
  }
  const removed = [...previous.keys()].filter((id) => !byId.has(id));
  const order = [...byId.keys()];
  const kept = [...previous.keys()].filter((id) => byId.has(id));
  const keptNow = order.filter((id) => previous.has(id));
  const orderChanged = kept.some((id, index) => keptNow[index] !== id);
  return { added, removed, changed, order, orderChanged, byId };
}

/**
 * Names of the fields whose values differ between two versions of a job.
 * Values are JSON scalars (strings, numbers, booleans, null), so `===` is exact;
 * a field present on one side only counts as changed.
 *
 * @param {Job} before
 * @param {Job} after
 * @returns {string[]}
 */
export function changedFields(before, after) {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((name) => before[name] !== after[name]);
}

/**
 * True when a diff asks for no DOM change at all.
 *
 * @param {JobsDiff} diff
 * @returns {boolean}
 */
export function isEmptyDiff(diff) {
  return !diff.added.length && !diff.removed.length && !diff.changed.size && !diff.orderChanged;
}

/**
 * The ids that can stay where they are when `current` is rearranged into `next`: the
 * longest run of ids that already appear in the same relative order. Moving only the
 * others keeps the number of moved rows (which lose focus and selection) minimal.
 *
 * @param {string[]} current  ids in their present order (ids absent from `next` are ignored)
 * @param {string[]} next     ids in the wanted order
 * @returns {Set<string>}
 */
export function stableIds(current, next) {
  const position = new Map(current.map((id, index) => [id, index]));
  const seq = next.filter((id) => position.has(id));
  // Longest increasing subsequence of current positions, O(n log n) with back links.
  const tails = []; // tails[k]: index in seq of the smallest tail of a run of length k+1
  const back = new Array(seq.length);
  seq.forEach((id, i) => {
    const value = position.get(id);
    let low = 0;
    let high = tails.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (position.get(seq[tails[mid]]) < value) low = mid + 1;
      else high = mid;
    }
    back[i] = low > 0 ? tails[low - 1] : -1;
    tails[low] = i;
  });
  const stable = new Set();
  for (let i = tails.length ? tails[tails.length - 1] : -1; i >= 0; i = back[i]) stable.add(seq[i]);
  return stable;
}
