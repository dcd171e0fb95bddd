/**
 * "Notify me when this job ends": a toggle button on the job page and the one system
 * notification it leads to.
 *
 * - Permission is asked for on click, never on load. Granted: the toggle is on. Denied
 *   (now or before): the toggle says so and stays off. A browser without notifications:
 *   the toggle is disabled and says why.
 * - `jobEnded(job)` shows one notification (title: job type and short id; body: the
 *   outcome and duration), once, if the toggle is on. Its `tag` is the job id, so tabs of
 *   the same job that all wanted it replace each other's notification: one on screen.
 * - State on the button: `aria-pressed`, and `data-notify` = off | on | denied |
 *   unsupported (tests and styles key on it, never on the text).
 *
 * @module notify_toggle
 */

import { setAttr, setText } from "./dom_write.js";
import { formatDuration } from "./format.js";
import { statusText } from "./job_status.js";

const NOTES = Object.freeze({
  off: "",
  on: "You will get a notification when it ends.",
  denied: "Notifications are blocked for this site: allow them in the browser's site settings.",
  unsupported: "This browser cannot show notifications.",
});

/**
 * Given an ended job (a JobDetailItem), return its notification's title and body.
 *
 *     endNotice({job_type: "scan", id_short: "c02d6a3c", status: "completed", duration_seconds: 185})
 *       // {title: "scan c02d6a3c", body: "Completed after 3 min 05 s"}
 *
 * @param {{job_type?: string, id_short?: string, id?: string, status: string,
 *   duration_seconds?: number|null, error_message?: string|null}} job
 * @returns {{title: string, body: string}}
 */
export function endNotice(job) {
  const id = String(job.id_short ?? String(job.id ?? "").slice(0, 8));
  const title = `${job.job_type ?? "job"} ${id}`;
  const took = Number.isFinite(job.duration_seconds) ? ` after ${formatDuration(job.duration_seconds)}` : "";
  const error = job.status === "failed" && job.error_message ? `: ${job.error_message}` : "";
  return { title, body: `${statusText(job.status)}${took}${error}` };
}

/** The toggle and its notification. */
export class NotifyToggle {
  #button;
  #note;
  #api;
  /** @type {"off" | "on" | "denied" | "unsupported"} */
  #state = "off";
  #sent = false;
  #asking = false;
  #onChange;

  /**
   * @param {HTMLButtonElement} button
   * @param {HTMLElement} note  says what the state means
   * @param {object} [options]
   * @param {typeof Notification | undefined} [options.api=globalThis.Notification]
   * @param {(on: boolean) => void} [options.onChange]  called when the toggle turns on or off
   */
  constructor(button, note, { api = globalThis.Notification, onChange } = {}) {
    this.#button = button;
    this.#note = note;
    this.#api = typeof api === "function" ? api : null;
    this.#onChange = typeof onChange === "function" ? onChange : () => {};
  }

  /** @returns {boolean} the user asked to be notified (and may be) */
  get on() {
    return this.#state === "on";
  }

  /** Show the toggle and listen to clicks (idempotent). */
  start() {
    this.#button.removeEventListener("click", this.#onClick);
    this.#button.addEventListener("click", this.#onClick);
    if (!this.#api) this.#state = "unsupported";
    else if (this.#api.permission === "denied") this.#state = "denied";
    this.#render();
  }

  /** Hide the toggle for good (the job ended, or is gone). */
  stop() {
    this.#button.removeEventListener("click", this.#onClick);
    setAttr(this.#button.parentElement, "hidden", true);
  }

  /**
   * The job ended: notify once, if asked to.
   * @param {Object} job  the ended JobDetailItem
   * @returns {boolean} whether a notification was shown
   */
  jobEnded(job) {
    if (this.#state !== "on" || this.#sent) return false;
    this.#sent = true;
    const { title, body } = endNotice(job);
    try {
      new this.#api(title, { body, tag: `jobdash-${job.id}` });
    } catch (error) {
      // Some browsers allow notifications only from a service worker: say so, once.
      this.#state = "unsupported";
      this.#render();
      if (typeof globalThis.reportError === "function") globalThis.reportError(error);
      return false;
    }
    return true;
  }

  #onClick = async () => {
    if (this.#asking || this.#state === "unsupported") return;
    if (this.#state === "on") {
      this.#set("off");
      return;
    }
    let permission = this.#api.permission;
    if (permission === "default") {
      this.#asking = true;
      setAttr(this.#button, "aria-busy", "true");
      try {
        permission = await this.#api.requestPermission();
      } catch {
        permission = "denied";
      } finally {
        this.#asking = false;
        setAttr(this.#button, "aria-busy", null);
      }
    }
    this.#set(permission === "granted" ? "on" : "denied");
  };

  #set(state) {
    const was = this.on;
    this.#state = state;
    this.#render();
    if (this.on !== was) this.#onChange(this.on);
  }

  #render() {
    setAttr(this.#button.parentElement, "hidden", false);
    setAttr(this.#button, "data-notify", this.#state);
    setAttr(this.#button, "aria-pressed", this.#state === "on" ? "true" : "false");
    setAttr(this.#button, "disabled", this.#state === "unsupported");
    setText(this.#note, NOTES[this.#state]);
  }
}
