/**
 * One API resource, revalidated with its ETag: the task a Poller runs for resources that
 * are shown as they are (`GET /api/workers`, `GET /api/job-types`). Each run sends the
 * last ETag; a 304 costs a bodiless answer and calls nothing (so it changes nothing on
 * the page); a 200 hands the new data to `onData`. Errors propagate to the Poller, which
 * backs off (the last data stays on the page). Feeds are not held (held polls, see
 * dashboard.js): each run resolves to the answer's status, so the Poller keeps them at
 * their interval.
 *
 * @module json_feed
 */

import { getJson } from "./api_client.js";

/** A polled JSON resource. */
export class JsonFeed {
  #url;
  #onData;
  #etag = null;
  #data = null;

  /**
   * @param {string} url                       from apiUrl()
   * @param {(data: unknown) => void} onData   called with each 200's parsed body
   */
  constructor(url, onData) {
    this.#url = url;
    this.#onData = onData;
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
   * @returns {Promise<200 | 304>}  the answer's status
   */
  fetch = async (signal, publish) => {
    const result = await getJson(this.#url, { signal, etag: this.#etag });
    this.#etag = result.etag;
    if (result.status === 200) this.#data = result.data;
    publish?.({ etag: this.#etag, data: this.#data });
    if (result.status === 200) this.#onData(result.data);
    return result.status;
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
