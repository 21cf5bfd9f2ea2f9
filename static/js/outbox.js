// The outbox: every frame a page sends is kept here until the server acks it, across reloads.
//
// Stored in IndexedDB (one database per user, so a shared phone never resends someone else's
// frames); when IndexedDB is unavailable (private mode in some browsers) it still works in memory
// for the life of the page.

const STORE = "items";

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export class Outbox {
  constructor(db) {
    this.db = db;
    this.items = new Map(); // id -> {id, frame, created}
  }

  /** Open (or create) the outbox of `name` and read what an earlier page left unsent. */
  static async open(name) {
    let db = null;
    try {
      const req = indexedDB.open(name, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "id" });
      db = await request(req);
    } catch (error) {
      console.warn("outbox: IndexedDB unavailable, keeping frames in memory only", error);
    }
    const outbox = new Outbox(db);
    if (db) {
      const rows = await request(db.transaction(STORE).objectStore(STORE).getAll());
      for (const row of rows) outbox.items.set(row.id, row);
    }
    return outbox;
  }

  /** Items oldest first. */
  list() {
    return [...this.items.values()].sort((a, b) => a.created - b.created);
  }

  async put(item) {
    this.items.set(item.id, item);
    if (this.db) await this._write((store) => store.put(item));
  }

  async delete(id) {
    if (!this.items.delete(id)) return false;
    if (this.db) await this._write((store) => store.delete(id));
    return true;
  }

  _write(change) {
    return new Promise((resolve, reject) => {
      const tx = this.db.transaction(STORE, "readwrite");
      change(tx.objectStore(STORE));
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
  }
}
