/**
 * Prefixed debug logging that costs nothing when off.
 *
 * Turned on by `data-debug="true"` on `<body>` or `?debug=1` in the URL (see page_config.js).
 *
 * @module debug_log
 */

/**
 * @typedef {object} Logger
 * @property {boolean} enabled                 whether messages are written
 * @property {(...args: unknown[]) => void} debug  console.debug(prefix, ...args) when enabled
 */

/**
 * Create a logger that writes to console.debug with a prefix, only when enabled.
 *
 * @param {boolean} enabled                 write messages or not
 * @param {string} [prefix="[jobdash]"]     first argument of every message
 * @returns {Logger}
 */
export function createLogger(enabled, prefix = "[jobdash]") {
  const on = enabled === true;
  return Object.freeze({
    enabled: on,
    debug: (...args) => {
      if (on) console.debug(prefix, ...args);
    },
  });
}
