/**
 * The header's connection indicator (`#connection-status`), driven by a Poller's state.
 *
 * Writes, on the element: `data-state` (live | updating | reconnecting | offline |
 * paused), `data-reason` (the poller's reason), `aria-busy="true"` only while updating,
 * a `title` sentence explaining the state; the state text in `[data-role=connection-text]`
 * and "updated 12 s ago" in `[data-role=connection-updated]` (empty before the first
 * success). While started, a one-second setTimeout chain keeps "updated N s ago" and the
 * offline countdown ("Offline — retrying in 40 s") current. Text only: textContent and
 * attributes, and nothing is written when it would not change.
 *
 * "Updating" is subtle: a poll that starts while the indicator says "Live" keeps the text
 * "Live" (only `data-state`, the dot's colour, and aria-busy change), so the header does
 * not flicker on every poll. After failures it says "Reconnecting…", before the first
 * success "Connecting…", after a pause "Updating…".
 *
 * The "updated" child ticks every second, so it is `aria-hidden` (the element is a polite
 * live region: screen readers would announce every tick); state changes are announced.
 *
 * @module connection_status
 */

import { formatAgo, formatDuration } from "./format.js";

/** How often the relative times are refreshed while started (ms). */
export const TICK_MS = 1000;

/**
 * Given ms, return "40 s" / "1 min 20 s" (rounded up to a whole second).
 * @param {number} ms
 * @returns {string}
 */
function waitText(ms) {
  return formatDuration(Math.ceil(ms / 1000)).replace(/ 00 s$/, "");
}

/**
 * Set an element's text only when it differs (no needless DOM mutation).
 * @param {Element} element
 * @param {string} text
 */
function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

/**
 * Set (or, for null, remove) an attribute only when it differs.
 * @param {Element} element
 * @param {string} name
 * @param {string | null} value
 */
function setAttr(element, name, value) {
  if (value === null) {
    if (element.hasAttribute(name)) element.removeAttribute(name);
  } else if (element.getAttribute(name) !== value) {
    element.setAttribute(name, value);
  }
}

/**
 * Renders a PollerState into the header's connection indicator.
 */
export class ConnectionStatus {
  #element;
  #textElement;
  #updatedElement;
  #now;
  #win;
  #doc;
  /** Between pagehide and pageshow. */
  #pageHidden = false;
  /** @type {import("./polling.js").PollerState | null} */
  #state = null;
  /** The last state other than "updating" (decides the text while updating). */
  #settled = null;
  #started = false;
  #timer = null;

  /**
   * @param {HTMLElement} element  `#connection-status` (children with data-role
   *   connection-text and connection-updated are created if missing)
   * @param {object} [options]
   * @param {() => number} [options.now=() => Date.now()]  the clock (epoch ms)
   * @param {Window} [options.windowRef=window]            timers, pagehide/pageshow
   *   (visibility comes from the element's document)
   */
  constructor(element, { now = () => Date.now(), windowRef = window } = {}) {
    if (!element) throw new TypeError("ConnectionStatus: element is required");
    this.#element = element;
    this.#now = now;
    this.#win = windowRef;
    this.#doc = element.ownerDocument;
    this.#textElement = this.#child("connection-text");
    this.#updatedElement = this.#child("connection-updated");
    setAttr(this.#updatedElement, "aria-hidden", "true");
  }

  /**
   * Show a poller state (from Poller's onStateChange or `poller.state`).
   * @param {import("./polling.js").PollerState} pollerState
   */
  update(pollerState) {
    if (!pollerState) return;
    this.#state = pollerState;
    if (pollerState.state !== "updating") this.#settled = pollerState.state;
    this.#render();
    if (this.#started) this.#tickLater(); // realign the ticks to the new lastSuccessAt
  }

  /** Start the one-second ticks and their visibility listeners (idempotent). */
  start() {
    if (this.#started) return;
    this.#started = true;
    this.#pageHidden = false;
    this.#doc.addEventListener("visibilitychange", this.#onVisibilityChange);
    this.#win.addEventListener("pagehide", this.#onPageHide);
    this.#win.addEventListener("pageshow", this.#onPageShow);
    this.#render();
    this.#tickLater();
  }

  /** Stop the ticks and remove the listeners (idempotent). */
  stop() {
    if (this.#started) {
      this.#doc.removeEventListener("visibilitychange", this.#onVisibilityChange);
      this.#win.removeEventListener("pagehide", this.#onPageHide);
      this.#win.removeEventListener("pageshow", this.#onPageShow);
    }
    this.#started = false;
    this.#clearTimer();
  }

  #tick = () => {
    this.#timer = null;
    this.#render();
    this.#tickLater();
  };

  #onVisibilityChange = () => {
    this.#render();
    this.#tickLater();
  };

  #onPageHide = () => {
    this.#pageHidden = true;
    this.#clearTimer();
  };

  #onPageShow = () => {
    this.#pageHidden = false;
    this.#render();
    this.#tickLater();
  };

  /**
   * Schedule the next tick at the next whole second since the last success (none while
   * stopped, hidden, or after pagehide).
   */
  #tickLater() {
    this.#clearTimer();
    if (!this.#started || this.#pageHidden || this.#doc.visibilityState === "hidden") return;
    const since = this.#state?.lastSuccessAt;
    let delay = TICK_MS;
    if (typeof since === "number") {
      const age = this.#now() - since;
      delay = age >= 0 ? TICK_MS - (age % TICK_MS) : TICK_MS;
    }
    this.#timer = this.#win.setTimeout(this.#tick, delay);
  }

  #clearTimer() {
    if (this.#timer !== null) this.#win.clearTimeout(this.#timer);
    this.#timer = null;
  }

  /**
   * Find the child with data-role=role, or create it.
   * @param {string} role
   * @returns {HTMLElement}
   */
  #child(role) {
    let child = this.#element.querySelector(`[data-role="${role}"]`);
    if (!child) {
      child = this.#element.ownerDocument.createElement("span");
      child.className = role;
      child.dataset.role = role;
      this.#element.append(child);
    }
    return child;
  }

  /** Write the state into the DOM. */
  #render() {
    const state = this.#state;
    if (!state) return;
    const now = this.#now();
    setAttr(this.#element, "data-state", state.state);
    setAttr(this.#element, "data-reason", state.reason ?? "");
    setAttr(this.#element, "aria-busy", state.state === "updating" ? "true" : null);
    // Who fetches for this tab: "leader" (for every tab of the view), "follower" (another
    // tab does), "own" (no sharing). For scripts and tests; the text does not change.
    setAttr(this.#element, "data-stream", state.role ?? "own");
    // Held polls: "true" while the server answers as soon as something changes.
    setAttr(this.#element, "data-held", state.held === true ? "true" : "false");
    setText(this.#textElement, this.#text(state, now));
    setAttr(this.#element, "title", this.#title(state, now));
    const updated =
      typeof state.lastSuccessAt === "number"
        ? `updated ${formatAgo(now - state.lastSuccessAt)}`
        : "";
    setText(this.#updatedElement, updated);
  }

  /**
   * The short text for a state.
   * @param {import("./polling.js").PollerState} state
   * @param {number} now
   * @returns {string}
   */
  #text(state, now) {
    switch (state.state) {
      case "live":
        return "Live";
      case "updating":
        if (this.#settled === "live") return "Live";
        if (this.#settled === "reconnecting" || this.#settled === "offline") {
          return "Reconnecting…";
        }
        if (typeof state.lastSuccessAt !== "number") return "Connecting…";
        return "Updating…";
      case "reconnecting":
        return "Reconnecting…";
      case "offline":
        if (state.reason === "browser-offline") return "Offline — browser is offline";
        if (typeof state.nextAttemptAt === "number") {
          const wait = state.nextAttemptAt - now;
          return wait > 0 ? `Offline — retrying in ${waitText(wait)}` : "Offline — retrying now";
        }
        return "Offline";
      case "paused":
        switch (state.reason) {
          case "hidden":
            return "Paused — tab hidden";
          case "disabled":
            return "Paused — polling disabled";
          case "finished":
            return "Paused — job finished";
          case "stopped":
            return "Paused — updates stopped";
          default:
            return "Paused";
        }
      default:
        return String(state.state);
    }
  }

  /**
   * A sentence explaining the state (the title attribute).
   * @param {import("./polling.js").PollerState} state
   * @param {number} now
   * @returns {string}
   */
  #title(state, now) {
    const every =
      typeof state.intervalMs === "number" ? ` every ${waitText(state.intervalMs)}` : "";
    const failures = state.failures === 1 ? "The last request" : `The last ${state.failures} requests`;
    switch (state.state) {
      case "live":
        // Held polls: the server answers as soon as something changes.
        if (state.held === true) return "Connected to the jobs API: changes show as soon as they happen.";
        return `Connected to the jobs API: this page checks for changes${every}.`;
      case "updating":
        return "Fetching the latest data from the jobs API.";
      case "reconnecting":
        return `${failures} to the jobs API failed; retrying${every}.`;
      case "offline":
        if (state.reason === "browser-offline") {
          return "The browser has no network connection; updates resume when it is back.";
        }
        if (typeof state.nextAttemptAt === "number") {
          const wait = state.nextAttemptAt - now;
          const when = wait > 0 ? `in ${waitText(wait)}` : "now";
          return `${failures} to the jobs API failed; waiting longer between tries (next try ${when}).`;
        }
        return `${failures} to the jobs API failed.`;
      case "paused":
        switch (state.reason) {
          case "hidden":
            return "Updates pause while this tab is hidden and resume when you come back to it.";
          case "disabled":
            return "Live updates are turned off for this page; reload it to see new data.";
          case "finished":
            return "The job has finished: this page no longer checks for changes.";
          default:
            return "Live updates are stopped.";
        }
      default:
        return "";
    }
  }
}
