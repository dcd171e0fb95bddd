/**
 * One request stream per browser for the tabs that show the same view.
 *
 * Tabs of one origin that poll the same stream (a `key`: the API URL of the view) elect
 * a leader with the Web Locks API (`navigator.locks.request(<key>)`): the tab holding the
 * lock runs an ordinary {@link Poller} and posts every answer, and every change of its
 * state, on a `BroadcastChannel`; the others (followers) render those answers as if they
 * had fetched them, and show the leader's state in their connection indicator.
 *
 * - Only a visible tab leads or waits for the lock. A tab that is hidden (or after
 *   `pagehide`) gives the lock up and waits for nothing, so the stream polls while at
 *   least one tab showing it is visible and stops when all are hidden. Hidden tabs still
 *   take in the answers a visible leader posts (nothing is fetched for them).
 * - Hand-off: when the leader goes (closed, navigated away, hidden), the lock passes to
 *   one waiting tab, which starts a Poller seeded with the old leader's last state: its
 *   first request is at the time the old leader's next one was due (never a burst), and
 *   failures, Retry-After and "updated N s ago" carry on.
 * - A tab that joins a stream led elsewhere says "hello"; the leader answers with its last
 *   answer and state, so the new tab shows data at once, without a request. A follower
 *   that cannot use an answer (`receive` returns false: a log that does not continue what
 *   it holds) fetches once on its own to catch up.
 * - A leader's stream that finishes (`finish()`: the job ended) tells the followers, who
 *   finish too.
 *
 * The interface is Poller's (start, stop, finish, pollNow, refresh, state) so a page uses
 * either; {@link createPoller} picks. Every Poller option (interval, timeouts, held polls'
 * `holdWaitMs` and `minUpdateGapMs`, ...) goes to the leader's Poller as given; followers
 * show its state, "live" through a held request included. The task gets two more
 * arguments: `publish(answer)`, which the leader calls with what its followers need
 * (structured-cloneable) before it applies the answer itself (so a follower gets the
 * answer before any "finished"), and the run's options (polling.js `RunOptions`: may
 * this request be held?).
 *
 * @module shared_poller
 */

import { Poller } from "./polling.js";

/** The BroadcastChannel every stream's messages travel on (tagged with their key). */
export const CHANNEL_NAME = "jobdash:streams";
/** Prefix of every stream's lock name. */
export const LOCK_PREFIX = "jobdash:stream:";
/** How long a follower's own catch-up request may take (ms). */
const CATCH_UP_TIMEOUT_MS = 10000;
/** A leader's state for these reasons is about its own tab, not about the stream. */
const LOCAL_REASONS = new Set(["hidden", "stopped"]);
/** The publish function of a run whose answers go to nobody. */
const NO_PUBLISH = () => {};
/** A run that asks for no hold (a follower's catch-up). */
const NO_HOLD = Object.freeze({ hold: false });

/**
 * @typedef {"leader" | "follower" | "own"} StreamRole
 *   leader: this tab polls for every tab of the stream; follower: another tab does;
 *   own: this tab polls for itself (no sharing, or not decided yet / hidden)
 */

/**
 * Whether a window can share streams: Web Locks and BroadcastChannel (both need a secure
 * context: https, or http on localhost).
 * @param {Window | typeof globalThis} [win=globalThis]
 * @returns {boolean}
 */
export function canShare(win = globalThis) {
  return typeof win?.BroadcastChannel === "function" && typeof win?.navigator?.locks?.request === "function";
}

/**
 * Given an error, report it without breaking the caller (a broken listener must not stop
 * a stream).
 * @param {unknown} error
 */
function report(error) {
  if (typeof globalThis.reportError === "function") globalThis.reportError(error);
  else console.error(error);
}

/**
 * A Poller shared by the tabs that show one stream.
 */
export class SharedPoller {
  #options;
  /** @type {() => string} */
  #keyOf;
  #task;
  #receive;
  #name;
  #log;
  #onStateChange;
  #doc;
  #win;

  #started = false;
  #finished = false;
  #pageHidden = false;
  /** @type {"idle" | "joining" | "leader" | "follower"} */
  #mode = "idle";
  /** The key of the stream this tab shows (also while hidden). */
  #key = "";
  /** The current attempt to lead: its AbortController and, once leading, its release. */
  #join = null;
  /** A leader of this join was heard (so a later lock grant is a hand-off). */
  #heardLeader = false;
  /** @type {Poller | null} the leader's poller */
  #poller = null;
  /** @type {BroadcastChannel | null} */
  #channel = null;
  /** @type {import("./polling.js").PollerState | null} the stream's last state, from any leader */
  #mirror = null;
  /** The leader's last published answer (for a newcomer's hello). */
  #lastAnswer = undefined;
  /** A follower's own catch-up run. */
  #catchUp = null;
  #emitted = null;

  /**
   * @param {object} options  Poller's options, plus:
   * @param {() => string} options.key   the stream's key (the API URL of the view); read
   *   at start() and at every refresh() (a new key joins another stream)
   * @param {(signal: AbortSignal, publish: (answer: unknown) => void, run: import("./polling.js").RunOptions) => Promise<unknown>} options.task
   * @param {(answer: unknown) => boolean | void} options.receive  a follower applies a
   *   published answer; false: it could not (it then fetches once on its own)
   */
  constructor(options) {
    const { key, task, receive, name = "poll", log, onStateChange, documentRef = document, windowRef = window } = options;
    if (typeof key !== "function") throw new TypeError("SharedPoller: key must be a function");
    if (typeof task !== "function") throw new TypeError("SharedPoller: task must be a function");
    if (typeof receive !== "function") throw new TypeError("SharedPoller: receive must be a function");
    this.#options = options;
    this.#keyOf = key;
    this.#task = task;
    this.#receive = receive;
    this.#name = String(name);
    this.#log = log && typeof log.debug === "function" ? log : { debug() {} };
    this.#onStateChange = typeof onStateChange === "function" ? onStateChange : null;
    this.#doc = documentRef;
    this.#win = windowRef;
  }

  /** @returns {StreamRole} */
  get role() {
    if (this.#mode === "leader") return "leader";
    if (this.#mode === "follower") return "follower";
    return "own";
  }

  /** @returns {import("./polling.js").PollerState & {role: StreamRole}} */
  get state() {
    return this.#snapshot();
  }

  /** Join the stream (idempotent while started). */
  start() {
    if (this.#started) return;
    this.#started = true;
    this.#finished = false;
    this.#pageHidden = false;
    this.#channel = new this.#win.BroadcastChannel(CHANNEL_NAME);
    this.#channel.addEventListener("message", this.#onMessage);
    this.#doc.addEventListener("visibilitychange", this.#onVisibilityChange);
    this.#win.addEventListener("pagehide", this.#onPageHide);
    this.#win.addEventListener("pageshow", this.#onPageShow);
    this.#enter();
  }

  /** Leave the stream (idempotent): give up the lock, abort what runs, stop listening. */
  stop() {
    this.#close();
    this.#emit();
  }

  /**
   * The stream ended for good (a terminal job): leave it; a leader tells its followers,
   * who finish too. Safe to call from inside the task.
   */
  finish() {
    if (this.#finished) return;
    const leading = this.#mode === "leader";
    this.#finished = true;
    if (leading) {
      this.#post("state", { ...this.#snapshot(), state: "paused", reason: "finished", inFlight: false, nextAttemptAt: null });
    }
    this.#close();
    this.#emit();
  }

  /**
   * Fetch now: the leader runs its poller now; a follower asks the leader to.
   * @returns {boolean} whether a run started here
   */
  pollNow() {
    if (this.#mode === "leader") return this.#poller.pollNow();
    if (this.#mode === "follower") this.#post("poll-now");
    return false;
  }

  /**
   * The view may have changed: a new key joins that stream (leading it, and fetching at
   * once, when nobody else does); the same key makes the leader fetch again at once.
   */
  refresh() {
    if (!this.#started || this.#finished) return;
    if (this.#streamKey() !== this.#key) this.#enter();
    else if (this.#mode === "leader") this.#poller.refresh();
  }

  // --- joining and leaving --------------------------------------------------------------

  /**
   * The stream's name: the view's key and the interval (tabs built with other intervals
   * keep their own pace).
   * @returns {string}
   */
  #streamKey() {
    return `${this.#keyOf()} every ${this.#options.intervalMs} ms`;
  }

  /** Whether this tab may lead (or wait to): started, visible, not finished. */
  #visible() {
    return this.#started && !this.#finished && !this.#pageHidden && this.#doc.visibilityState !== "hidden";
  }

  /** (Re)join the stream of the current key: lead it if nobody does, else follow. */
  #enter() {
    this.#leave();
    this.#key = this.#streamKey();
    if (!this.#visible()) {
      this.#emit();
      return;
    }
    const join = { abort: new AbortController(), release: null };
    const locks = this.#win.navigator.locks;
    const lockName = LOCK_PREFIX + this.#key;
    this.#join = join;
    this.#mode = "joining";
    this.#heardLeader = false;
    locks
      .request(lockName, { ifAvailable: true }, (lock) => (lock ? this.#lead(join, false) : false))
      .then((held) => {
        if (held !== false || this.#join !== join) return undefined;
        this.#mode = "follower";
        this.#log.debug(`${this.#name}: following another tab's requests`);
        this.#post("hello");
        this.#emit();
        // Queue for the lock: granted when the leader goes (a hand-off).
        return locks.request(lockName, { signal: join.abort.signal }, () => this.#lead(join, true));
      })
      .catch((error) => {
        if (error?.name !== "AbortError") report(error);
      });
    this.#emit();
  }

  /**
   * The lock is ours: run the poller until released.
   * @param {{abort: AbortController, release: (() => void) | null}} join
   * @param {boolean} queued  granted after waiting (else at once)
   * @returns {Promise<true> | true}  holds the lock until it settles
   */
  #lead(join, queued) {
    if (this.#join !== join || join.abort.signal.aborted) return true;
    return new Promise((resolve) => {
      join.release = () => resolve(true);
      // A hand-off carries on from the old leader's schedule; taking a free lock (or our
      // own, released a moment ago) starts with a request, as a tab coming back does.
      const handOff = queued && this.#heardLeader;
      const mirror = this.#mirror;
      const seed = mirror ? { ...mirror, nextAttemptAt: handOff ? mirror.nextAttemptAt : null } : undefined;
      const poller = new Poller({
        ...this.#options,
        name: this.#name,
        log: this.#log,
        task: (signal, run) => this.#task(signal, (answer) => this.#publish(poller, answer), run),
        onStateChange: (state) => this.#onLeaderState(poller, state),
        documentRef: this.#doc,
        windowRef: this.#win,
      });
      this.#mode = "leader";
      this.#poller = poller;
      this.#log.debug(`${this.#name}: leading${handOff ? " (taking over)" : ""}`);
      poller.start(seed);
      this.#emit();
    });
  }

  /** Give up the lock (or the wait for it) and whatever runs; the tab shows the stream still. */
  #leave() {
    const join = this.#join;
    this.#join = null;
    if (join) {
      join.abort.abort();
      join.release?.();
    }
    const poller = this.#poller;
    this.#poller = null;
    poller?.stop();
    this.#catchUp?.abort();
    this.#catchUp = null;
    this.#mode = "idle";
  }

  /** stop()/finish(): leave, close the channel, remove the listeners. */
  #close() {
    if (!this.#started) return;
    this.#started = false;
    this.#leave();
    this.#channel?.close();
    this.#channel = null;
    this.#doc.removeEventListener("visibilitychange", this.#onVisibilityChange);
    this.#win.removeEventListener("pagehide", this.#onPageHide);
    this.#win.removeEventListener("pageshow", this.#onPageShow);
  }

  // --- messages ---------------------------------------------------------------------------

  /**
   * Post a message of this stream.
   * @param {string} type
   * @param {unknown} [body]
   */
  #post(type, body) {
    try {
      this.#channel?.postMessage({ key: this.#key, type, body });
    } catch (error) {
      report(error); // an answer that cannot be cloned is a programming error
    }
  }

  #publish(poller, answer) {
    if (poller !== this.#poller) return; // a run of a leadership given up since
    this.#lastAnswer = answer;
    this.#post("answer", answer);
  }

  #onLeaderState(poller, state) {
    if (poller !== this.#poller) return;
    if (!LOCAL_REASONS.has(state.reason)) {
      this.#mirror = state;
      this.#post("state", state);
    }
    this.#emit();
  }

  #onMessage = (event) => {
    const message = event.data;
    if (!message || typeof message !== "object" || message.key !== this.#key) return;
    const leading = this.#mode === "leader";
    switch (message.type) {
      case "hello":
        if (leading) {
          if (this.#lastAnswer !== undefined) this.#post("answer", this.#lastAnswer);
          if (this.#mirror) this.#post("state", this.#mirror);
        }
        break;
      case "poll-now":
        if (leading) this.#poller.pollNow();
        break;
      case "answer":
        if (!leading && this.#mode !== "joining") {
          this.#heardLeader = true;
          this.#take(message.body);
        }
        break;
      case "state":
        if (!leading && message.body && typeof message.body === "object") {
          this.#heardLeader = true;
          this.#mirror = Object.freeze({ ...message.body });
          if (message.body.reason === "finished") this.finish();
          else this.#emit();
        }
        break;
      default:
        break;
    }
  };

  /**
   * Apply an answer another tab fetched; catch up on our own when it cannot be used
   * (only while following: a hidden tab fetches nothing).
   * @param {unknown} answer
   */
  #take(answer) {
    let used = true;
    try {
      used = this.#receive(answer) !== false;
    } catch (error) {
      report(error);
    }
    if (!used && this.#mode === "follower") this.#runCatchUp();
  }

  /** One request of our own (at most one at a time), its answer kept to ourselves. */
  #runCatchUp() {
    if (this.#catchUp) return;
    const controller = new AbortController();
    this.#catchUp = controller;
    this.#log.debug(`${this.#name}: catching up on our own`);
    // A catch-up wants the data now: it asks for no hold.
    const timer = this.#win.setTimeout(
      () => controller.abort(new DOMException(`${this.#name}: catch-up timed out`, "TimeoutError")),
      CATCH_UP_TIMEOUT_MS,
    );
    Promise.resolve()
      .then(() => this.#task(controller.signal, NO_PUBLISH, NO_HOLD))
      .catch((error) => this.#log.debug(`${this.#name}: catch-up failed:`, error))
      .finally(() => {
        this.#win.clearTimeout(timer);
        if (this.#catchUp === controller) this.#catchUp = null;
      });
  }

  // --- visibility -------------------------------------------------------------------------

  #onVisibilityChange = () => {
    if (this.#doc.visibilityState === "hidden") {
      this.#leave();
      this.#emit();
    } else if (this.#join === null && this.#visible()) {
      this.#enter();
    }
  };

  #onPageHide = () => {
    this.#pageHidden = true;
    this.#leave();
    this.#emit();
  };

  #onPageShow = () => {
    if (!this.#pageHidden) return;
    this.#pageHidden = false;
    if (this.#visible()) this.#enter();
  };

  // --- state ------------------------------------------------------------------------------

  /** @returns {import("./polling.js").PollerState & {role: StreamRole}} */
  #snapshot() {
    const role = this.role;
    if (this.#mode === "leader") return Object.freeze({ ...this.#poller.state, role });
    const base = this.#mirror ?? {
      failures: 0,
      lastSuccessAt: null,
      intervalMs: this.#options.intervalMs,
      retryAfterMs: 0,
      held: false,
    };
    const quiet = { ...base, inFlight: false, nextAttemptAt: null, role };
    if (this.#finished) return Object.freeze({ ...quiet, state: "paused", reason: "finished" });
    if (!this.#started) return Object.freeze({ ...quiet, state: "paused", reason: "stopped" });
    if (!this.#visible()) return Object.freeze({ ...quiet, state: "paused", reason: "hidden" });
    if (this.#mode === "follower" && this.#mirror) return Object.freeze({ ...this.#mirror, role });
    return Object.freeze({ ...base, inFlight: false, nextAttemptAt: null, role, state: "updating", reason: "request" });
  }

  /** Tell onStateChange about a change (nothing when nothing changed). */
  #emit() {
    const next = this.#snapshot();
    const previous = this.#emitted;
    if (previous && Object.keys(next).every((key) => previous[key] === next[key])) return;
    this.#emitted = next;
    if (!this.#onStateChange) return;
    try {
      this.#onStateChange(next);
    } catch (error) {
      report(error);
    }
  }
}

/**
 * A poller for a page's stream: a {@link SharedPoller} when sharing is asked for and the
 * browser can (and polling is enabled: a page that loads once has nothing to share),
 * else a plain {@link Poller} whose task publishes to nobody.
 *
 * @param {object} options  SharedPoller's options, plus `shared` (boolean)
 * @returns {Poller | SharedPoller}
 */
export function createPoller({ shared = false, ...options }) {
  const win = options.windowRef ?? globalThis;
  if (shared && options.enabled !== false && canShare(win)) return new SharedPoller(options);
  const { task, key: _key, receive: _receive, ...rest } = options;
  return new Poller({ ...rest, task: (signal, run) => task(signal, NO_PUBLISH, run) });
}
