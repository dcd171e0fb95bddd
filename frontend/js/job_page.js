// The detail page (job.html?id=<uuid>): two Pollers, one view.
//
// - Status: GET /api/jobs/{id} at the polling interval, with the last ETag (a 304 changes
//   nothing); the header's indicator follows this poller.
// - Log: GET /api/jobs/{id}/logs at the log interval, only while the job runs (or has
//   the status "unknown", which may be running under a name this page does not know):
//   the tail first, then `offset=<index after the last line held>` for new lines only.
// - The status answer that reports a terminal status (completed, failed, cancelled) is
//   the last status fetch: that poller finishes ("Paused — job finished"), the log poller
//   makes one last fetch (the worker writes its last lines before it records the end) and
//   finishes too. Nothing polls after that. "unknown" is not terminal: polling goes on.
// - A 404 from either (the job was deleted) shows #job-missing and stops every timer; an
//   address without a valid id shows #page-error and starts nothing.
// - A running job's elapsed time ticks once a second (only that element is written).
// - Job types: while the job is queued, GET /api/job-types at the log interval (slowly:
//   it only says whether a live worker runs the job's type; ETag, a 304 changes nothing),
//   so the page can say "Waiting for a worker that runs <type>" and drop the note when
//   one appears. It stops as soon as the job is no longer queued.
// - "Notify me when this job ends" (notify_toggle.js): while it is on and the tab is
//   hidden (the status stream then pauses), one slow status poll (at the log interval,
//   `background`) watches for the end, so the notification comes even then.
// - Tabs showing the same job share each of these streams (shared_poller.js): one tab
//   fetches, the others apply its answers through the receive* methods.
// - Held polls: the status request and the log's incremental one (an offset at the end of
//   the lines held) ask the server to hold an unchanged answer (`Prefer: wait`,
//   api_client.js) and resolve to getJson's result, so a server that holds them sets
//   their pace (polling.js): a change shows within a moment instead of an interval. No
//   more than these two: each held request keeps one of the browser's six connections
//   to the server (HTTP/1.1) busy. The job types (which change seldom) poll at their
//   interval, and the hidden tab's watch keeps its slow one.

import { ApiError, HOLD_WAIT_MS, apiUrl, getJson, holdWait } from "./api_client.js";
import { ConnectionStatus } from "./connection_status.js";
import { make, setAttr, setText } from "./dom_write.js";
import { JobDetail } from "./job_detail.js";
import { readJobLocation } from "./job_location.js";
import { isTerminal } from "./job_time.js";
import { waitingType, workersByType } from "./job_types.js";
import { JsonFeed } from "./json_feed.js";
import { LogPanel } from "./log_panel.js";
import { NotifyToggle } from "./notify_toggle.js";
import { logQuery } from "./log_state.js";
import { jobTitle } from "./page_title.js";
import { Poller } from "./polling.js";
import { createPoller } from "./shared_poller.js";

const REQUEST_TIMEOUT_MS = 10_000;
const TICK_MS = 1000;
/** Lines asked for per log request after the first load (the API allows up to 1000). */
export const LOG_PAGE_LINES = 1000;
/** Log requests one run may chain while the log has more lines than one answer holds. */
const LOG_PAGES_PER_RUN = 5;

/** The job detail page. */
export class JobPage {
  /**
   * @param {Document} doc
   * @param {import("./page_config.js").PageConfig} config  from readPageConfig()
   * @param {import("./debug_log.js").Logger} log           from createLogger()
   */
  constructor(doc, config, log) {
    this.doc = doc;
    this.win = doc.defaultView;
    this.config = config;
    this.log = log;
    const $ = (id) => doc.getElementById(id);
    this.el = {
      view: $("job-view"), loading: $("job-loading"), missing: $("job-missing"),
      error: $("page-error"), back: $("back-link"), logPanel: $("job-log-panel"),
    };
    this.location = readJobLocation(this.win.location.search, {
      referrer: doc.referrer, origin: this.win.location.origin,
    });
    this.id = this.location.id;
    this.detail = new JobDetail(this.el.view, { stallAfterMs: config.stallAfterMs });
    this.logPanel = new LogPanel(this.el.logPanel);
    this.status = new ConnectionStatus($("connection-status"));
    this.etag = null;
    this.logEtag = null;
    this.logEtagUrl = null;
    this.terminal = false;
    this.logStarted = false;
    this.ended = false; // missing job or page error: nothing runs any more
    this.ticker = null;
    const common = {
      enabled: config.enabled, timeoutMs: REQUEST_TIMEOUT_MS, log, shared: config.shared,
      minUpdateGapMs: config.minUpdateGapMs,
    };
    this.statusPoller = createPoller({
      ...common, name: "job", intervalMs: config.intervalMs, holdWaitMs: HOLD_WAIT_MS,
      key: () => this.jobUrl(),
      task: (signal, publish, run) => this.pollStatus(signal, publish, run),
      receive: (answer) => this.receiveStatus(answer),
      onStateChange: (state) => this.status.update(state),
    });
    this.logPoller = createPoller({
      ...common, name: "log", intervalMs: config.logIntervalMs, holdWaitMs: HOLD_WAIT_MS,
      key: () => this.logUrl(),
      task: (signal, publish, run) => this.pollLog(signal, publish, run),
      receive: (answer) => this.receiveLog(answer),
      onStateChange: (state) => this.logPanel.setState(state),
    });
    this.notify = new NotifyToggle($("notify-toggle"), $("notify-note"), { onChange: () => this.followHidden() });
    this.sawUnfinished = false; // the job was seen before it ended (so its end is news)
    this.watchPoller = new Poller({
      ...common, name: "watch", intervalMs: config.logIntervalMs, background: true,
      task: (signal) => this.pollWatch(signal),
    });
    /** @type {Map<string, number> | null} live workers per type, while the job is queued */
    this.typeWorkers = null;
    this.typesStarted = false;
    const typesUrl = apiUrl(config.apiBase, "api/job-types");
    this.typesFeed = new JsonFeed(typesUrl, (data) => {
      this.typeWorkers = workersByType(data);
      this.showWaiting();
    });
    this.typesPoller = createPoller({
      ...common, name: "job-types", intervalMs: config.logIntervalMs,
      key: () => typesUrl, task: this.typesFeed.fetch, receive: this.typesFeed.receive,
    });
  }

  /** Check the address, wire the page and start polling the job's status. */
  start() {
    for (const link of this.doc.querySelectorAll("[data-role=back]")) setAttr(link, "href", this.location.backHref);
    setAttr(this.el.back, "href", this.location.backHref);
    this.status.start();
    if (!this.id) {
      this.showError(this.location.problem);
      return;
    }
    // Back from a hidden tab: the elapsed time is stale by however long it was hidden.
    this.doc.addEventListener("visibilitychange", () => {
      this.scheduleTick(true);
      this.followHidden();
    });
    this.win.addEventListener("pagehide", () => this.stopTick());
    this.win.addEventListener("pageshow", () => this.scheduleTick(true));
    this.statusPoller.start();
  }

  /** @returns {string} the API URL of the job */
  jobUrl() {
    return apiUrl(this.config.apiBase, `api/jobs/${encodeURIComponent(this.id)}`);
  }

  /**
   * @param {Record<string, unknown>} [params]
   * @returns {string} the API URL of the job's log
   */
  logUrl(params = {}) {
    return apiUrl(this.config.apiBase, `api/jobs/${encodeURIComponent(this.id)}/logs`, params);
  }

  /**
   * The status poll: fetch the job with the last ETag; show what changed.
   * @param {AbortSignal} signal
   * @param {(answer: {etag?: string | null, job?: Object, refused?: Object}) => void} publish
   *   for the tabs that follow this one: the job now, or the API's refusal (a deleted job)
   * @param {import("./polling.js").RunOptions} [run]  whether this run may be held
   * @returns {Promise<import("./api_client.js").JsonResult | undefined>}  the answer (its
   *   `held` and `status` set the poller's pace); undefined after a refusal
   */
  async pollStatus(signal, publish, run) {
    let result;
    try {
      result = await getJson(this.jobUrl(), { signal, etag: this.etag, wait: holdWait(run) });
    } catch (error) {
      if (this.isClientError(error)) publish({ refused: { status: error.status, message: error.message } });
      if (this.handleClientError(error)) return undefined;
      if (!this.detail.job && error?.name !== "AbortError") setText(this.el.loading, "Waiting for the jobs API…");
      throw error; // network and 5xx: the poller backs off, the indicator says so
    }
    this.etag = result.etag;
    publish({ etag: result.etag, job: result.status === 200 ? result.data : this.detail.job });
    if (result.status === 200) this.applyJob(result.data);
    // The API answers again after an outage: the log poller, backing off from the same
    // failures on its own (longer) schedule, retries now instead of staying stale.
    if (this.logStarted && !this.terminal && this.logPoller.state.failures > 0) this.logPoller.pollNow();
    return result;
  }

  /**
   * The slow watch of a hidden tab that wants to hear of the job's end.
   * @param {AbortSignal} signal
   */
  async pollWatch(signal) {
    let result;
    try {
      result = await getJson(this.jobUrl(), { signal, etag: this.etag });
    } catch (error) {
      if (this.handleClientError(error)) return;
      throw error;
    }
    this.etag = result.etag;
    if (result.status === 200) this.applyJob(result.data);
  }

  /** Run the slow watch exactly while it is wanted: notify on, tab hidden, job not over. */
  followHidden() {
    if (this.notify.on && this.doc.hidden && !this.terminal && !this.ended) this.watchPoller.start();
    else this.watchPoller.stop();
  }

  /**
   * The job as another tab fetched it (or the API's refusal): shown as if fetched here.
   * @param {{etag?: string | null, job?: Object, refused?: {status: number, message: string}}} answer
   * @returns {true}
   */
  receiveStatus({ etag = null, job = null, refused = null }) {
    if (refused) {
      this.handleClientError(new ApiError(refused.message, { status: refused.status }));
    } else if (job && (etag === null || etag !== this.etag || !this.detail.job)) {
      this.etag = etag;
      this.applyJob(job);
    }
    return true;
  }

  /**
   * The log poll: new lines after those held (the tail the first time), chaining a few
   * requests while the log has more than one answer holds.
   *
   * Held polls: only the incremental request (an offset at the end of the lines held)
   * asks for a hold, and never the final fetch of an ended job (nothing changes any more).
   * A tail load is never held: when the server holds the status poll (so it holds this
   * one too), a run that loads the tail goes on to one incremental request, answered at
   * once (no ETag for its URL yet), which says so, and the log is followed from then on,
   * not an interval later. Against a server that does not hold, nothing changes.
   *
   * @param {AbortSignal} signal
   * @param {(answer: {slice?: Object, refused?: Object}) => void} publish  each new slice,
   *   for the tabs that follow this one
   * @param {import("./polling.js").RunOptions} [run]  whether this run may be held
   * @returns {Promise<import("./api_client.js").JsonResult | undefined>}  the run's last
   *   answer (its `held` and `status` set the poller's pace); undefined after a refusal
   */
  async pollLog(signal, publish, run) {
    const last = this.terminal; // the job had ended when this run began: the final fetch
    let result;
    for (let page = 0; page < LOG_PAGES_PER_RUN; page += 1) {
      const linesHeld = this.logPanel.held;
      const url = this.logUrl(logQuery(linesHeld, LOG_PAGE_LINES));
      const wait = linesHeld && !last ? holdWait(run) : undefined;
      try {
        // An ETag belongs to one URL: only the same offset may revalidate.
        result = await getJson(url, { signal, etag: url === this.logEtagUrl ? this.logEtag : null, wait });
      } catch (error) {
        if (this.isClientError(error)) publish({ refused: { status: error.status, message: error.message } });
        if (this.handleClientError(error)) return undefined;
        throw error;
      }
      this.logEtag = result.etag;
      this.logEtagUrl = url;
      if (result.status === 304) break;
      publish({ slice: result.data });
      const { more } = this.logPanel.apply(result.data);
      const tailLoaded = linesHeld === null && this.logPanel.held !== null;
      if (!more && !(tailLoaded && !last && this.statusPoller.state.held === true)) break;
    }
    if (last) this.logPoller.finish();
    return result;
  }

  /**
   * Log lines another tab fetched: appended when they continue what this page holds.
   * @param {{slice?: Object, refused?: {status: number, message: string}}} answer
   * @returns {boolean} false when they do not (nothing held yet, or a gap): this tab then
   *   fetches once on its own
   */
  receiveLog({ slice = null, refused = null }) {
    if (refused) {
      this.handleClientError(new ApiError(refused.message, { status: refused.status }));
      return true;
    }
    if (!slice || !this.logPanel.held) return false;
    return !this.logPanel.apply(slice).more;
  }

  /**
   * Show a new version of the job, and start or stop what depends on its status.
   * @param {Object} job  a JobDetailItem
   */
  applyJob(job) {
    if (this.ended) return;
    this.detail.render(job, Date.now());
    this.logPanel.setStatus(job.status);
    this.doc.title = jobTitle(job);
    this.el.loading.hidden = true;
    this.el.view.hidden = false;
    this.followJobTypes(job.status === "queued");
    this.showWaiting();
    if (isTerminal(job.status)) {
      if (!this.terminal && this.sawUnfinished) this.notify.jobEnded(job);
      this.terminal = true;
      this.notify.stop();
      this.watchPoller.stop();
      this.stopTick();
      this.statusPoller.finish();
      // One last log fetch, after the end was recorded: it holds the job's last lines.
      // refresh() supersedes a log request already in flight (it may predate the end).
      if (this.logStarted) this.logPoller.refresh();
      else this.startLog();
      return;
    }
    if (!this.sawUnfinished) {
      this.sawUnfinished = true;
      this.notify.start(); // something to wait for: offer the notification
    }
    if (job.status !== "queued") {
      // Running, or "unknown" (a status VPO may add later, or a damaged row: not terminal,
      // so both polls go on, the row may change): follow the log. The elapsed time ticks
      // only while running.
      this.startLog();
      this.scheduleTick();
    } else if (this.logStarted) {
      // Back in the queue (its worker stopped): no log to follow until it runs again.
      this.logStarted = false;
      this.logPoller.stop();
    }
  }

  /**
   * Poll the job types while the job is queued (a queued job may wait for a worker);
   * stop as soon as it is not.
   * @param {boolean} queued
   */
  followJobTypes(queued) {
    if (queued === this.typesStarted) return;
    this.typesStarted = queued;
    if (queued) {
      this.typesPoller.start();
    } else {
      this.typesPoller.stop();
      this.typeWorkers = null;
    }
  }

  /** Show or hide the note "Waiting for a worker that runs <type>". */
  showWaiting() {
    if (this.detail.job) this.detail.showWaiting(waitingType(this.detail.job, this.typeWorkers));
  }

  startLog() {
    if (this.logStarted) return;
    this.logStarted = true;
    this.logPoller.start();
  }

  /**
   * A 4xx answer will not heal by itself: a 404 means the job is gone, anything else
   * (a 400) is shown as a page error. Either stops everything.
   * @param {unknown} error
   * @returns {boolean} true when handled
   */
  handleClientError(error) {
    if (!this.isClientError(error)) return false;
    if (error.status === 404) this.showMissing();
    else this.showError(error.message);
    return true;
  }

  /**
   * @param {unknown} error
   * @returns {boolean} whether it is a 4xx refusal that will not heal by itself (not a 429)
   */
  isClientError(error) {
    return error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 429;
  }

  /** The job was deleted: say so, with a way back, and stop every timer. */
  showMissing() {
    this.stopAll();
    this.el.view.hidden = true;
    this.el.loading.hidden = true;
    this.el.missing.hidden = false;
    this.doc.title = "Job not found · jobdash";
  }

  /**
   * A page-level error (malformed address, or the API refusing the request).
   * @param {string} message
   */
  showError(message) {
    this.stopAll();
    this.el.view.hidden = true;
    this.el.loading.hidden = true;
    const back = make(this.doc, "a", "", { href: this.location.backHref }, "Back to the jobs list");
    const links = make(this.doc, "p");
    links.append(back);
    this.el.error.replaceChildren(
      make(this.doc, "p", "", {}, "This job cannot be shown."),
      make(this.doc, "p", "", {}, message),
      links,
    );
    this.el.error.hidden = false;
    this.doc.title = "Job · error · jobdash";
  }

  stopAll() {
    this.ended = true;
    this.notify.stop();
    this.watchPoller.stop();
    this.stopTick();
    this.followJobTypes(false);
    this.logPoller.stop();
    this.statusPoller.stop();
  }

  /**
   * Keep a running job's elapsed time current, once a second, while the tab is visible.
   * @param {boolean} [now=false]  also bring it up to date at once
   */
  scheduleTick(now = false) {
    this.stopTick();
    if (this.ended || this.terminal || this.doc.hidden || this.detail.job?.status !== "running") return;
    if (now) this.detail.tick(Date.now());
    this.ticker = this.win.setTimeout(() => {
      this.ticker = null;
      this.detail.tick(Date.now());
      this.scheduleTick();
    }, TICK_MS);
  }

  stopTick() {
    if (this.ticker !== null) this.win.clearTimeout(this.ticker);
    this.ticker = null;
  }
}
