// The duty map (templates/coordination/ops.html): every team, note, alert and activity live.
// The duty officer acknowledges and writes; a partner (police contact) gets the same picture
// without the controls (the server refuses their writes anyway).

import { renderChatList } from "../js/chat.js";
import { Live, fmt, serverData, setHtml } from "../js/live.js";
import {
  FeatureLayers,
  activityIcon,
  adultsText,
  ageMinutes,
  ageText,
  alertIcon,
  areaStyle,
  escapeHtml,
  noteIcon,
  onMap,
  opacityForAge,
  teamIcon,
  timeText,
} from "../js/maplayers.js";

const config = serverData("ops-config");
const S = config.strings;
const canAct = config.can_act;
const label = {
  category: Object.fromEntries(config.categories),
  severity: Object.fromEntries(config.severities),
  status: Object.fromEntries(config.statuses),
  activity: Object.fromEntries(config.activity_statuses),
};
const teamName = Object.fromEntries(config.teams.map((t) => [t.id, t.name]));
const areaName = Object.fromEntries(config.areas.map((a) => [a.id, a.name]));
const $ = (selector) => document.querySelector(selector);
const FEED_MAX = 200;

const feed = new Map(); // key -> {at, kind, ...}: what happened tonight, newest first when drawn
const chat = new Map(); // seq -> chat data
let map = null;
let layers = null;
let audio = null;

const live = new Live({
  path: config.ws_path,
  snapshot: config.snapshot,
  snapshotUrl: config.snapshot_url,
  outboxName: canAct ? `narvaro-ops-outbox-${config.user}` : null,
  handlers: {
    change: () => render(),
    event: (event) => onEvent(event),
    status: () => renderConnection(),
    outbox: () => render(),
    error: (item, frame) => toast(frame.message),
  },
});

// --- filters ----------------------------------------------------------------------------------------

function filters() {
  return {
    category: $("#filter-category").value,
    team: $("#filter-team").value ? Number($("#filter-team").value) : null,
    area: $("#filter-area").value ? Number($("#filter-area").value) : null,
  };
}

/** Does a feature or feed entry pass the filters? Alerts always do: nobody filters away a call for help. */
function passes(p, kind) {
  const f = filters();
  if (kind === "alert") return true;
  if (f.category && (kind !== "note" || p.category !== f.category)) return false;
  if (f.team !== null && p.team !== f.team) return false;
  if (f.area !== null) {
    if (kind === "note") return p.area === f.area;
    if (kind === "team" || kind === "shift" || kind === "status") return (p.areas ?? []).includes(f.area);
    if (kind === "area") return p.id === f.area;
    return false;
  }
  return true;
}

for (const id of ["#filter-category", "#filter-team", "#filter-area"]) $(id).addEventListener("change", () => render());

// --- events -----------------------------------------------------------------------------------------

function onEvent(event) {
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
    case "shift":
      feed.set(`seq.${event.seq}`, { at: event.at, kind: "shift", data: d });
      break;
    case "status":
      feed.set(`seq.${event.seq}`, { at: event.at, kind: "status", data: d });
      break;
    case "activity":
      feed.set(`seq.${event.seq}`, { at: event.at, kind: "activity", data: d });
      break;
    case "chat":
      if (!chat.has(event.seq)) {
        chat.set(event.seq, d);
        renderChat();
      }
      return;
    default:
      return;
  }
  while (feed.size > FEED_MAX) feed.delete(oldestFeedKey());
  renderFeed();
}

function oldestFeedKey() {
  let oldest = null;
  for (const [key, entry] of feed) if (!oldest || Date.parse(entry.at) < Date.parse(feed.get(oldest).at)) oldest = key;
  return oldest;
}

// --- rendering ----------------------------------------------------------------------------------------

function render() {
  renderAlerts();
  renderTeams();
  renderAreas();
  renderFeed();
  renderChat();
  renderConnection();
  if (layers) layers.sync(live.state);
}

function renderConnection() {
  const badge = $("#connection");
  badge.dataset.state = live.status === "signed_out" ? "offline" : live.status;
  badge.textContent = S[badge.dataset.state];
}

function queued(type, field, id) {
  return (live.outbox?.list() ?? []).some((item) => item.frame.type === type && item.frame[field] === id);
}

function renderAlerts() {
  const alerts = live.state.layer("alert").map((f) => f.properties);
  alerts.sort((a, b) =>
    a.status === b.status ? Date.parse(b.raised_at) - Date.parse(a.raised_at) : a.status === "raised" ? -1 : 1,
  );
  const raised = alerts.filter((a) => a.status === "raised").length;
  document.title = `${raised ? `(${raised}) ` : ""}${document.title.replace(/^\(\d+\) /, "")}`;
  setHtml(
    $("#alerts"),
    alerts
      .map((a) => {
        let action = "";
        if (canAct && a.status === "raised") {
          const busy = queued("ack_alert", "alert", a.id);
          action = `<button type="button" class="danger" data-ack-alert="${a.id}"${busy ? " disabled" : ""}>${escapeHtml(busy ? S.waiting : S.acknowledge)}</button>`;
        } else if (canAct) {
          const busy = queued("resolve_alert", "alert", a.id);
          action = `<button type="button" class="secondary" data-resolve-alert="${a.id}"${busy ? " disabled" : ""}>${escapeHtml(busy ? S.waiting : S.resolve)}</button>`;
        }
        const state =
          a.status === "raised" ? "" : ` <span class="tag tag-acknowledged">${escapeHtml(S.alert_acknowledged)}</span>`;
        return (
          `<article class="alert-card ${a.status}" data-id="alert.${a.id}" data-focus="alert.${a.id}">` +
          `<h2>${escapeHtml(fmt(S.alert_from, { team: a.team_name }))}${state}</h2>` +
          `<p>${escapeHtml(a.text)} <time>${timeText(a.raised_at)}</time></p>${action}</article>`
        );
      })
      .join(""),
  );
}

function renderTeams() {
  const teams = live.state
    .layer("team")
    .map((f) => f.properties)
    .filter((p) => passes(p, "team"));
  teams.sort((a, b) => a.team_name.localeCompare(b.team_name));
  setHtml(
    $("#teams"),
    teams.length
      ? teams
          .map((t) => {
            const areas = (t.areas ?? [])
              .map((id) => areaName[id])
              .filter(Boolean)
              .join(", ");
            const fade = opacityForAge(ageMinutes(t.recorded_at));
            return (
              `<li class="team-item status-${t.status}" data-id="team.${t.team}" data-focus="team.${t.team}" style="--fade:${fade}">` +
              `<strong>${escapeHtml(t.team_name)}</strong> <span class="tag status">${escapeHtml(label.status[t.status] ?? t.status)}</span>` +
              `<span class="muted"> · ${escapeHtml(ageText(t.recorded_at, S))}${areas ? ` · ${escapeHtml(areas)}` : ""}</span></li>`
            );
          })
          .join("")
      : `<li class="muted">${escapeHtml(S.no_teams)}</li>`,
  );
}

function renderAreas() {
  const areas = live.state
    .layer("area")
    .map((f) => f.properties)
    .filter((p) => passes(p, "area"));
  areas.sort((a, b) => b.priority - a.priority || a.name.localeCompare(b.name));
  setHtml(
    $("#areas"),
    areas
      .map(
        (a) =>
          `<li class="area-item ${a.adults ? "covered" : a.kind === "hotspot" ? "uncovered" : ""}" data-focus="area.${a.id}">` +
          `<strong>${escapeHtml(a.name)}</strong> <span class="muted">${escapeHtml(adultsText(a.adults, S))}</span></li>`,
      )
      .join(""),
  );
}

function feedEntryHtml(entry) {
  const at = `<time>${timeText(entry.at)}</time>`;
  if (entry.kind === "note") {
    const feature = live.state.features.get(entry.id);
    if (!feature) return "";
    const p = feature.properties;
    if (!passes(p, "note")) return "";
    const team = p.team ? teamName[p.team] : S.duty;
    const where = p.area ? ` · ${escapeHtml(areaName[p.area] ?? "")}` : "";
    const count = p.youth_count != null ? ` · ${escapeHtml(fmt(S.youth_count, { n: p.youth_count }))}` : "";
    let action = `<span class="tag tag-acknowledged">${escapeHtml(S.acknowledged)}</span>`;
    if (p.status !== "acknowledged") {
      const busy = queued("ack_note", "note", p.id);
      action = canAct
        ? `<button type="button" class="small" data-ack-note="${p.id}"${busy ? " disabled" : ""}>${escapeHtml(busy ? S.waiting : S.acknowledge)}</button>`
        : "";
    }
    return (
      `<li class="feed-note sev-${p.severity} ${p.status}" data-id="${entry.id}" data-focus="${entry.id}">` +
      `<strong>${escapeHtml(fmt(S.note_from, { category: label.category[p.category], team }))}</strong>` +
      ` <span class="muted">${escapeHtml(label.severity[p.severity])}${count}${where}</span> ${at}` +
      `${p.text ? `<p>${escapeHtml(p.text)}</p>` : ""}${action}</li>`
    );
  }
  const d = entry.data;
  if (!passes(d, entry.kind)) return "";
  let text = "";
  if (entry.kind === "alert") text = fmt(S.alert_from, { team: d.team_name });
  else if (entry.kind === "shift") text = fmt(d.active ? S.shift_started : S.shift_ended, { team: d.team_name });
  else if (entry.kind === "status")
    text = fmt(S.status_changed, { team: d.team_name, status: label.status[d.status] ?? d.status });
  else if (entry.kind === "activity")
    text = fmt(S.activity_changed, { title: d.title, status: label.activity[d.status] ?? d.status });
  return `<li class="feed-${entry.kind}">${escapeHtml(text)} ${at}</li>`;
}

function renderFeed() {
  const entries = [...feed.values()].sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  const html = entries.map(feedEntryHtml).join("");
  setHtml($("#feed"), html || `<li class="muted">${escapeHtml(S.no_feed)}</li>`);
}

function channelName(channel) {
  if (channel === "everyone") return S.everyone;
  const [kind, id] = channel.split(".");
  return kind === "team" ? teamName[id] : (areaName[id] ?? channel);
}

function renderChat() {
  const list = $("#chat-list");
  if (!list) return; // a partner's map has no chat
  renderChatList(list, {
    sent: chat.entries(),
    waiting: (live.outbox?.list() ?? []).filter((item) => item.frame.type === "chat"),
    channelName,
    waitingLabel: S.waiting,
  });
}

let toastTimer = null;
function toast(text) {
  const box = $("#toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (box.hidden = true), 6000);
}

// --- sound --------------------------------------------------------------------------------------------

function enableSound() {
  // Browsers only start audio after a click; the button (or any first click) is that click.
  if (!audio) audio = new AudioContext();
  audio.resume();
  const button = $("#sound");
  if (button) {
    button.setAttribute("aria-pressed", "true");
    button.textContent = S.sound_on;
  }
}

function beep() {
  if (!audio || audio.state !== "running") return;
  const start = audio.currentTime;
  for (let i = 0; i < 3; i += 1) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "square";
    osc.frequency.value = i % 2 ? 660 : 880;
    gain.gain.setValueAtTime(0.0001, start + i * 0.3);
    gain.gain.exponentialRampToValueAtTime(0.2, start + i * 0.3 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.3 + 0.25);
    osc.connect(gain).connect(audio.destination);
    osc.start(start + i * 0.3);
    osc.stop(start + i * 0.3 + 0.27);
  }
}

if (canAct) {
  $("#sound").addEventListener("click", enableSound);
  document.addEventListener("pointerdown", () => audio || enableSound(), { once: true });
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
  const item = event.target.closest("[data-focus]");
  if (item && map) focus(item.dataset.focus);
});

function focus(id) {
  const layer = layers?.layerFor(id);
  if (!layer) return;
  if (layer.getLatLng) {
    map.setView(layer.getLatLng(), Math.max(map.getZoom(), 16));
    layer.openPopup?.();
  } else if (layer.getBounds) {
    map.fitBounds(layer.getBounds(), { maxZoom: 16 });
  }
}

const chatForm = $("#chat-form");
if (chatForm) {
  chatForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const input = chatForm.elements.text;
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    live.send("chat", { channel: $("#chat-channel").value, text });
  });
}

// --- map --------------------------------------------------------------------------------------------

function popupText(p) {
  if (p.layer === "team") {
    return `<strong>${escapeHtml(p.team_name)}</strong><br>${escapeHtml(label.status[p.status] ?? "")} · ${escapeHtml(ageText(p.recorded_at, S))}`;
  }
  if (p.layer === "note") {
    const count = p.youth_count != null ? ` · ${escapeHtml(fmt(S.youth_count, { n: p.youth_count }))}` : "";
    return `<strong>${escapeHtml(label.category[p.category])}</strong> · ${escapeHtml(label.severity[p.severity])}${count}<br>${escapeHtml(p.text)}`;
  }
  if (p.layer === "alert")
    return `<strong>${escapeHtml(fmt(S.alert_from, { team: p.team_name }))}</strong><br>${escapeHtml(p.text)}`;
  if (p.layer === "activity") {
    return `<strong>${escapeHtml(p.title)}</strong><br>${escapeHtml(p.organization_name)} · ${timeText(p.starts_at)}–${timeText(p.ends_at)}`;
  }
  return `${escapeHtml(p.name)}: ${escapeHtml(adultsText(p.adults, S))}`;
}

function marker(icon) {
  return (feature) => {
    const [lon, lat] = feature.geometry.coordinates;
    const layer = L.marker([lat, lon], { icon: icon(feature.properties), keyboard: false });
    if (feature.properties.layer === "team") {
      layer.setOpacity(opacityForAge(ageMinutes(feature.properties.recorded_at)));
      // The team's name beside its marker: the officer reads the map without opening popups.
      layer.bindTooltip(escapeHtml(feature.properties.team_name), {
        permanent: true,
        direction: "right",
        offset: [16, 0],
        className: "team-label",
      });
    }
    if (feature.properties.layer === "alert") layer.setZIndexOffset(1000);
    return layer.bindPopup(popupText(feature.properties));
  };
}

function updateMarker(icon) {
  return (layer, feature) => {
    const [lon, lat] = feature.geometry.coordinates;
    layer.setLatLng([lat, lon]);
    layer.setIcon(icon(feature.properties));
    if (feature.properties.layer === "team") {
      layer.setOpacity(opacityForAge(ageMinutes(feature.properties.recorded_at)));
      layer.setTooltipContent(escapeHtml(feature.properties.team_name));
    }
    layer.setPopupContent(popupText(feature.properties));
  };
}

onMap("ops-map", (leafletMap) => {
  map = leafletMap;
  layers = new FeatureLayers(map, {
    draw: {
      area: (f) => L.geoJSON(f.geometry, { style: areaStyle(f.properties) }).bindTooltip(popupText(f.properties)),
      activity: marker(activityIcon),
      note: marker(noteIcon),
      team: marker(teamIcon),
      alert: marker(alertIcon),
    },
    update: {
      area: (layer, f) => {
        layer.setStyle(areaStyle(f.properties));
        layer.setTooltipContent(popupText(f.properties));
      },
      activity: updateMarker(activityIcon),
      note: updateMarker(noteIcon),
      team: updateMarker(teamIcon),
      alert: updateMarker(alertIcon),
    },
    visible: (f) => passes(f.properties, f.properties.layer),
  });
  layers.sync(live.state);
  const areas = layers.groups.area.getLayers();
  if (areas.length) map.fitBounds(L.featureGroup(areas).getBounds(), { maxZoom: 15 });
});

// Positions age while nobody moves: fade them and refresh "n min ago".
setInterval(() => {
  layers?.refresh("team");
  renderTeams();
}, 15000);

// --- start --------------------------------------------------------------------------------------------

for (const feature of live.state.features.values()) {
  const p = feature.properties;
  if (p.layer === "note") feed.set(feature.id, { at: p.created_at, kind: "note", id: feature.id });
  if (p.layer === "alert") feed.set(feature.id, { at: p.raised_at, kind: "alert", data: p });
  if (p.layer === "team") feed.set(`shift.${p.shift}`, { at: p.started_at, kind: "shift", data: p });
}
for (const event of config.chat) chat.set(event.seq, event.data);
render();
await live.start();
