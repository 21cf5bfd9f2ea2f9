// The duty map (templates/coordination/ops.html): every team, note, alert and activity live.
// The duty officer acknowledges and writes; a partner (police contact) gets the same picture
// without the controls (the server refuses their writes anyway). The parts live in ops/: the
// lists and the queue's feeders (panels.js), the map's text and framing (evening.js), the sound
// (sound.js), the shared data (context.js); the queue itself is queue.js, open to other modules.

import { ChatLog, renderChannels, sendChatFrom } from "../js/chat.js";
import { renderFocus } from "../js/focus.js";
import { gettext } from "../js/i18n.js";
import { Live, chatChannel } from "../js/live.js";
import { keepAgeing, liveLayers, onMap } from "../js/maplayers.js";
import { $, renderConnection, toast } from "../js/ui.js";
import { canAct, config, names, teamCode } from "./ops/context.js";
import { fitEvening, popupText, teamLabel } from "./ops/evening.js";
import {
  escalated,
  feedQueue,
  passes,
  renderAlerts,
  renderAreas,
  renderCounts,
  renderFeed,
  renderTeams,
} from "./ops/panels.js";
import { beep, startSound } from "./ops/sound.js";
import { onQueueChange } from "./queue.js";

const FEED_MAX = 200;
// How often an escalated, unacknowledged alarm sounds again.
const REPEAT_SOUND_MS = 5000;

const feed = new Map(); // key -> {at, kind, ...}: what happened tonight, newest first when drawn
const chat = new ChatLog($("#chat-list"), { history: config.chat, names });
let layers = null;

const live = new Live({
  path: config.ws_path,
  snapshot: config.snapshot,
  snapshotUrl: config.snapshot_url,
  outboxName: canAct ? `narvaro-ops-outbox-${config.user}` : null,
  handlers: {
    change: () => render(),
    event: (event) => onEvent(event),
    status: () => renderConnection(live.status),
    outbox: () => render(),
    error: (item, frame) => toast(frame.message, { ms: 6000 }),
  },
});

for (const id of ["#filter-category", "#filter-team", "#filter-area"]) $(id).addEventListener("change", () => render());

// --- events -----------------------------------------------------------------------------------------

function onEvent(event) {
  document.dispatchEvent(new CustomEvent("narvaro:event", { detail: event })); // e.g. js/reports.js
  const d = event.data;
  switch (event.kind) {
    case "note":
    case "note_ack":
      feed.set(`note.${d.id}`, { at: d.created_at, kind: "note", id: `note.${d.id}` });
      break;
    case "alert":
      feed.set(`alert.${d.id}`, { at: d.raised_at, kind: "alert", data: d });
      beep();
      break;
    case "alert_escalated":
      beep();
      return;
    case "shift":
      feed.set(`seq.${event.seq}`, { at: event.at, kind: "shift", data: d });
      break;
    case "status":
      feed.set(`seq.${event.seq}`, { at: event.at, kind: "status", data: d });
      break;
    case "activity":
    case "checkin":
      feed.set(`seq.${event.seq}`, { at: event.at, kind: event.kind, data: d });
      break;
    case "chat":
      if (chat.add(event)) renderChat();
      return;
    default:
      return;
  }
  while (feed.size > FEED_MAX) feed.delete(oldestFeedKey());
  renderFeed(live, feed);
}

function oldestFeedKey() {
  let oldest = null;
  for (const [key, entry] of feed) if (!oldest || Date.parse(entry.at) < Date.parse(feed.get(oldest).at)) oldest = key;
  return oldest;
}

// --- rendering ----------------------------------------------------------------------------------------

function render() {
  const raised = renderAlerts(live);
  feedQueue(live);
  renderCounts(raised);
  renderTeams(live);
  renderAreas(live);
  renderFeed(live, feed);
  renderFocus(live.state, "ops-map");
  renderChat();
  renderConnection(live.status);
  if (layers) layers.sync(live.state);
}

// Something new for the queue from any module: the count follows, and it may sound.
onQueueChange(({ added }) => {
  renderCounts(live.state.layer("alert").filter((f) => f.properties.status === "raised").length);
  if (added.some((item) => item.sound)) beep();
});

function renderChat() {
  const select = $("#chat-channel");
  if (!select) return; // a partner's map has no chat
  renderChannels(
    select,
    [
      [null, [chatChannel("everyone")]],
      [gettext("Team"), config.teams.map((t) => chatChannel("team", t.id))],
      [gettext("Område"), config.areas.map((a) => chatChannel("area", a.id))],
    ],
    names,
  );
  chat.render(live.outbox);
}

// --- sound --------------------------------------------------------------------------------------------

if (canAct) {
  startSound();
  // An escalated alarm sounds again and again on every duty screen until someone acknowledges it.
  setInterval(() => {
    if (escalated(live).length) beep();
  }, REPEAT_SOUND_MS);
}

// --- actions ----------------------------------------------------------------------------------------

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-ack-note], button[data-ack-alert], button[data-resolve-alert]");
  if (button) {
    button.disabled = true;
    if (button.dataset.ackNote) live.send("ack_note", { note: Number(button.dataset.ackNote) });
    else if (button.dataset.ackAlert) live.send("ack_alert", { alert: Number(button.dataset.ackAlert) });
    else live.send("resolve_alert", { alert: Number(button.dataset.resolveAlert) });
    return;
  }
  const view = event.target.closest(".ops-switch [data-view]");
  if (view) {
    // Events or areas in the same column, on a screen too narrow for both.
    $("#ops-panel").dataset.view = view.dataset.view;
    for (const b of document.querySelectorAll(".ops-switch [data-view]")) {
      b.setAttribute("aria-pressed", String(b === view));
    }
    return;
  }
  const item = event.target.closest("[data-focus]");
  if (item) layers?.focus(item.dataset.focus);
});

sendChatFrom(live);

// --- map --------------------------------------------------------------------------------------------

onMap("ops-map", (leafletMap) => {
  layers = liveLayers(leafletMap, {
    names: ["area", "activity", "note", "team", "alert"],
    popup: popupText,
    teamLabels: teamLabel,
    teamCode: (p) => teamCode(p.team),
    visible: (f) => passes(f.properties, f.properties.layer),
  });
  layers.sync(live.state);
  fitEvening(leafletMap, layers);
});

// Positions age while nobody moves: fade them and write "n min ago" again.
keepAgeing(
  () => layers,
  () => renderTeams(live),
);

// --- start --------------------------------------------------------------------------------------------

for (const feature of live.state.features.values()) {
  const p = feature.properties;
  if (p.layer === "note") feed.set(feature.id, { at: p.created_at, kind: "note", id: feature.id });
  if (p.layer === "alert") feed.set(feature.id, { at: p.raised_at, kind: "alert", data: p });
  if (p.layer === "team") feed.set(`shift.${p.shift}`, { at: p.started_at, kind: "shift", data: p });
}
render();
await live.start();
