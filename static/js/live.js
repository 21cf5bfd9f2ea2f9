// The live connection every screen shares: snapshot + events by seq over one WebSocket.
//
// - The page starts from the snapshot the server embedded (json_script) and applies events whose
//   seq it has not applied yet; `applyEvent` is the rule book, the same as apply_event in
//   coordination/tests/test_snapshot_events.py.
// - After a reconnect it says hello with the newest seq it applied and the server replays what it
//   missed, or answers resync: then the snapshot is fetched again over HTTP.
// - Everything sent goes through the outbox first, stays there until the server acks it, and is
//   sent again (same client id) after a reconnect or a reload; the server answers a repeated id
//   with the original seq, so nothing is stored twice.

import { Outbox } from "./outbox.js";

// Errors after which a frame stays queued and is sent again; any other error means "never stored".
const RETRY_CODES = new Set(["not_saved", "rate_limited"]);
// Backoff between reconnects: full jitter over an exponential ceiling, so a restarted server is
// not hit by every phone in town at the same instant.
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30000;
// The server allows 20 frames a second with bursts; a long queue is drained well below that.
const SEND_EVERY_MS = 100;
// A phone that was offline for an hour must not spend minutes replaying its track.
const MAX_QUEUED_POSITIONS = 120;
// Seqs remembered for "already applied"; events arrive at most slightly out of order.
const APPLIED_MEMORY = 5000;
// A frame unanswered this long on an open socket is sent again (same id: the server dedupes).
const RESEND_AFTER_MS = 30000;

/** A random UUID (v4), also outside secure contexts where crypto.randomUUID is missing. */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Replace an element's HTML only when it changed, so a button is not swapped under a finger. */
const shownHtml = new WeakMap();
export function setHtml(element, html) {
  if (shownHtml.get(element) === html) return false;
  shownHtml.set(element, html);
  element.innerHTML = html;
  return true;
}

/** Read server data a template embedded with json_script. */
export function serverData(id) {
  return JSON.parse(document.getElementById(id).textContent);
}

/** Format a Swedish-source string with %(name)s placeholders. */
export function fmt(text, values) {
  return text.replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? ""));
}

function point(props) {
  return props.lat == null ? null : { type: "Point", coordinates: [props.lon, props.lat] };
}

/** Apply one event to features (a Map keyed by feature id), as the server's rule book does. */
export function applyEvent(features, event, { publicOnly }) {
  const { kind, data } = event;
  const upsert = (fid, layer, props) => {
    features.set(fid, { type: "Feature", id: fid, geometry: point(props), properties: { layer, ...props } });
  };
  if (kind === "shift" || kind === "status") {
    const fid = `team.${data.team}`;
    if (!data.active) {
      features.delete(fid);
      return;
    }
    const old = features.get(fid)?.properties ?? {};
    const where = {};
    for (const key of ["lat", "lon", "accuracy", "recorded_at"]) where[key] = old[key] ?? null;
    upsert(fid, "team", { ...old, ...data, ...where });
  } else if (kind === "positions") {
    for (const team of data.teams) {
      const fid = `team.${team.team}`;
      // A position of a shift that has ended (or of the team's earlier shift) is history.
      const current = features.get(fid);
      if (current && current.properties.shift === team.shift) upsert(fid, "team", { ...current.properties, ...team });
    }
  } else if (kind === "note" || kind === "note_ack") {
    upsert(`note.${data.id}`, "note", data);
  } else if (kind === "alert" || kind === "alert_ack") {
    upsert(`alert.${data.id}`, "alert", data);
  } else if (kind === "alert_resolved") {
    features.delete(`alert.${data.id}`);
  } else if (kind === "activity") {
    const fid = `activity.${data.id}`;
    if (data.status === "cancelled" || (publicOnly && data.visibility !== "public")) features.delete(fid);
    else upsert(fid, "activity", data);
  } else if (kind === "activity_removed") {
    features.delete(`activity.${data.id}`);
  } else if (kind === "coverage") {
    for (const area of data.areas) {
      const feature = features.get(`area.${area.area}`);
      if (feature) feature.properties.adults = area.adults;
    }
  } else if (kind !== "chat") {
    // A newer server may know kinds this page does not; it must not break the page.
    console.warn("live: no rule for event kind", kind);
  }
}

/** The live picture: features by id and the seqs applied to them. */
export class LiveState {
  constructor(snapshot, { publicOnly = false } = {}) {
    this.publicOnly = publicOnly;
    this.load(snapshot);
  }

  load(snapshot) {
    this.features = new Map(snapshot.features.map((f) => [f.id, f]));
    this.base = snapshot.seq; // everything up to here is in the snapshot
    this.seq = snapshot.seq; // the newest seq applied: what hello reports
    this.applied = new Set();
  }

  /** Apply `event` unless it is already part of the picture; return whether it was applied. */
  apply(event) {
    if (event.seq <= this.base || this.applied.has(event.seq)) return false;
    applyEvent(this.features, event, { publicOnly: this.publicOnly });
    this.applied.add(event.seq);
    this.seq = Math.max(this.seq, event.seq);
    if (this.applied.size > APPLIED_MEMORY) {
      // Forget the oldest: anything that far behind the newest seq counts as applied.
      const floor = this.seq - APPLIED_MEMORY;
      for (const seq of this.applied) if (seq <= floor) this.applied.delete(seq);
      this.base = Math.max(this.base, floor);
    }
    return true;
  }

  layer(name) {
    return [...this.features.values()].filter((f) => f.properties.layer === name);
  }
}

/**
 * One screen's connection. `handlers` (all optional):
 *   change(event|null)   the picture changed (null: reloaded as a whole)
 *   event(event)         an event frame after it was applied (chat always: pages dedupe it by seq)
 *   status(state)        "connecting" | "online" | "offline" | "signed_out"
 *   outbox(items)        the queue changed
 *   ack(item, seq)       the server stored `item`
 *   error(item, frame)   the server refused `item` (or a frame with no item); it left the queue
 */
export class Live {
  constructor({ path, snapshot, snapshotUrl, publicOnly = false, outboxName = null, handlers = {} }) {
    this.path = path;
    this.snapshotUrl = snapshotUrl;
    this.state = new LiveState(snapshot, { publicOnly });
    this.handlers = handlers;
    this.outboxName = outboxName;
    this.outbox = null;
    this.socket = null;
    this.ready = false; // hello sent on the current socket
    this.attempt = 0;
    this.inFlight = new Map(); // id -> when it was sent on the current socket, until answered
    this.retryAt = new Map(); // id -> time before which a refused-for-now frame waits
    this.loading = null; // a snapshot reload in progress; events wait in `buffer`
    this.buffer = [];
    this.statusValue = "connecting";
    this.timer = null;
  }

  async start() {
    if (this.outboxName) {
      this.outbox = await Outbox.open(this.outboxName);
      this._emit("outbox", this.outbox.list());
    }
    window.addEventListener("online", () => this.reconnectNow());
    window.addEventListener("offline", () => this._dropSocket());
    setInterval(() => this._pump(), SEND_EVERY_MS);
    this._connect();
  }

  get status() {
    return this.statusValue;
  }

  /** Queue a frame and send it when the socket is ready; returns the outbox item. */
  async send(type, fields = {}) {
    if (!this.outbox) this.outbox = new Outbox(null);
    const item = { id: uuid(), frame: { type, ...fields }, created: Date.now() };
    item.frame.id = item.id;
    if (type === "position") await this._trimPositions();
    await this.outbox.put(item);
    this._emit("outbox", this.outbox.list());
    this._pump();
    return item;
  }

  /** Fetch the snapshot again (resync, or what this person may see changed). */
  async reload() {
    if (this.loading) return this.loading;
    this.loading = (async () => {
      try {
        const response = await fetch(this.snapshotUrl, { credentials: "same-origin", cache: "no-store" });
        if (!response.ok) throw new Error(`snapshot ${response.status}`);
        this.state.load(await response.json());
        const waiting = this.buffer.sort((a, b) => a.seq - b.seq);
        this.buffer = [];
        const applied = waiting.filter((event) => this.state.apply(event) || event.kind === "chat");
        this._emit("change", null);
        for (const event of applied) this._emit("event", event);
      } finally {
        this.loading = null;
      }
    })();
    return this.loading.catch((error) => {
      console.warn("live: snapshot reload failed", error);
      this.buffer = []; // the replay after the new hello sends these again
      // A picture we cannot refresh is stale: start over with a fresh socket and hello.
      this._dropSocket();
    });
  }

  reconnectNow() {
    this.attempt = 0;
    if (!this.socket) {
      clearTimeout(this.timer);
      this._connect();
    }
  }

  // --- socket --------------------------------------------------------------------------------

  _connect() {
    this.timer = null;
    if (navigator.onLine === false) {
      this._setStatus("offline");
      return; // the "online" event reconnects
    }
    this._setStatus("connecting");
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}${this.path}`);
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.attempt = 0;
      this.inFlight.clear();
      socket.send(JSON.stringify({ type: "hello", last_seq: this.state.seq }));
      this.ready = true;
      this._setStatus("online");
      this._pump();
    };
    socket.onmessage = (message) => {
      if (this.socket === socket) this._receive(JSON.parse(message.data));
    };
    socket.onclose = (close) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.ready = false;
      if (close.code === 4401 || close.code === 4403) {
        // Signed out (or the role was taken away): retrying fast would not help.
        this._setStatus("signed_out");
        this._schedule(BACKOFF_MAX_MS);
        return;
      }
      this._setStatus(navigator.onLine === false ? "offline" : "connecting");
      this._schedule();
    };
  }

  _schedule(delay = null) {
    if (this.timer) return;
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
    this.attempt += 1;
    const wait = delay ?? Math.max(250, Math.random() * ceiling);
    this.timer = setTimeout(() => this._connect(), wait);
  }

  _dropSocket() {
    const socket = this.socket;
    this.socket = null;
    this.ready = false;
    if (socket) socket.close();
    this._setStatus(navigator.onLine === false ? "offline" : "connecting");
    if (navigator.onLine !== false) this._schedule();
  }

  _setStatus(state) {
    if (state === this.statusValue) return;
    this.statusValue = state;
    this._emit("status", state);
  }

  _receive(frame) {
    if (frame.type === "event") {
      if (this.loading) {
        this.buffer.push(frame);
        return;
      }
      const fresh = this.state.apply(frame);
      if (fresh) this._emit("change", frame);
      // Chat is not part of the snapshot: pages keep their own list (deduplicated by seq).
      if (fresh || frame.kind === "chat") this._emit("event", frame);
    } else if (frame.type === "ack") {
      this._answered(frame.id, (item) => this._emit("ack", item, frame.seq));
    } else if (frame.type === "error") {
      this._error(frame);
    } else if (frame.type === "resync") {
      this.reload();
    }
  }

  async _answered(id, then) {
    this.inFlight.delete(id);
    this.retryAt.delete(id);
    const item = this.outbox?.items.get(id);
    if (!item) return;
    await this.outbox.delete(id);
    then(item);
    this._emit("outbox", this.outbox.list());
  }

  _error(frame) {
    const item = frame.id ? this.outbox?.items.get(frame.id) : null;
    if (item && RETRY_CODES.has(frame.code)) {
      // Not stored, but worth another try: keep it queued and send it again a little later.
      this.inFlight.delete(item.id);
      this.retryAt.set(item.id, Date.now() + 2000 + Math.random() * 3000);
      return;
    }
    if (item) {
      this._answered(item.id, (gone) => this._emit("error", gone, frame));
    } else {
      this._emit("error", null, frame);
    }
  }

  /** Send the next queued frame if the socket is ready; interactive frames before positions. */
  _pump() {
    if (!this.ready || !this.outbox || this.socket?.readyState !== WebSocket.OPEN) return;
    const now = Date.now();
    const waiting = this.outbox
      .list()
      .filter(
        (item) =>
          (this.inFlight.get(item.id) ?? -Infinity) < now - RESEND_AFTER_MS && (this.retryAt.get(item.id) ?? 0) <= now,
      );
    const next = waiting.find((item) => item.frame.type !== "position") ?? waiting[0];
    if (!next) return;
    this.inFlight.set(next.id, now);
    this.socket.send(JSON.stringify(next.frame));
  }

  async _trimPositions() {
    const positions = this.outbox.list().filter((item) => item.frame.type === "position");
    const stale = Date.now() - 11 * 3600 * 1000; // the server refuses positions older than 12 h
    const extra = positions.length - MAX_QUEUED_POSITIONS + 1;
    for (const [index, item] of positions.entries()) {
      if (index < extra || item.created < stale) await this.outbox.delete(item.id);
    }
  }

  _emit(name, ...args) {
    const handler = this.handlers[name];
    if (handler) {
      try {
        handler(...args);
      } catch (error) {
        console.error(`live: ${name} handler failed`, error);
      }
    }
  }
}
