/**
 * The dashboard's type filter: a <select> whose options come from `GET /api/job-types`
 * at run time (plugins add types while the page is open), not from a list frozen at
 * build time. The view's own value stays selected whether or not the list knows it yet:
 * before the list arrives, a type from the URL is an option of its own ("Checksum"), as
 * is a combination ("scan, move"). Options are rebuilt only when the list of options
 * changes, so an unchanged list writes nothing.
 *
 * @module type_filter
 */

/** The first option's label: no type filter. */
const ALL_LABEL = "All types";

/**
 * The label of a type value: "scan" -> "Scan", "scan,move" -> "Scan, move".
 * @param {string} value
 * @returns {string}
 */
function labelOf(value) {
  const text = value.split(",").join(", ");
  return text ? text[0].toUpperCase() + text.slice(1) : ALL_LABEL;
}

/** The type <select> of the filter form. */
export class TypeFilter {
  /** @type {HTMLSelectElement} */
  #select;
  /** @type {string[]} the type names from the API, in its order */
  #types = [];
  /** The selected value: "" (all types), one type, or several comma-separated. */
  #value = "";

  /**
   * @param {HTMLSelectElement} select  the type <select> (its first option: all types)
   */
  constructor(select) {
    this.#select = select;
    this.#value = select.value;
  }

  /** @returns {string[]} the type names the filter offers (from the last list) */
  get types() {
    return [...this.#types];
  }

  /**
   * Offer these types (from {@link import("./job_types.js").typeNames}); keeps the
   * selected value.
   *
   * @param {string[]} names
   */
  setTypes(names) {
    this.#types = [...names];
    this.#render();
  }

  /**
   * Select a value (the view's `type`), adding an option for it when the list lacks it.
   *
   * @param {string} value  "" (all types), one type, or several comma-separated
   */
  setValue(value) {
    this.#value = value;
    this.#render();
  }

  /** Bring the options and the selection in line with the list and the value. */
  #render() {
    const values = ["", ...this.#types];
    if (!values.includes(this.#value)) values.push(this.#value);
    const select = this.#select;
    const same =
      select.options.length === values.length &&
      values.every((value, index) => {
        const option = select.options[index];
        return option.value === value && option.text === labelOf(value);
      });
    if (!same) {
      const doc = select.ownerDocument;
      const options = values.map((value) => {
        const option = doc.createElement("option");
        option.value = value;
        option.textContent = labelOf(value);
        return option;
      });
      select.replaceChildren(...options);
    }
    // .value is a property (no attribute, no DOM mutation); set only when it differs.
    if (select.value !== this.#value) select.value = this.#value;
  }
}
