// The duty map (templates/coordination/ops.html): every team, note, alert and activity live.
// The duty officer acknowledges and writes; a partner (police contact) gets the same picture
// without the controls (the server refuses their writes anyway).

import { ChatLog, renderChannels, sendChatFrom } from "../js/chat.js";
import { focusFirst, renderFocus } from "../js/focus.js";
import { fmt, gettext } from "../js/i18n.js";
import { Live, chatChannel } from "../js/live.js";
import {
  adultsText,
  ageMinutes,
  ageText,
  escapeHtml,
  keepAgeing,
  liveLayers,
  onMap,
  opacityForAge,
  timeText,
} from "../js/maplayers.js";
import { $, renderConnection, setHtml, staffConfig, toast } from "../js/ui.js";

const { config, label, names } = staffConfig("ops-config");
const canAct = config.can_act;
const FEED_MAX = 200;
// How often an escalated, unacknowledged alarm sounds again.
const REPEAT_SOUND_MS = 5000;

const feed = new Map(); // key -> {at, kind, ...}: what happened tonight, newest first when drawn
const chat = new ChatLog($("#chat-list"), { history: config.chat, names });
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
    status: () => renderConnection(live.status),
    outbox: () => render(),
    error: (item, frame) => toast(frame.message, { ms: 6000 }),
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
  renderConnection(live.status);
  renderFocus(live.state, "ops-map");
  if (layers) layers.sync(live.state);
}

function queued(type, field, id) {
  return (live.outbox?.list() ?? []).some((item) => item.frame.type === type && item.frame[field] === id);
}

/** Who an alarm is from: the team, or the person when they are in none. */
function alarmFrom(a) {
  return a.team_name || a.raised_by || "";
}

/** Raised alarms nobody acknowledged in time: level 1 on every duty screen, level 2 also the partner's. */
function escalated() {
  const least = canAct ? 1 : 2;
  return live.state
    .layer("alert")
    .map((f) => f.properties)
    .filter((a) => a.status === "raised" && a.level >= least);
}

function renderAlarmBanner() {
  const waiting = escalated();
  const banner = $("#alarm-banner");
  banner.hidden = waiting.length === 0;
  if (!waiting.length) return;
  const oldest = waiting.reduce((a, b) => (Date.parse(a.raised_at) <= Date.parse(b.raised_at) ? a : b));
  const text = fmt(gettext("%(n)s larm utan kvittens – äldsta från %(from)s sedan %(time)s"), {
    n: waiting.length,
    from: alarmFrom(oldest),
    time: timeText(oldest.raised_at),
  });
  if (banner.dataset.text !== text) {
    banner.dataset.text = text; // rewritten only when it changed: a live region reads every change aloud
    banner.textContent = text;
  }
}

function renderAlerts() {
  // A resolved alarm stays in the picture for its raiser's phone; the duty panel is for open ones.
  const alerts = live.state
    .layer("alert")
    .map((f) => f.properties)
    .filter((a) => a.status !== "resolved");
  alerts.sort((a, b) =>
    a.status === b.status ? Date.parse(b.raised_at) - Date.parse(a.raised_at) : a.status === "raised" ? -1 : 1,
  );
  renderAlarmBanner();
  const raised = alerts.filter((a) => a.status === "raised").length;
  document.title = `${raised ? `(${raised}) ` : ""}${document.title.replace(/^\(\d+\) /, "")}`;
  setHtml(
    $("#alerts"),
    alerts
      .map((a) => {
        let action = "";
        if (canAct && a.status === "raised") {
          const busy = queued("ack_alert", "alert", a.id);
          action = `<button type="button" class="danger" data-ack-alert="${a.id}"${busy ? " disabled" : ""}>${escapeHtml(busy ? gettext("Väntar") : gettext("Kvittera"))}</button>`;
        } else if (canAct) {
          const busy = queued("resolve_alert", "alert", a.id);
          action = `<button type="button" class="secondary" data-resolve-alert="${a.id}"${busy ? " disabled" : ""}>${escapeHtml(busy ? gettext("Väntar") : gettext("Avsluta"))}</button>`;
        }
        let state = "";
        if (a.status !== "raised") {
          const by = a.acknowledged_by ? fmt(gettext("Kvitterat av %(name)s"), { name: a.acknowledged_by }) : "";
          state = ` <span class="tag tag-acknowledged">${escapeHtml(by || gettext("Kvitterat"))}</span>`;
        } else if (a.level >= 2) {
          state = ` <span class="tag tag-escalated">${escapeHtml(gettext("Eskalerat: andra kontakten larmad"))}</span>`;
        } else if (a.level === 1) {
          state = ` <span class="tag tag-escalated">${escapeHtml(gettext("Eskalerat: ingen har kvitterat"))}</span>`;
        }
        const who = [a.raised_by, a.source === "tracker" ? gettext("SOS från spårningsappen") : ""].filter(Boolean);
        const level = a.status === "raised" && a.level > 0 ? " escalated" : "";
        return (
          `<article class="alert-card ${a.status}${level}" data-id="alert.${a.id}" data-focus="alert.${a.id}">` +
          `<h2>${escapeHtml(fmt(gettext("Larm från %(team)s"), { team: alarmFrom(a) }))}${state}</h2>` +
          `<p>${escapeHtml(a.text)} <span class="muted">${escapeHtml(who.join(" · "))}</span> ` +
          `<time>${timeText(a.raised_at)}</time></p>${action}</article>`
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
              .map((id) => names.areas[id])
              .filter(Boolean)
              .join(", ");
            const fade = opacityForAge(ageMinutes(t.recorded_at));
            return (
              `<li class="team-item status-${t.status}" data-id="team.${t.team}" data-focus="team.${t.team}" style="--fade:${fade}">` +
              `<strong>${escapeHtml(t.team_name)}</strong> <span class="tag status">${escapeHtml(label.status[t.status] ?? t.status)}</span>` +
              `<span class="muted"> · ${escapeHtml(ageText(t.recorded_at))}${areas ? ` · ${escapeHtml(areas)}` : ""}</span></li>`
            );
          })
          .join("")
      : `<li class="muted">${escapeHtml(gettext("Inga team ute just nu."))}</li>`,
  );
}

function renderAreas() {
  const areas = live.state
    .layer("area")
    .map((f) => f.properties)
    .filter((p) => passes(p, "area"));
  areas.sort((a, b) => focusFirst(live.state, a, b) || b.priority - a.priority || a.name.localeCompare(b.name));
  setHtml(
    $("#areas"),
    areas
      .map(
        (a) =>
          `<li class="area-item ${a.adults ? "covered" : a.kind === "hotspot" ? "uncovered" : ""}" data-focus="area.${a.id}">` +
          `<strong>${escapeHtml(a.name)}</strong> <span class="muted">${escapeHtml(adultsText(a.adults))}</span></li>`,
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
    const team = p.team ? names.teams[p.team] : gettext("jouren");
    const where = p.area ? ` · ${escapeHtml(names.areas[p.area] ?? "")}` : "";
    const count = p.youth_count != null ? ` · ${escapeHtml(fmt(gettext("ca %(n)s unga"), { n: p.youth_count }))}` : "";
    let action = `<span class="tag tag-acknowledged">${escapeHtml(gettext("Kvitterad"))}</span>`;
    if (p.status !== "acknowledged") {
      const busy = queued("ack_note", "note", p.id);
      action = canAct
        ? `<button type="button" class="small" data-ack-note="${p.id}"${busy ? " disabled" : ""}>${escapeHtml(busy ? gettext("Väntar") : gettext("Kvittera"))}</button>`
        : "";
    }
    return (
      `<li class="feed-note sev-${p.severity} ${p.status}" data-id="${entry.id}" data-focus="${entry.id}">` +
      `<strong>${escapeHtml(fmt(gettext("%(category)s – %(team)s"), { category: label.category[p.category], team }))}</strong>` +
      ` <span class="muted">${escapeHtml(label.severity[p.severity])}${count}${where}</span> ${at}` +
      `${p.text ? `<p>${escapeHtml(p.text)}</p>` : ""}${action}</li>`
    );
  }
  const d = entry.data;
  if (!passes(d, entry.kind)) return "";
  let text = "";
  if (entry.kind === "alert") text = fmt(gettext("Larm från %(team)s"), { team: alarmFrom(d) });
  else if (entry.kind === "shift")
    text = fmt(d.active ? gettext("%(team)s startade passet") : gettext("%(team)s avslutade passet"), {
      team: d.team_name,
    });
  else if (entry.kind === "status")
    text = fmt(gettext("%(team)s: %(status)s"), { team: d.team_name, status: label.status[d.status] ?? d.status });
  else if (entry.kind === "checkin")
    text = fmt(gettext("%(team)s är vid %(place)s"), { team: d.team_name, place: d.place_name });
  else if (entry.kind === "activity")
    text = fmt(gettext("Aktivitet: %(title)s (%(status)s)"), {
      title: d.title,
      status: label.activity[d.status] ?? d.status,
    });
  return `<li class="feed-${entry.kind}">${escapeHtml(text)} ${at}</li>`;
}

function renderFeed() {
  const entries = [...feed.values()].sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  const html = entries.map(feedEntryHtml).join("");
  setHtml($("#feed"), html || `<li class="muted">${escapeHtml(gettext("Inget har hänt än i kväll."))}</li>`);
}

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

function enableSound() {
  // Browsers only start audio after a click; the button (or any first click) is that click.
  if (!audio) audio = new AudioContext();
  audio.resume();
  const button = $("#sound");
  if (button) {
    button.setAttribute("aria-pressed", "true");
    button.textContent = gettext("Ljud på");
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
  // An escalated alarm sounds again and again on every duty screen until someone acknowledges it.
  setInterval(() => {
    if (escalated().length) beep();
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
  const item = event.target.closest("[data-focus]");
  if (item) layers?.focus(item.dataset.focus);
});

sendChatFrom(live);

// --- map --------------------------------------------------------------------------------------------

function popupText(p) {
  if (p.layer === "team") {
    return `<strong>${escapeHtml(p.team_name)}</strong><br>${escapeHtml(label.status[p.status] ?? "")} · ${escapeHtml(ageText(p.recorded_at))}`;
  }
  if (p.layer === "note") {
    const count = p.youth_count != null ? ` · ${escapeHtml(fmt(gettext("ca %(n)s unga"), { n: p.youth_count }))}` : "";
    return `<strong>${escapeHtml(label.category[p.category])}</strong> · ${escapeHtml(label.severity[p.severity])}${count}<br>${escapeHtml(p.text)}`;
  }
  if (p.layer === "alert")
    return `<strong>${escapeHtml(fmt(gettext("Larm från %(team)s"), { team: alarmFrom(p) }))}</strong><br>${escapeHtml(p.text)}`;
  return `<strong>${escapeHtml(p.title)}</strong><br>${escapeHtml(p.organization_name)} · ${timeText(p.starts_at)}–${timeText(p.ends_at)}`;
}

onMap("ops-map", (leafletMap) => {
  layers = liveLayers(leafletMap, {
    names: ["area", "activity", "note", "team", "alert"],
    popup: popupText,
    teamLabels: true,
    visible: (f) => passes(f.properties, f.properties.layer),
  });
  layers.sync(live.state);
  layers.fitAreas();
});

// Positions age while nobody moves: fade them and write "n min ago" again.
keepAgeing(() => layers, renderTeams);

// --- start --------------------------------------------------------------------------------------------

for (const feature of live.state.features.values()) {
  const p = feature.properties;
  if (p.layer === "note") feed.set(feature.id, { at: p.created_at, kind: "note", id: feature.id });
  if (p.layer === "alert") feed.set(feature.id, { at: p.raised_at, kind: "alert", data: p });
  if (p.layer === "team") feed.set(`shift.${p.shift}`, { at: p.started_at, kind: "shift", data: p });
}
render();
await live.start();
