// Write-if-different DOM helpers. Every write goes through these, so re-rendering a cell
// with the values it already shows makes no DOM mutation (no flicker, no lost text
// selection, nothing for a screen reader to re-announce). Data only ever reaches the page
// as text or attribute values, never as markup.

/**
 * Set an element's text, unless it already has exactly that text.
 *
 * @param {Element} element
 * @param {string} text
 * @returns {boolean} true if the DOM changed
 */
export function setText(element, text) {
  if (element.textContent === text) return false;
  element.textContent = text;
  return true;
}

/**
 * Set (or, for null/undefined/false, remove) an attribute, unless it already has that value.
 *
 * @param {Element} element
 * @param {string} name
 * @param {string|number|boolean|null|undefined} value  true sets an empty (boolean) attribute
 * @returns {boolean} true if the DOM changed
 */
export function setAttr(element, name, value) {
  if (value === null || value === undefined || value === false) {
    if (!element.hasAttribute(name)) return false;
    element.removeAttribute(name);
    return true;
  }
  const text = value === true ? "" : String(value);
  if (element.getAttribute(name) === text) return false;
  element.setAttribute(name, text);
  return true;
}

/**
 * Set (or, for null, remove) one inline style property through the CSSOM. The pages' CSP
 * has no 'unsafe-inline', which blocks style attribute strings but not CSSOM writes.
 *
 * @param {HTMLElement} element
 * @param {string} property  e.g. "width" or "--progress"
 * @param {string|null} value
 * @returns {boolean} true if the DOM changed
 */
export function setStyle(element, property, value) {
  const current = element.style.getPropertyValue(property);
  if (value === null) {
    if (!current) return false;
    element.style.removeProperty(property);
    return true;
  }
  if (current === value) return false;
  element.style.setProperty(property, value);
  return true;
}

/**
 * Create an element with a class and optional attributes and text.
 *
 * @param {Document} doc
 * @param {string} tag
 * @param {string} [className]
 * @param {Object<string, string>} [attrs]
 * @param {string} [text]
 * @returns {HTMLElement}
 */
export function make(doc, tag, className = "", attrs = {}, text = "") {
  const element = doc.createElement(tag);
  if (className) element.className = className;
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
  if (text) element.textContent = text;
  return element;
}
