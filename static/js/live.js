// The live connection every screen shares: snapshot + events by seq over one WebSocket.
//
// - The page starts from the snapshot the server embedded (json_script) and applies events whose
//   seq it has not applied yet, each by its kind's rule in `RULES` (the server declares the same
//   rules; apply_event in coordination/tests/test_snapshot_events.py applies them the same way).
// - After a reconnect it says hello with the newest seq it applied and the server replays what it
//   missed, or answers resync: then the snapshot is fetched again over HTTP.
// - Everything sent goes through the outbox first, stays there until the server acks it, and is
//   sent again (same client id) after a reconnect or a reload; the server answers a repeated id
//   with the original seq, so nothing is stored twice.

import { gettext } from "./i18n.js";
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

// --- the rule book ---------------------------------------------------------------------------

function point(props) {
  return props.lat == null ? null : { type: "Point", coordinates: [props.lon, props.lat] };
}

function upsert(features, fid, layer, props) {
  features.set(fid, { type: "Feature", id: fid, geometry: point(props), properties: { layer, ...props } });
}

/**
 * What each event kind does to the picture, declared once: the server declares the same rule for
 * each kind, and a test compares the two tables. `layer` names the feature layer (ids `<layer>.<id>`).
 */
export const RULES = {
  shift: { rule: "team" },
  status: { rule: "team" },
  positions: { rule: "positions" },
  note: { rule: "upsert", layer: "note" },
  note_ack: { rule: "upsert", layer: "note" },
  alert: { rule: "upsert", layer: "alert" },
  alert_ack: { rule: "upsert", layer: "alert" },
  alert_resolved: { rule: "upsert", layer: "alert" },
  alert_escalated: { rule: "upsert", layer: "alert" },
  activity: { rule: "activity" },
  activity_removed: { rule: "remove", layer: "activity" },
  coverage: { rule: "coverage" },
  chat: { rule: "history" },
  checkin: { rule: "history" },
  level_override: { rule: "history" },
  decision: { rule: "upsert", layer: "focus" },
  decision_withdrawn: { rule: "remove", layer: "focus" },
  report: { rule: "history" },
  report_changed: { rule: "history" },
  report_published: { rule: "history" },
};

/** A kind pages keep in a list of their own (chat, check-ins): handed on even when already applied. */
function isHistory(event) {
  return RULES[event.kind]?.rule === "history";
}

/** How each rule of RULES changes `features` (a Map keyed by feature id). */
const APPLY = {
  /** A team's shift: its data merged into team.<id>, keeping where it was last seen; ended: gone. */
  team(features, data) {
    const fid = `team.${data.team}`;
    if (!data.active) {
      features.delete(fid);
      return;
    }
    const old = features.get(fid)?.properties ?? {};
    const where = {};
    for (const key of ["lat", "lon", "accuracy", "recorded_at"]) where[key] = old[key] ?? null;
    upsert(features, fid, "team", { ...old, ...data, ...where });
  },
  positions(features, data) {
    // Field ticks carry only the teams near this device (docs/protocol.md): a `full` frame is the
    // whole scope, so a team not in it is no longer shown; `gone` names teams that left it.
    if (data.full || data.gone?.length) {
      const shown = data.full ? new Set(data.teams.map((team) => `team.${team.team}`)) : null;
      const gone = new Set((data.gone ?? []).map((id) => `team.${id}`));
      for (const [fid, feature] of features) {
        if (feature.properties.layer !== "team" || !(shown ? !shown.has(fid) : gone.has(fid))) continue;
        upsert(features, fid, "team", {
          ...feature.properties,
          lat: null,
          lon: null,
          accuracy: null,
          recorded_at: null,
        });
      }
    }
    for (const team of data.teams) {
      const fid = `team.${team.team}`;
      // A position of a shift that has ended (or of the team's earlier shift) is history.
      const current = features.get(fid);
      if (current && current.properties.shift === team.shift) {
        upsert(features, fid, "team", { ...current.properties, ...team });
      }
    }
  },
  upsert(features, data, { layer }) {
    upsert(features, `${layer}.${data.id}`, layer, data);
  },
  remove(features, data, { layer }) {
    features.delete(`${layer}.${data.id}`);
  },
  /** An activity is shown unless cancelled; the public page shows public ones only. */
  activity(features, data, _rule, { publicOnly }) {
    const fid = `activity.${data.id}`;
    if (data.status === "cancelled" || (publicOnly && data.visibility !== "public")) features.delete(fid);
    else upsert(features, fid, "activity", data);
  },
  coverage(features, data) {
    for (const area of data.areas) {
      const feature = features.get(`area.${area.area}`);
      if (feature) feature.properties.adults = area.adults;
    }
  },
  /** Chat is history, not part of the picture: pages keep their own list. */
  history() {},
};

/** Apply one event to features (a Map keyed by feature id) by its kind's rule in RULES. */
export function applyEvent(features, event, { publicOnly }) {
  const rule = RULES[event.kind];
  if (!rule) {
    // A newer server may know kinds this page does not; it must not break the page.
    console.warn("live: no rule for event kind", event.kind);
    return;
  }
  APPLY[rule.rule](features, event.data, rule, { publicOnly });
}

/**
 * A team's field members always hear their own team's shift start and end (the server's
 * access.may_see_event): it changes what they may see, so their picture is fetched again.
 */
export function changesWhatISee(event, myTeams) {
  return event.kind === "shift" && myTeams.has(event.data.team);
}

// --- audiences ---------------------------------------------------------------------------------

/**
 * The server's audiences (Event.audience, docs/protocol.md), parsed and labelled here only.
 * A chat channel on the wire is its audience without "chat.": "everyone", "team.3", "area.2".
 * `label(id, names)` names a chat channel for a reader; the other audiences are never shown.
 */
export const AUDIENCES = {
  public: {},
  staff: {},
  ops: {},
  field: {},
  "chat.everyone": { label: () => gettext("Alla i tjänst") },
  "chat.team.<id>": {
    // A member of one team reads "my team"; duty and members of several teams read its name.
    label: (id, { teams, myTeams = new Set() }) =>
      myTeams.has(id) && myTeams.size === 1 ? gettext("Mitt team") : teams[id],
  },
  "chat.area.<id>": { label: (id, { areas }) => areas[id] },
};

/**
 * Parse an audience string: {audience: its AUDIENCES key, kind: "team", id: 3} for "chat.team.3",
 * {audience: "ops", kind: "ops", id: null} for "ops"; null for anything the server never sends.
 */
export function parseAudience(audience) {
  for (const key of Object.keys(AUDIENCES)) {
    const kind = key.replace(/^chat\./, "").replace(/\.<id>$/, "");
    if (audience === key && !key.endsWith("<id>")) return { audience: key, kind, id: null };
    const prefix = key.slice(0, -"<id>".length);
    if (key.endsWith(".<id>") && audience.startsWith(prefix) && /^[0-9]+$/.test(audience.slice(prefix.length))) {
      return { audience: key, kind, id: Number(audience.slice(prefix.length)) };
    }
  }
  return null;
}

/** The chat channel of a kind ("everyone", "team", "area") and id, as the server names it. */
export function chatChannel(kind, id = null) {
  return id === null ? kind : `${kind}.${id}`;
}

/** A chat channel's name for the reader; `names` = {teams: {id: name}, areas: {id: name}, myTeams: Set}. */
export function channelLabel(channel, names) {
  const parsed = parseAudience(`chat.${channel}`);
  return (parsed && AUDIENCES[parsed.audience].label?.(parsed.id, names)) ?? channel;
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
 * One screen's connection. A field page names its teams (`myTeams`): when one of them starts or ends
 * a shift, what the page may see changes and the snapshot is fetched again. `handlers` (all optional):
 *   change(event|null)   the picture changed (null: reloaded as a whole)
 *   event(event)         an event frame after it was applied (chat always: pages dedupe it by seq)
 *   status(state)        "connecting" | "online" | "offline" | "signed_out"
 *   outbox(items)        the queue changed
 *   ack(item, seq)       the server stored `item`
 *   error(item, frame)   the server refused `item` (or a frame with no item); it left the queue
 */
export class Live {
  constructor({ path, snapshot, snapshotUrl, publicOnly = false, myTeams = [], outboxName = null, handlers = {} }) {
    this.path = path;
    this.myTeams = new Set(myTeams); // a field member's teams: their shift events reload the picture
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
        const applied = waiting.filter((event) => this.state.apply(event) || isHistory(event));
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
      if (fresh || isHistory(frame)) this._emit("event", frame);
      if (fresh && changesWhatISee(frame, this.myTeams)) this.reload();
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
