/**
 * One API resource, revalidated with its ETag: the task a Poller runs for resources that
 * are shown as they are (`GET /api/workers`, `GET /api/job-types`). Each run sends the
 * last ETag; a 304 costs a bodiless answer and calls nothing (so it changes nothing on
 * the page); a 200 hands the new data to `onData`. Errors propagate to the Poller, which
 * backs off (the last data stays on the page). A feed made with `wait` asks the server to
 * hold its revalidation (held polls, api_client.js); every run resolves to `{status,
 * held}`, which tells the Poller when to ask again.
 *
 * @module json_feed
 */

import { getJson } from "./api_client.js";

/** A polled JSON resource. */
export class JsonFeed {
  #url;
  #onData;
  #wait;
  #etag = null;
  #data = null;

  /**
   * @param {string} url                       from apiUrl()
   * @param {(data: unknown) => void} onData   called with each 200's parsed body
   * @param {object} [options]
   * @param {number} [options.wait]            ask the server to hold an unchanged
   *   revalidation up to this many seconds (`Prefer: wait`; e.g. HOLD_WAIT_S)
   */
  constructor(url, onData, { wait } = {}) {
    this.#url = url;
    this.#onData = onData;
    this.#wait = wait;
  }

  /** @returns {unknown} the last data received (null before the first 200) */
  get data() {
    return this.#data;
  }

  /**
   * The Poller task: fetch with the last ETag; apply a 200. The answer goes to `publish`
   * first (a shared stream's followers, see shared_poller.js): the data now current.
   *
   * @param {AbortSignal} signal
   * @param {(answer: {etag: string | null, data: unknown}) => void} [publish]
   * @param {import("./polling.js").RunOptions} [run]  whether this run may be held
   * @returns {Promise<{status: 200 | 304, held: boolean}>}  the answer's status, and
   *   whether the server holds this feed's revalidations (for the Poller's schedule)
   */
  fetch = async (signal, publish, run) => {
    const wait = run?.hold === false ? undefined : this.#wait;
    const result = await getJson(this.#url, { signal, etag: this.#etag, wait });
    this.#etag = result.etag;
    if (result.status === 200) this.#data = result.data;
    publish?.({ etag: this.#etag, data: this.#data });
    if (result.status === 200) this.#onData(result.data);
    return { status: result.status, held: result.held };
  };

  /**
   * A shared stream's answer (another tab fetched it): applied like a 200 when it is not
   * the data held already (like a 304: nothing happens).
   *
   * @param {{etag: string | null, data: unknown}} answer
   * @returns {true}
   */
  receive = (answer) => {
    const same = this.#data !== null && answer.etag !== null && answer.etag === this.#etag;
    if (!same && answer.data !== null) {
      this.#etag = answer.etag;
      this.#data = answer.data;
      this.#onData(answer.data);
    }
    return true;
  };
}
