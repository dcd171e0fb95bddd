/**
 * Poller: runs one fetch-and-render task over and over, politely.
 *
 * - A setTimeout chain (never setInterval) with one timer slot, cleared before any new
 *   timer is set; one in-flight run at most (a run starts only when none is in flight,
 *   whatever asks for it: the timer, pollNow(), a visible tab, the network coming back).
 * - Each run gets its own AbortController: stop(), finish(), a hidden tab, the browser
 *   going offline and `pagehide` abort it (not a failure; nothing is counted or
 *   scheduled), and its timeout (default 10 s) aborts it with a "TimeoutError" (a failure).
 * - Failures follow backoff.js: the normal interval after the 1st and 2nd consecutive
 *   failures ("reconnecting"), then 10, 20, 40, 80, 120 s ("offline"); an error's
 *   `retryAfterMs` (an ApiError from a 503/429) is a minimum. A success resets it ("live").
 * - Hidden tab: the timer is cleared and the run aborted at once ("paused", "hidden");
 *   visible again: an immediate run, then the interval. The browser's offline/online
 *   events do the same ("offline", "browser-offline"). `pagehide` clears every timer and
 *   aborts; `pageshow` after it (back/forward cache) resumes.
 * - A background poller (`background: true`) polls whether the tab is visible or not (the
 *   job page's slow watch for a job's end while its tab is hidden); all else is the same.
 * - Polling disabled (`enabled: false`): the task runs once, so the page still has its
 *   data, then "paused" ("disabled"); pollNow()/refresh() still run it on demand.
 * - Held polls: a task may resolve to `{held: true, status: 200 | 304}` (getJson's result
 *   for a request with `wait`): the server holds this stream's revalidations until the
 *   data changes, so the next run follows at once after a 304 and `minUpdateGapMs` after
 *   a 200 — and never sooner than `minUpdateGapMs` after the previous run started, so
 *   a server or proxy that answers held requests at once cannot make a tight loop. A run
 *   expected to be held (the last answer was) shows the resting state ("live"), not
 *   "updating": waiting for a change is the stream's normal condition, not a fetch. An
 *   answer without `held` (an older server, a proxy that strips Preference-Applied) puts
 *   the stream back on the interval; a failure forgets `held` until an answer says it
 *   again (backoff as ever, "updating" during the retry), and so does refresh() (a new
 *   query's first answer is never held). The task's second argument says whether this
 *   run may ask for a hold, `{hold}`: not after a failure — a retry must find out at once
 *   whether the server is back, not wait at a server that is back for a change — so a
 *   retry is a plain revalidation with the plain timeout; once one succeeds, a stream
 *   that was held resumes its holds `minUpdateGapMs` later (showing "live" again). A run
 *   that may be held times out after `timeoutMs + holdWaitMs` (a poller whose task asks
 *   for holds says how long one may last).
 *
 * The state is a plain object (see {@link PollerState}), passed to `onStateChange` on
 * every change; ConnectionStatus shows it in the header.
 *
 * The task must honour its signal (pass it to fetch): a run that ignores an abort keeps
 * its in-flight slot until it settles, and no other run starts meanwhile.
 *
 * @module polling
 */

import { BACKOFF_STEPS_MS, isBackingOff, nextDelayMs } from "./backoff.js";
import { DEFAULT_MIN_UPDATE_GAP_MS } from "./page_config.js";

/** Default time a run may take before it is aborted and counted as a failure (ms). */
export const DEFAULT_TIMEOUT_MS = 10000;

/**
 * @typedef {"updating" | "live" | "reconnecting" | "offline" | "paused"} PollerStateName
 */

/**
 * A snapshot of a poller's state (a new frozen object on every change).
 *
 * reason, by state: updating "request"; live "ok"; reconnecting "failure"; offline
 * "backoff" | "browser-offline"; paused "hidden" | "disabled" | "finished" | "stopped".
 *
 * @typedef {object} PollerState
 * @property {PollerStateName} state
 * @property {string} reason
 * @property {number} failures              consecutive failures (0 after a success)
 * @property {number | null} nextAttemptAt  epoch ms of the next scheduled run, or null
 * @property {number | null} lastSuccessAt  epoch ms of the last successful run, or null
 * @property {boolean} inFlight             a run is in flight
 * @property {number} intervalMs            the normal interval
 * @property {number} retryAfterMs          the last failure's Retry-After (0 if none)
 * @property {boolean} held                 the last answer was held by the server (held
 *   polls): the next request is asked at once, and may wait for a change
 */

/**
 * What a run may do, given to the task with its signal.
 *
 * @typedef {object} RunOptions
 * @property {boolean} hold  the request may ask the server to hold it (`Prefer: wait`):
 *   false after a failure, and for a poller without `holdWaitMs`
 */

/**
 * Whether an error is an abort (DOMException "AbortError"), which is never a failure.
 * @param {unknown} error
 * @returns {boolean}
 */
function isAbortError(error) {
  return typeof error === "object" && error !== null && error.name === "AbortError";
}

/**
 * Whether a run's result says the server held the request (held polls).
 * @param {unknown} result  what the task resolved to
 * @returns {boolean}
 */
function isHeld(result) {
  return typeof result === "object" && result !== null && result.held === true;
}

/** A logger that says nothing. */
const SILENT = Object.freeze({ debug() {} });

/**
 * Runs `task` at an interval, with backoff, visibility and network awareness.
 */
export class Poller {
  /** @type {(signal: AbortSignal, run: RunOptions) => Promise<unknown>} */
  #task;
  #intervalMs;
  #enabled;
  #timeoutMs;
  /** How long the server may hold one of this poller's requests (0: it never asks). */
  #holdWaitMs;
  /** With held polls: the least time between two runs' starts. */
  #minUpdateGapMs;
  #name;
  #log;
  #onStateChange;
  #doc;
  #win;
  /** Polls in a hidden tab too. */
  #background;

  /** start() called and not stopped since. */
  #started = false;
  /** finish() called (a terminal job): nothing runs until start() again. */
  #finished = false;
  /** Between `pagehide` and `pageshow`. */
  #pageHidden = false;
  /** The browser said it is offline (navigator.onLine / 'offline' event). */
  #browserOffline = false;
  /** With polling disabled: the one load has completed (success or failure). */
  #ranOnce = false;
  /** refresh() superseded a run: the next run may bypass "disabled". */
  #forceNext = false;
  /** Listeners attached. */
  #listening = false;

  /** The one scheduling timer slot. */
  #timer = null;
  /** The in-flight run's timeout timer. */
  #timeoutTimer = null;
  /** The in-flight run's AbortController (null when nothing is in flight). */
  #controller = null;
  #runStartedAt = 0;

  #failures = 0;
  #retryAfterMs = 0;
  /** The last answer was held (held polls); forgotten on a failure and on refresh(). */
  #held = false;
  /** The stream was held when the failures began: a retry's answer resumes the holds. */
  #heldBeforeFailure = false;
  /** The run in flight may ask for a hold (the RunOptions it was given). */
  #runHold = false;
  #nextAttemptAt = null;
  #lastSuccessAt = null;
  /** @type {PollerStateName} */
  #stateName = "paused";
  #reason = "stopped";
  /** @type {PollerState | null} the last snapshot passed to onStateChange */
  #emitted = null;

  /**
   * @param {object} options
   * @param {(signal: AbortSignal, run: RunOptions) => Promise<unknown>} options.task  one
   *   fetch + render; resolves when done, throws on failure (an error's `retryAfterMs`
   *   feeds the backoff); resolving to `{held: true, status}` (held polls) sets the pace
   *   instead of the interval
   * @param {number} options.intervalMs          normal gap between runs (ms)
   * @param {boolean} [options.enabled=true]     false: run once, then stay paused
   * @param {number} [options.timeoutMs=10000]   a run longer than this is aborted: a failure
   * @param {number} [options.holdWaitMs=0]      how long the server may hold one request of
   *   the task (its `wait`, in ms); added to every run's timeout
   * @param {number} [options.minUpdateGapMs=1000]  held polls: the least time between the
   *   starts of two runs, and the wait after a held 200 (from the page config)
   * @param {string} [options.name="poll"]       for debug messages
   * @param {{debug: (...args: unknown[]) => void}} [options.log]  e.g. createLogger(...)
   * @param {(state: PollerState) => void} [options.onStateChange]  called on every change
   * @param {Document} [options.documentRef=document]  visibility source
   * @param {Window} [options.windowRef=window]  timers, online/offline, pagehide
   * @param {boolean} [options.background=false]  keep polling while the tab is hidden
   */
  constructor({
    task,
    intervalMs,
    enabled = true,
    timeoutMs = DEFAULT_TIMEOUT_MS,
    holdWaitMs = 0,
    minUpdateGapMs = DEFAULT_MIN_UPDATE_GAP_MS,
    name = "poll",
    log,
    onStateChange,
    documentRef = document,
    windowRef = window,
    background = false,
  }) {
    if (typeof task !== "function") throw new TypeError("Poller: task must be a function");
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
      throw new RangeError(`Poller: intervalMs must be a positive number; got ${intervalMs}`);
    }
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new RangeError(`Poller: timeoutMs must be a positive number; got ${timeoutMs}`);
    }
    if (!Number.isFinite(holdWaitMs) || holdWaitMs < 0) {
      throw new RangeError(`Poller: holdWaitMs must be a number >= 0; got ${holdWaitMs}`);
    }
    if (!Number.isFinite(minUpdateGapMs) || minUpdateGapMs <= 0) {
      throw new RangeError(`Poller: minUpdateGapMs must be a positive number; got ${minUpdateGapMs}`);
    }
    this.#task = task;
    this.#intervalMs = intervalMs;
    this.#enabled = enabled !== false;
    this.#timeoutMs = timeoutMs;
    this.#holdWaitMs = holdWaitMs;
    this.#minUpdateGapMs = minUpdateGapMs;
    this.#name = String(name);
    this.#log = log && typeof log.debug === "function" ? log : SILENT;
    this.#onStateChange = typeof onStateChange === "function" ? onStateChange : null;
    this.#doc = documentRef;
    this.#win = windowRef;
    this.#background = background === true;
  }

  /**
   * The current state (read-only snapshot).
   * @returns {PollerState}
   */
  get state() {
    return this.#snapshot();
  }

  /**
   * Start polling: attach listeners and run at once (idempotent while started).
   * A hidden tab or offline browser defers the first run until visible / online.
   *
   * A poller that takes over a stream another one ran (shared_poller.js: a tab that
   * becomes the leader) is seeded with that one's last state: the failure count and
   * Retry-After carry on (so does the backoff), "updated N s ago" keeps its time, a held
   * stream stays "live" through its first request, and a future `nextAttemptAt` is kept
   * as the first run's time instead of running at once.
   *
   * @param {Partial<PollerState>} [seed]  the state of the poller this one follows
   */
  start(seed) {
    if (this.#started) return;
    this.#started = true;
    this.#finished = false;
    this.#pageHidden = false;
    this.#browserOffline = this.#win.navigator?.onLine === false;
    this.#listen(true);
    this.#log.debug(`${this.#name}: start (every ${this.#intervalMs} ms)`);
    const due = this.#takeSeed(seed);
    if (due !== null && !this.#blocked()) {
      this.#schedule(due);
      this.#log.debug(`${this.#name}: taking over, next request in ${due} ms`);
      this.#setState(this.#restingState());
    } else {
      this.#resume("start");
    }
    this.#emit();
  }

  /**
   * Adopt a seed's counters.
   * @param {Partial<PollerState> | undefined} seed
   * @returns {number | null} ms until the seed's next attempt, null for "run at once"
   */
  #takeSeed(seed) {
    if (!seed || typeof seed !== "object") return null;
    const whole = (value) => (Number.isSafeInteger(value) && value >= 0 ? value : 0);
    this.#failures = whole(seed.failures);
    this.#retryAfterMs = whole(seed.retryAfterMs);
    if (Number.isFinite(seed.lastSuccessAt)) this.#lastSuccessAt = seed.lastSuccessAt;
    this.#held = seed.held === true && this.#failures === 0;
    if (!Number.isFinite(seed.nextAttemptAt)) return null;
    const due = seed.nextAttemptAt - Date.now();
    // Never trust a seed to park the stream longer than the longest backoff step.
    return due > 0 ? Math.min(due, BACKOFF_STEPS_MS.at(-1)) : null;
  }

  /**
   * Stop polling (idempotent): clear the timer, abort the in-flight run (not a failure),
   * remove the listeners. State: paused ("stopped"), unless finished.
   */
  stop() {
    this.#halt("stopped");
    this.#setState(this.#blocked() ?? { state: "paused", reason: "stopped" });
    this.#emit();
  }

  /**
   * Stop for good because the job ended: stop(), then paused ("finished").
   * Safe to call from inside the task (its own signal is then aborted).
   */
  finish() {
    this.#finished = true;
    this.#halt("finished");
    this.#setState({ state: "paused", reason: "finished" });
    this.#emit();
  }

  /**
   * Run now, unless a run is in flight (then nothing: never two in flight).
   * Clears the pending timer; works in backoff and with polling disabled, not while the
   * tab is hidden, the browser offline, or the poller stopped.
   * @returns {boolean} whether a run started
   */
  pollNow() {
    if (!this.#started || this.#finished || this.#controller) return false;
    const ran = this.#runNow("pollNow", true);
    this.#emit();
    return ran;
  }

  /**
   * Supersede: abort the in-flight run (not a failure) and run again as soon as it has
   * settled (at once when nothing is in flight). For a changed query (filters, page).
   * @returns {void}
   */
  refresh() {
    if (!this.#started || this.#finished) return;
    if (this.#blocked(true)) return;
    // A new query has no ETag to revalidate: its answer comes at once, and is news.
    this.#held = false;
    this.#heldBeforeFailure = false;
    if (this.#controller) {
      this.#forceNext = true;
      this.#abortInFlight("superseded");
      this.#clearTimer();
      this.#setState({ state: "updating", reason: "request" });
    } else {
      this.#runNow("refresh", true);
    }
    this.#emit();
  }

  // --- event handlers (class fields, so they can be removed) ------------------------------

  #onVisibilityChange = () => {
    if (this.#background) return;
    if (this.#doc.visibilityState === "hidden") {
      this.#log.debug(`${this.#name}: tab hidden`);
      this.#pause("hidden");
    } else if (this.#stateName === "paused" && this.#reason === "hidden") {
      // Only a real return: a stray "visible" event must not cut a backoff short.
      this.#log.debug(`${this.#name}: tab visible`);
      this.#resume("visible");
    }
    this.#emit();
  };

  #onOffline = () => {
    this.#log.debug(`${this.#name}: browser offline`);
    this.#browserOffline = true;
    this.#pause("browser offline");
    this.#emit();
  };

  #onOnline = () => {
    if (!this.#browserOffline) return; // already online: nothing to resume
    this.#log.debug(`${this.#name}: browser online`);
    this.#browserOffline = false;
    this.#resume("online");
    this.#emit();
  };

  #onPageHide = () => {
    this.#log.debug(`${this.#name}: pagehide`);
    this.#pageHidden = true;
    this.#pause("pagehide");
    this.#emit();
  };

  #onPageShow = () => {
    if (!this.#pageHidden) return;
    this.#log.debug(`${this.#name}: pageshow`);
    this.#pageHidden = false;
    this.#resume("pageshow");
    this.#emit();
  };

  #onTimer = () => {
    this.#timer = null;
    this.#nextAttemptAt = null;
    this.#runNow("timer", false);
    this.#emit();
  };

  // --- internals ----------------------------------------------------------------------------

  /**
   * Attach or detach the listeners (once each).
   * @param {boolean} on
   */
  #listen(on) {
    if (on === this.#listening) return;
    this.#listening = on;
    const method = on ? "addEventListener" : "removeEventListener";
    this.#doc[method]("visibilitychange", this.#onVisibilityChange);
    this.#win[method]("online", this.#onOnline);
    this.#win[method]("offline", this.#onOffline);
    this.#win[method]("pagehide", this.#onPageHide);
    this.#win[method]("pageshow", this.#onPageShow);
  }

  /**
   * Why no run may start now, as the state to show; null when one may.
   * @param {boolean} [force=false]  an explicit request (pollNow/refresh) ignores "disabled"
   * @returns {{state: PollerStateName, reason: string} | null}
   */
  #blocked(force = false) {
    if (this.#finished) return { state: "paused", reason: "finished" };
    if (!this.#started) return { state: "paused", reason: "stopped" };
    if (this.#pageHidden || (!this.#background && this.#doc.visibilityState === "hidden")) {
      return { state: "paused", reason: "hidden" };
    }
    if (!this.#enabled && this.#ranOnce && !force) return { state: "paused", reason: "disabled" };
    if (this.#browserOffline) return { state: "offline", reason: "browser-offline" };
    return null;
  }

  /**
   * The state between runs, from the failure count.
   * @returns {{state: PollerStateName, reason: string}}
   */
  #restingState() {
    if (this.#failures === 0) return { state: "live", reason: "ok" };
    if (isBackingOff(this.#failures)) return { state: "offline", reason: "backoff" };
    return { state: "reconnecting", reason: "failure" };
  }

  /**
   * Something that blocked runs went away: run at once if nothing else blocks.
   * @param {string} why
   */
  #resume(why) {
    const blocked = this.#blocked();
    if (blocked) {
      this.#setState(blocked);
    } else if (this.#controller) {
      // An aborted run is still settling; #settle starts the next one when it has.
      this.#setState({ state: "updating", reason: "request" });
    } else {
      this.#runNow(why, false);
    }
  }

  /**
   * Hidden tab, offline browser, pagehide: clear the timer, abort the run, show why.
   * @param {string} why
   */
  #pause(why) {
    this.#clearTimer();
    this.#abortInFlight(why);
    this.#setState(this.#blocked() ?? this.#restingState());
  }

  /**
   * stop()/finish(): detach, clear every timer, abort the run.
   * @param {string} why
   */
  #halt(why) {
    if (this.#started) this.#log.debug(`${this.#name}: ${why}`);
    this.#started = false;
    this.#forceNext = false;
    this.#listen(false);
    this.#clearTimer();
    this.#abortInFlight(why);
  }

  /** Clear the scheduling timer (the one slot). */
  #clearTimer() {
    if (this.#timer !== null) this.#win.clearTimeout(this.#timer);
    this.#timer = null;
    this.#nextAttemptAt = null;
  }

  /** Clear the in-flight run's timeout timer. */
  #clearTimeoutTimer() {
    if (this.#timeoutTimer !== null) this.#win.clearTimeout(this.#timeoutTimer);
    this.#timeoutTimer = null;
  }

  /**
   * Abort the in-flight run, if any (an AbortError: not a failure).
   * @param {string} why
   */
  #abortInFlight(why) {
    this.#clearTimeoutTimer();
    const controller = this.#controller;
    if (controller && !controller.signal.aborted) {
      this.#log.debug(`${this.#name}: abort in-flight request (${why})`);
      controller.abort(new DOMException(`${this.#name}: ${why}`, "AbortError"));
    }
  }

  /**
   * Set the scheduling timer (clearing the previous one first).
   * @param {number} delayMs
   */
  #schedule(delayMs) {
    this.#clearTimer();
    this.#nextAttemptAt = Date.now() + delayMs;
    this.#timer = this.#win.setTimeout(this.#onTimer, delayMs);
  }

  /**
   * Start a run unless one is in flight or something blocks it.
   * @param {string} trigger  for debug messages
   * @param {boolean} force   ignore "disabled" (explicit pollNow/refresh)
   * @returns {boolean} whether a run started
   */
  #runNow(trigger, force) {
    if (this.#controller) return false;
    const blocked = this.#blocked(force);
    if (blocked) {
      this.#setState(blocked);
      return false;
    }
    this.#clearTimer();
    this.#forceNext = false;
    const controller = new AbortController();
    this.#controller = controller;
    this.#runStartedAt = Date.now();
    // A retry after a failure asks for no hold (see the module's notes); a request that
    // may be held may take the whole wait before its answer even starts.
    const hold = this.#holdWaitMs > 0 && this.#failures === 0;
    this.#runHold = hold;
    const limit = this.#timeoutMs + (hold ? this.#holdWaitMs : 0);
    this.#timeoutTimer = this.#win.setTimeout(() => {
      this.#timeoutTimer = null;
      if (controller.signal.aborted) return;
      this.#log.debug(`${this.#name}: timed out after ${limit} ms`);
      const message = `${this.#name}: no answer within ${limit} ms`;
      controller.abort(new DOMException(message, "TimeoutError"));
    }, limit);
    this.#log.debug(`${this.#name}: request (${trigger}${this.#held ? ", held" : ""})`);
    // Waiting on a held request is the resting state of a held stream (no flicker).
    this.#setState(this.#held ? this.#restingState() : { state: "updating", reason: "request" });
    this.#emit();
    this.#execute(controller, hold);
    return true;
  }

  /**
   * Run the task with the controller's signal; settle whatever happens.
   * @param {AbortController} controller
   * @param {boolean} hold  whether this run may ask the server to hold it
   */
  async #execute(controller, hold) {
    let failed = false;
    let error = null;
    let result;
    try {
      result = await this.#task(controller.signal, { hold });
    } catch (caught) {
      failed = true;
      error = caught;
    }
    this.#settle(controller, failed, error, result);
  }

  /**
   * A run ended: count it, then schedule the next one or show why none is scheduled.
   * @param {AbortController} controller
   * @param {boolean} failed
   * @param {unknown} error
   * @param {unknown} result  what the task resolved to (held polls: `{held, status}`)
   */
  #settle(controller, failed, error, result) {
    if (this.#controller !== controller) return;
    this.#controller = null;
    this.#clearTimeoutTimer();
    const signal = controller.signal;
    const timedOut =
      (signal.aborted && signal.reason?.name === "TimeoutError") ||
      (failed && !signal.aborted && error?.name === "TimeoutError");
    // Aborted by stop/finish/hide/offline/pagehide/refresh: superseded, not a failure.
    const superseded = signal.aborted && !timedOut;
    const elapsed = Date.now() - this.#runStartedAt;

    let outcome;
    if (!failed) outcome = "success";
    else if (timedOut) outcome = "failure";
    else if (superseded || isAbortError(error)) outcome = "aborted";
    else outcome = "failure";

    if (outcome === "success") {
      this.#failures = 0;
      this.#retryAfterMs = 0;
      this.#lastSuccessAt = Date.now();
      // A retry asks for no hold, so its answer cannot say whether the server holds: a
      // stream that was held before the failures resumes its holds with the next run.
      this.#held = this.#runHold ? isHeld(result) : this.#heldBeforeFailure;
      this.#heldBeforeFailure = false;
      this.#log.debug(`${this.#name}: ok in ${elapsed} ms${this.#held ? ` (held, ${result?.status})` : ""}`);
    } else if (outcome === "failure") {
      this.#failures += 1;
      this.#heldBeforeFailure ||= this.#held;
      this.#held = false;
      const retryAfter = Number(error?.retryAfterMs);
      this.#retryAfterMs = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 0;
      this.#log.debug(
        `${this.#name}: failed (${this.#failures} in a row) after ${elapsed} ms:`,
        error,
      );
    } else {
      this.#log.debug(`${this.#name}: aborted after ${elapsed} ms`);
    }
    if (outcome !== "aborted" && !this.#enabled) this.#ranOnce = true;

    const blocked = this.#blocked(superseded && this.#forceNext);
    if (blocked) {
      this.#setState(blocked);
    } else if (superseded && this.#timer === null) {
      // Superseded (refresh) or resumed while this run settled: run again now.
      this.#runNow("resume", this.#forceNext);
    } else if (this.#timer === null) {
      const delay =
        outcome === "success"
          ? this.#successDelay(result)
          : nextDelayMs(this.#failures, this.#intervalMs, this.#retryAfterMs);
      if (delay > 0) {
        this.#schedule(delay);
        this.#log.debug(`${this.#name}: next request in ${delay} ms`);
        this.#setState(this.#restingState());
      } else {
        // A held 304 after the minimum gap: ask again now (a timer would add its own delay).
        this.#runNow("held", false);
      }
    } else {
      this.#setState(this.#restingState());
    }
    this.#emit();
  }

  /**
   * The gap after a successful run: the interval, unless the server held it (held polls).
   * @param {unknown} result  what the task resolved to
   * @returns {number} ms
   */
  #successDelay(result) {
    if (!this.#held) return this.#intervalMs;
    // A held 304: the wait ran out with nothing new, ask again at once. A 200: a change
    // came; more may follow at once (a burst), so pause before asking for the next one.
    const earliest = this.#runStartedAt + this.#minUpdateGapMs - Date.now();
    return result?.status === 304 ? Math.max(0, earliest) : this.#minUpdateGapMs;
  }

  /**
   * @param {{state: PollerStateName, reason: string}} next
   */
  #setState({ state, reason }) {
    this.#stateName = state;
    this.#reason = reason;
  }

  /** @returns {PollerState} */
  #snapshot() {
    return Object.freeze({
      state: this.#stateName,
      reason: this.#reason,
      failures: this.#failures,
      nextAttemptAt: this.#nextAttemptAt,
      lastSuccessAt: this.#lastSuccessAt,
      inFlight: this.#controller !== null,
      intervalMs: this.#intervalMs,
      retryAfterMs: this.#retryAfterMs,
      held: this.#held,
    });
  }

  /** Tell onStateChange about a change (nothing when nothing changed). */
  #emit() {
    const next = this.#snapshot();
    const previous = this.#emitted;
    if (previous && Object.keys(next).every((key) => previous[key] === next[key])) return;
    this.#emitted = next;
    if (!previous || previous.state !== next.state || previous.reason !== next.reason) {
      const from = previous ? `${previous.state}/${previous.reason}` : "(new)";
      this.#log.debug(`${this.#name}: ${from} -> ${next.state}/${next.reason}`);
    }
    if (!this.#onStateChange) return;
    try {
      this.#onStateChange(next);
    } catch (error) {
      // A broken listener must not break polling; still report it.
      if (typeof globalThis.reportError === "function") globalThis.reportError(error);
      else console.error(error);
    }
  }
}
