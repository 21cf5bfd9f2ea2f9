// A modal sheet (the alarm): opens without putting a keyboard up, keeps Tab inside, closes with
// Escape, and gives focus back to what opened it.

const FOCUSABLE =
  "button:not([disabled]), input:not([disabled]), select, textarea, a[href], [tabindex]:not([tabindex='-1'])";

export class Sheet {
  /** `backdrop` is the hidden wrapper; its [role=dialog] child holds the content. */
  constructor(backdrop, { onClose = () => {} } = {}) {
    this.backdrop = backdrop;
    this.dialog = backdrop.querySelector("[role=dialog]");
    this.onClose = onClose;
    this.opener = null;
    backdrop.addEventListener("keydown", (event) => this._key(event));
    backdrop.addEventListener("click", (event) => {
      if (event.target === backdrop) this.close(); // a tap beside the sheet
    });
  }

  get open() {
    return !this.backdrop.hidden;
  }

  show() {
    this.opener = document.activeElement;
    this.backdrop.hidden = false;
    document.body.classList.add("sheet-open");
    // The title, not a text field: no keyboard pops up over the buttons in an emergency.
    this.dialog.querySelector("[data-initial-focus]")?.focus();
  }

  close() {
    if (!this.open) return;
    this.backdrop.hidden = true;
    document.body.classList.remove("sheet-open");
    this.onClose();
    if (this.opener && document.contains(this.opener)) this.opener.focus();
    this.opener = null;
  }

  _key(event) {
    if (event.key === "Escape") {
      event.preventDefault();
      this.close();
      return;
    }
    if (event.key !== "Tab") return;
    const items = [...this.dialog.querySelectorAll(FOCUSABLE)].filter((el) => el.offsetParent !== null);
    if (!items.length) return;
    const first = items[0];
    const last = items.at(-1);
    const inside = items.includes(document.activeElement);
    if (event.shiftKey && (document.activeElement === first || !inside)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !inside)) {
      event.preventDefault();
      first.focus();
    }
  }
}
