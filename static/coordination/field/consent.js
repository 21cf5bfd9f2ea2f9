// My shift, my consent: a shift is the team's, but whether this phone shares its position is the
// person's choice. Kept per shift on the phone; the server's rules are unchanged (a phone that has
// not said yes simply sends no positions).

const KEY = (user) => `narvaro-consent-${user}`;

export class Consent {
  constructor(user, storage = localStorage) {
    this.user = user;
    this.storage = storage;
    try {
      this.data = JSON.parse(storage.getItem(KEY(user)) ?? "{}");
    } catch {
      this.data = {};
    }
    this.data.shifts ??= {};
  }

  _save() {
    this.storage.setItem(KEY(this.user), JSON.stringify(this.data));
  }

  /** This person started the shift on this phone: its shift, once known, is shared. */
  startedHere() {
    this.data.startedHere = Date.now();
    this._save();
  }

  /** "yes" | "no" | "ask" for the shift with server id `shift` (null: a start still queued here). */
  choice(shift) {
    if (shift === null || shift === undefined) return this.data.startedHere ? "yes" : "ask";
    const known = this.data.shifts[shift];
    if (known) return known;
    // The first shift the server shows after a start on this phone is that start's.
    if (this.data.startedHere && Date.now() - this.data.startedHere < 12 * 3600 * 1000) {
      this.set(shift, "yes");
      return "yes";
    }
    return "ask";
  }

  set(shift, answer) {
    // Only the current shift matters; older answers are dropped so the key stays small.
    this.data.shifts = { [shift]: answer };
    delete this.data.startedHere;
    this._save();
  }

  forgetStart() {
    delete this.data.startedHere;
    this._save();
  }
}
