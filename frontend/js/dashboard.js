// The jobs dashboard: filters, sort and page in the URL; a poller that fetches the list
// with the last ETag (a 304 changes nothing at all) and applies only what changed.
// Two more pollers, same rules (own ETag; a 304 touches nothing): GET /api/job-types
// gives the type filter its options and says which queued jobs wait for a worker that
// runs their type; GET /api/workers feeds the workers strip (#workers), unless the
// job types say the store does not know its workers (`workers_known: false`, a VPO
// library): then the strip is hidden and its poller stopped. The header's indicator
// follows the jobs poller.
// Tabs showing the same view share each of these streams (shared_poller.js): one tab
// fetches, the others apply its answers through receive() exactly as their own.
// Held polls: the jobs list asks the server to hold an unchanged answer (`Prefer: wait`,
// api_client.js) and resolves to getJson's result, so a server that holds it sets its
// pace (polling.js); one that does not leaves it at the interval. Only the list: a held
// request keeps one of the browser's six connections to the server (HTTP/1.1) busy, so
// each view holds at most two (the job page: its status and its log), and a few tabs on
// different views still leave connections for everything else. The job types and the
// workers, which change seldom, poll at the interval.
// Hooks besides the DESIGN's: #jobs-table[data-poll-count] counts the responses with data
// that were applied, and #jobs-table fires "jobs:polled" ({status: 200|304}) after each poll.

import { ApiError, HOLD_WAIT_MS, apiUrl, getJson, holdWait } from "./api_client.js";
import { ConnectionStatus } from "./connection_status.js";
import { setAttr, setText } from "./dom_write.js";
import { formatRange } from "./format.js";
import { diffJobs, isEmptyDiff } from "./job_diff.js";
import { typeNames, workersByType, workersKnown } from "./job_types.js";
import { JobsTable } from "./jobs_table.js";
import { JsonFeed } from "./json_feed.js";
import { dashboardTitle } from "./page_title.js";
import { createPoller } from "./shared_poller.js";
import { TypeFilter } from "./type_filter.js";
import * as urlState from "./url_state.js";
import { WorkersStrip } from "./workers_strip.js";

const REQUEST_TIMEOUT_MS = 10_000;
const TICK_MS = 1000;
const FILTERS = ["status", "type", "since", "sort"];
/** Filters whose options the build renders (the type filter's come from the API). */
const BUILT_FILTERS = ["status", "since", "sort"];

/**
 * The values the page accepts, read back from the filter form's <select> options (which
 * the build renders from the backend's constants), so the lists exist once. Job types
 * are not among them: they are an open vocabulary, listed by the API at run time.
 *
 * @param {HTMLFormElement} form
 * @returns {import("./url_state.js").Vocabulary}
 */
export function readVocabulary(form) {
  const options = (name) =>
    [...form.elements.namedItem(name).options].map((option) => option.value).filter(Boolean);
  return {
    statuses: options("status"),
    since: options("since"),
    sorts: options("sort"),
    defaultSort: form.dataset.defaultSort,
    limitDefault: Number(form.dataset.limitDefault),
    limitMax: Number(form.dataset.limitMax),
  };
}

function plainClick(event) {
  // Let the browser handle new-tab/new-window clicks on links.
  return event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey && !event.altKey;
}

/** The dashboard page. */
export class Dashboard {
  /**
   * @param {Document} doc
   * @param {import("./page_config.js").PageConfig} config  from readPageConfig()
   * @param {import("./debug_log.js").Logger} log  from createLogger()
   */
  constructor(doc, config, log) {
    this.doc = doc;
    this.win = doc.defaultView;
    this.config = config;
    this.log = log;
    const $ = (id) => doc.getElementById(id);
    this.el = {
      form: $("job-filters"), table: $("jobs-table"), view: $("jobs-view"), loading: $("jobs-loading"),
      empty: $("jobs-empty"), range: $("jobs-range"), prev: $("page-prev"), next: $("page-next"),
      error: $("page-error"), clear: $("clear-filters"), bar: $("jobs-bar"), pager: $("jobs-pager"),
    };
    this.vocab = readVocabulary(this.el.form);
    this.table = new JobsTable($("jobs-body"), { stallAfterMs: config.stallAfterMs });
    this.typeFilter = new TypeFilter(this.el.form.elements.namedItem("type"));
    this.workers = new WorkersStrip($("workers"));
    this.state = null; // read from the URL by start()
    this.jobs = new Map(); // the last applied page, by id, in display order
    this.total = null; // null until the first data arrives
    this.etag = null;
    this.etagUrl = null; // an ETag is only sent again for the very same query
    this.pollCount = 0;
    this.ticker = null;
    this.status = new ConnectionStatus($("connection-status"));
    this.lastData = null; // the answer behind this.etag (what a follower tab is sent)
    const polled = {
      intervalMs: config.intervalMs, enabled: config.enabled, timeoutMs: REQUEST_TIMEOUT_MS, log, shared: config.shared,
      minUpdateGapMs: config.minUpdateGapMs,
    };
    this.poller = createPoller({
      ...polled,
      holdWaitMs: HOLD_WAIT_MS,
      name: "jobs",
      key: () => this.apiUrlFor(this.state),
      task: (signal, publish, run) => this.poll(signal, publish, run),
      receive: (answer) => this.receive(answer),
      onStateChange: (state) => this.status.update(state),
    });
    const typesUrl = apiUrl(config.apiBase, "api/job-types");
    this.typesFeed = new JsonFeed(typesUrl, (data) => this.applyJobTypes(data));
    this.typesPoller = createPoller({
      ...polled, name: "job-types", key: () => typesUrl, task: this.typesFeed.fetch, receive: this.typesFeed.receive,
    });
    const workersUrl = apiUrl(config.apiBase, "api/workers");
    this.workersFeed = new JsonFeed(workersUrl, (data) => this.workers.render(data));
    this.workersPoller = createPoller({
      ...polled, name: "workers", key: () => workersUrl, task: this.workersFeed.fetch, receive: this.workersFeed.receive,
    });
  }

  /**
   * A new list of job types: the type filter's options, and which queued jobs wait.
   * @param {unknown} data  a GET /api/job-types answer
   */
  applyJobTypes(data) {
    this.typeFilter.setTypes(typeNames(data));
    this.table.setTypeWorkers(workersByType(data));
    // A store whose workers do not register here (a VPO library): no strip, no polling
    // for it; back as soon as an answer says the workers are known.
    const known = workersKnown(data);
    this.workers.setKnown(known);
    if (known) this.workersPoller.start();
    else this.workersPoller.stop();
  }

  /** Read the URL, wire the controls and start polling. */
  start() {
    this.loadUrl();
    this.el.form.querySelector("#filters-apply").hidden = true; // changes apply at once
    this.el.form.addEventListener("change", (event) => this.onFilterChange(event));
    this.el.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.onFilterChange(event);
    });
    this.el.table.tHead.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-sort]");
      if (!button) return;
      this.navigate({ sort: urlState.nextSort(this.state.sort, button.dataset.sort, this.vocab.defaultSort) });
    });
    this.doc.addEventListener("click", (event) => this.onLinkClick(event));
    this.win.addEventListener("popstate", () => {
      this.loadUrl();
      this.refresh();
    });
    this.doc.addEventListener("visibilitychange", () => this.scheduleTick());
    this.win.addEventListener("pagehide", () => this.stopTick());
    this.win.addEventListener("pageshow", () => this.scheduleTick());
    this.status.start();
    this.poller.start();
    this.typesPoller.start();
    this.workersPoller.start();
  }

  /** Take the state from the address bar; rewrite it if it held invalid values. */
  loadUrl() {
    const { state, rejected } = urlState.readState(this.win.location.search, this.vocab);
    if (rejected.length) this.log.debug("ignored invalid URL parameters:", rejected.join(", "));
    this.state = state;
    const clean = this.urlFor(state);
    if (clean !== this.win.location.pathname + this.win.location.search) {
      this.win.history.replaceState(null, "", clean);
    }
    this.syncControls();
  }

  /** @returns {string} the page URL (path and query) of a state */
  urlFor(state) {
    const params = urlState.writeParams(state, this.vocab);
    for (const [name, value] of urlState.pageParams(this.win.location.search)) params.append(name, value);
    const query = params.toString();
    return this.win.location.pathname + (query ? `?${query}` : "");
  }

  /** @returns {string} the API URL of a state */
  apiUrlFor(state) {
    return apiUrl(this.config.apiBase, "api/jobs", Object.fromEntries(urlState.writeParams(state, this.vocab)));
  }

  /** Show a new view: a URL for it in the history, and a fetch at once. */
  navigate(changes) {
    const next = urlState.changeState(this.state, changes);
    if (urlState.sameState(next, this.state)) return;
    this.state = next;
    this.win.history.pushState(null, "", this.urlFor(next));
    this.syncControls();
    this.refresh();
  }

  refresh() {
    this.renderPager();
    // refresh() aborts a request in flight for the old view and fetches the new one as
    // soon as it has settled: at once, and never two in flight.
    this.poller.refresh();
  }

  onFilterChange(event) {
    if (event.type === "change" && !FILTERS.includes(event.target.name)) return;
    const changes = {};
    for (const name of FILTERS) changes[name] = this.el.form.elements.namedItem(name).value;
    this.navigate(changes);
  }

  onLinkClick(event) {
    const link = event.target.closest("a[data-action]");
    if (!link || !plainClick(event)) return;
    event.preventDefault();
    if (link.getAttribute("aria-disabled") === "true") return;
    const action = link.dataset.action;
    if (action === "clear-filters") this.navigate({ status: "", type: "", since: "" });
    else if (action === "first-page") this.navigate({ offset: 0 });
    else if (action === "page") this.navigate({ offset: Number(link.dataset.offset) });
  }

  /** Bring the filter controls, sort headers and links in line with the state. */
  syncControls() {
    const listQuery = urlState.writeParams(this.state, this.vocab).toString();
    this.table.setListQuery(listQuery);
    this.workers.setListQuery(listQuery);
    this.typeFilter.setValue(this.state.type);
    const { form } = this.el;
    for (const name of BUILT_FILTERS) {
      const select = form.elements.namedItem(name);
      const value = this.state[name];
      // A URL may combine values (status=queued,running): show it as an option of its own.
      if (![...select.options].some((option) => option.value === value)) {
        select.add(new Option(value.split(",").join(", "), value));
      }
      select.value = value;
    }
    for (const th of this.el.table.tHead.querySelectorAll("th[data-sort-key]")) {
      setAttr(th, "aria-sort", urlState.sortDirection(this.state.sort, th.dataset.sortKey));
    }
    const cleared = this.urlFor(urlState.changeState(this.state, { status: "", type: "", since: "" }));
    for (const link of this.doc.querySelectorAll('a[data-action="clear-filters"]')) {
      setAttr(link, "href", cleared);
    }
    this.el.clear.hidden = !urlState.hasFilters(this.state);
    const first = this.doc.querySelector('a[data-action="first-page"]');
    setAttr(first, "href", this.urlFor(urlState.changeState(this.state, { offset: 0 })));
  }

  /**
   * The poll task: fetch the current view with the last ETag; apply what changed.
   *
   * @param {AbortSignal} signal
   * @param {(answer: {url: string, etag: string | null, data: unknown}) => void} publish
   *   the view's data now, for the tabs that follow this one
   * @param {import("./polling.js").RunOptions} [run]  whether this run may be held
   * @returns {Promise<import("./api_client.js").JsonResult | undefined>}  the answer (its
   *   `held` and `status` set the poller's pace), undefined when the view changed meanwhile
   */
  async poll(signal, publish, run) {
    const url = this.apiUrlFor(this.state);
    let result;
    try {
      result = await getJson(url, { signal, etag: url === this.etagUrl ? this.etag : null, wait: holdWait(run) });
    } catch (error) {
      // A client error will not heal by itself: say what is wrong on the page. Network
      // failures and 5xx are the connection indicator's business.
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
        this.showError(error.message);
      } else if (this.total === null && error?.name !== "AbortError") {
        setText(this.el.loading, "Waiting for the jobs API…");
      }
      throw error;
    }
    // The view changed while this was in flight: its own fetch is already on its way.
    if (url !== this.apiUrlFor(this.state)) return undefined;
    publish({ url, etag: result.etag, data: result.status === 200 ? result.data : this.lastData });
    this.take(url, result.etag, result.status === 200 ? result.data : null);
    return result;
  }

  /**
   * An answer another tab fetched for this view: applied as a 200 when it is news, as a
   * 304 when it is the data shown already.
   *
   * @param {{url: string, etag: string | null, data: unknown}} answer
   * @returns {true}
   */
  receive({ url, etag, data }) {
    if (url !== this.apiUrlFor(this.state)) return true; // an answer for a view left since
    const news = url !== this.etagUrl || etag === null || etag !== this.etag;
    this.take(url, etag, news ? data : null);
    return true;
  }

  /**
   * Apply an answer for the current view.
   * @param {string} url
   * @param {string | null} etag
   * @param {unknown} data  the new data, or null for "unchanged" (a 304)
   */
  take(url, etag, data) {
    this.showError("");
    this.etag = etag;
    this.etagUrl = url;
    if (data !== null) {
      this.lastData = data;
      this.render(data);
    }
    this.el.table.dispatchEvent(new CustomEvent("jobs:polled", { detail: { status: data !== null ? 200 : 304 } }));
  }

  /** Apply a fresh page of jobs: only the differences reach the DOM. */
  render(data) {
    const diff = diffJobs(this.jobs, data.jobs);
    if (!isEmptyDiff(diff)) this.table.apply(diff);
    this.jobs = diff.byId;
    this.total = data.total;
    this.pollCount += 1;
    // A hook for tests and scripts: how many responses with data were applied.
    this.el.table.dataset.pollCount = String(this.pollCount);
    this.el.loading.hidden = true;
    // The title counts every running job (the answer's `running`), whatever the view
    // shows; an API without it: the running jobs of this view.
    const running = Number.isSafeInteger(data.running)
      ? data.running
      : data.jobs.filter((job) => job.status === "running").length;
    this.doc.title = dashboardTitle(running);
    this.renderEmpty(data);
    this.renderPager();
    this.scheduleTick();
  }

  renderEmpty(data) {
    let kind = null;
    if (!data.jobs.length) kind = data.total > 0 ? "past-end" : data.has_filters ? "filtered" : "none";
    setAttr(this.el.empty, "hidden", kind === null);
    setAttr(this.el.view, "hidden", kind !== null);
    for (const block of this.el.empty.querySelectorAll("[data-empty]")) {
      setAttr(block, "hidden", block.dataset.empty !== kind);
    }
  }

  renderPager() {
    const shown = this.jobs.size;
    const total = this.total ?? 0;
    setText(this.el.range, shown ? formatRange(this.state.offset, shown, total) : "");
    const offsets = this.total === null
      ? { prev: null, next: null }
      : urlState.pageOffsets(this.state, total);
    for (const [link, offset] of [[this.el.prev, offsets.prev], [this.el.next, offsets.next]]) {
      const enabled = offset !== null;
      // A disabled link has no href (so it is skipped by Tab) and says so to assistive tech.
      setAttr(link, "href", enabled ? this.urlFor(urlState.changeState(this.state, { offset })) : null);
      setAttr(link, "aria-disabled", enabled ? null : "true");
      setAttr(link, "data-offset", enabled ? offset : null);
    }
    // One page only: no pager. No jobs shown: no range either (the empty state speaks).
    const single = offsets.prev === null && offsets.next === null;
    setAttr(this.el.pager, "hidden", single);
    setAttr(this.el.bar, "hidden", single && !shown);
    // A link that was just followed and is now disabled (the last page) cannot keep
    // the focus: hand it to the other one, so keyboard users stay in the pager.
    const active = this.doc.activeElement;
    if ((active === this.el.prev || active === this.el.next) && !active.hasAttribute("href")) {
      (active === this.el.prev ? this.el.next : this.el.prev).focus();
    }
  }

  showError(message) {
    setText(this.el.error, message);
    setAttr(this.el.error, "hidden", !message);
  }

  /** Keep a running job's elapsed time current, once a second, while the tab is visible. */
  scheduleTick() {
    this.stopTick();
    if (this.doc.hidden || !this.table.hasRunning()) return;
    this.ticker = this.win.setTimeout(() => {
      this.table.tick();
      this.scheduleTick();
    }, TICK_MS);
  }

  stopTick() {
    if (this.ticker !== null) this.win.clearTimeout(this.ticker);
    this.ticker = null;
  }
}
