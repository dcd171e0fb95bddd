// Writes a running job's pace (job_pace.js) into its note element: the text, and
// `data-pace` ("time-left" | "stalled") for styling — a stall shows in warning colours,
// keyed on the attribute, never on the text. Hidden when there is nothing to say. Only
// what differs is written, so the once-a-second ticks cost nothing while nothing changes.

import { setAttr, setText } from "./dom_write.js";

/**
 * Create the note element (hidden until there is something to show).
 * @param {Document} doc
 * @returns {HTMLElement}
 */
export function createPaceNote(doc) {
  const note = doc.createElement("span");
  note.className = "job-pace";
  note.dataset.role = "pace";
  note.hidden = true;
  return note;
}

/**
 * Show a pace view in its note.
 * @param {HTMLElement} note
 * @param {import("./job_pace.js").PaceView} view
 */
export function showPace(note, view) {
  setText(note, view.text);
  setAttr(note, "data-pace", view.kind === "none" ? null : view.kind);
  setAttr(note, "hidden", view.kind === "none");
}
