// The field page (templates/coordination/field.html): one hand, a cold phone, a flaky network.
// Everything the person sends goes through the shared outbox (static/js/live.js), so it survives
// a dead zone or a reload and is delivered once.

import { ChatLog, renderChannels, sendChatFrom } from "../js/chat.js";
import { renderFocus } from "../js/focus.js";
import { fmt, gettext } from "../js/i18n.js";
import { Live, chatChannel } from "../js/live.js";
import { escapeHtml, keepAgeing, liveLayers, noteIcon, onMap, timeText } from "../js/maplayers.js";
import { $, renderConnection, setHtml, staffConfig, toast } from "../js/ui.js";
import { Consent } from "./field/consent.js";
import { Sheet } from "./field/sheet.js";
import { pageLine, sharingLine } from "./field/state.js";

const { config, label, names } = staffConfig("field-config");
const myTeams = names.myTeams;

// Positions: often enough for the duty map, rarely enough for the battery and the server.
const POSITION_EVERY_MS = 10000;
const POSITION_MOVED_M = 30;
const POSITION_MIN_MS = 3000;
const PAUSE_KEY = "narvaro-field-paused";
const ACK_KEY = `narvaro-field-acked-${config.user}`;
// The honest lines are redrawn this often, so "not sent since" appears without another event.
const STATE_EVERY_MS = 5000;
const CONNECTING_QUIET_MS = STATE_EVERY_MS; // the next renderStatus tick shows a line still connecting

const chat = new ChatLog($("#chat-list"), { history: config.chat, names });
let unread = 0;
let layers = null;
let map = null;
let myMarker = null;
let pickMarker = null;
let picked = null; // {lat, lon} chosen on the map for the next note
let lastFix = null; // {lat, lon, accuracy, at}
let lastSent = null;
let watchId = null;
let geoError = null;
let paused = localStorage.getItem(PAUSE_KEY) === "1";
let framed = false; // the map has been fitted to where things are
let alarmFix = null; // {lat, lon}: a one-off position for an alarm raised while not sharing
// When the server last acknowledged one of this phone's positions (ms): "Jouren ser dig – senast …".
let lastAck = Number(localStorage.getItem(ACK_KEY)) || null;
// When the picture on screen was last known to be current: the page's render, then each live moment.
let dataAt = config.rendered_at ? Date.parse(config.rendered_at) : Date.now();
let endingHere = false; // this phone asked to end the shift: its end is no news to show
const consent = new Consent(config.user);
// A resolved alarm of mine stays on the shift tab this long, then only in the evening's list.
const RESOLVED_ALARM_SHOWN_MS = 60 * 60 * 1000;

const live = new Live({
  path: config.ws_path,
  snapshot: config.snapshot,
  snapshotUrl: config.snapshot_url,
  myTeams,
  outboxName: `narvaro-outbox-${config.user}`,
  handlers: {
    change: () => render(),
    event: (event) => {
      if (event.kind === "chat") addChat(event);
      if (event.kind === "shift" && myTeams.has(event.data.team)) teamShiftChanged(event.data);
    },
    status: () => {
      // Leaving "online": what is on screen was current until this moment.
      if (live.status !== "online" && liveSince !== null) dataAt = Date.now();
      liveSince = live.status === "online" ? Date.now() : null;
      render();
    },
    outbox: () => render(),
    ack: (item) => {
      if (item.frame.type === "position") {
        lastAck = Date.now();
        localStorage.setItem(ACK_KEY, String(lastAck));
        renderSharing(onShift());
      }
      if (["note", "alert", "chat"].includes(item.frame.type))
        toast(item.frame.type === "alert" ? gettext("Larmet är skickat till jouren.") : gettext("Skickat."));
    },
    error: (item, frame) => {
      if (item?.frame.type === "position") return; // a refused position is not worth an interruption
      toast(frame.message, { error: true });
      if (item?.frame.type === "note") restoreNote(item.frame);
    },
  },
});

let liveSince = null; // when the socket last came online (ms), null while it is not

// --- shift state -----------------------------------------------------------------------------------

function serverShift() {
  for (const id of myTeams) {
    const team = live.state.features.get(`team.${id}`);
    if (team) return team.properties;
  }
  return null;
}

function pending(type) {
  return (live.outbox?.list() ?? []).filter((item) => item.frame.type === type);
}

/** On shift as far as this phone knows: the server's picture, overridden by a queued start or end. */
function onShift() {
  const queued = (live.outbox?.list() ?? []).filter(
    (i) => i.frame.type === "shift_start" || i.frame.type === "shift_end",
  );
  if (queued.length) return queued.at(-1).frame.type === "shift_start";
  return serverShift() !== null;
}

function currentStatus() {
  const queued = pending("status");
  if (queued.length) return queued.at(-1).frame.status;
  return serverShift()?.status ?? null;
}

/** This person's answer for the shift this phone is on: "yes" | "no" | "ask". */
function sharingChoice() {
  if (!onShift()) return "ask";
  return consent.choice(serverShift()?.shift ?? null);
}

/** A teammate started or ended the team's shift: ask before sharing, say when it ended. */
function teamShiftChanged(data) {
  if (data.active) {
    $("#shift-ended").hidden = true;
    if (sharingChoice() === "ask" && document.querySelector(".tab:not([hidden])")?.dataset.tab !== "shift") {
      toast(gettext("Teamet har börjat passet – dela din position?"));
    }
    return;
  }
  if (endingHere) {
    endingHere = false;
    return;
  }
  lastSent = null;
  const when = timeText(data.ended_at ?? new Date().toISOString());
  $("#shift-ended-text").textContent = fmt(
    gettext("Teamet avslutade passet kl %(time)s. Din position delas inte längre."),
    { time: when },
  );
  $("#shift-ended").hidden = false;
}

// --- rendering --------------------------------------------------------------------------------------

function render() {
  const shift = serverShift();
  const out = onShift();
  $("#shift-off").hidden = out;
  $("#shift-on").hidden = !out;
  $("#shift-since").textContent = shift
    ? fmt(gettext("Pass pågår sedan %(time)s"), { time: timeText(shift.started_at) }) +
      (shift.team_name ? ` · ${shift.team_name}` : "")
    : `${gettext("Starta pass")} · ${gettext("Väntar")}`;
  const status = currentStatus();
  for (const button of document.querySelectorAll("#status-buttons button")) {
    button.setAttribute("aria-pressed", String(button.dataset.status === status));
  }
  renderOutbox();
  renderMyAlarms();
  renderFeed();
  renderChatChannels(shift);
  renderChat();
  renderStatus();
  $("#consent").hidden = !(out && sharingChoice() === "ask");
  updatePositionWatch(out);
  renderFocus(live.state, "field-map");
  if (layers) layers.sync(live.state);
}

function renderStatus() {
  renderConnection(live.status, (live.outbox?.list() ?? []).filter((i) => i.frame.type !== "position").length);
  let line = pageLine({ status: live.status, dataAt });
  // Connecting in the page's first seconds is no news (the badge says "Ansluter …"): a line that comes
  // and goes on every load pushed the tab down and back up. Offline and signed out show at once.
  if (line?.state === "connecting" && performance.now() < CONNECTING_QUIET_MS) line = null;
  $("#phone-line").hidden = line === null;
  if (line) {
    $("#phone-line").dataset.state = line.state;
    $("#phone-line-text").textContent = line.text;
    $("#phone-login").hidden = !line.login;
  }
}

function describe(frame) {
  switch (frame.type) {
    case "note":
      return `${gettext("Notering")}: ${label.category[frame.category] ?? frame.category}${frame.text ? ` – ${frame.text}` : ""}`;
    case "alert":
      return `${gettext("Larm")}${frame.text ? `: ${frame.text}` : ""}`;
    case "chat":
      return `${gettext("Chatt")}: ${frame.text}`;
    case "status":
      return `${gettext("Status")}: ${label.status[frame.status] ?? frame.status}`;
    case "checkin":
      return `${gettext("Vi är vid")} ${$(`#checkin-place option[value="${frame.place}"]`)?.textContent ?? ""}`;
    default:
      return { shift_start: gettext("Starta pass"), shift_end: gettext("Avsluta pass") }[frame.type] ?? frame.type;
  }
}

function renderOutbox() {
  const items = (live.outbox?.list() ?? []).filter((item) => item.frame.type !== "position");
  $("#outbox-card").hidden = items.length === 0;
  setHtml(
    $("#outbox-list"),
    items
      .map(
        (item) =>
          `<li class="waiting" data-id="${item.id}"><span class="tag">${escapeHtml(gettext("Väntar"))}</span> ` +
          `${escapeHtml(describe(item.frame))} <time>${timeText(new Date(item.created).toISOString())}</time></li>`,
      )
      .join(""),
  );
}

/** Where an alarm stands, as its raiser reads it: sent → acknowledged by whom → resolved. */
function alarmState(p) {
  if (p.status === "resolved") return gettext("Avslutat");
  if (p.status === "acknowledged") {
    return p.acknowledged_by
      ? fmt(gettext("Kvitterat av %(name)s"), { name: p.acknowledged_by })
      : gettext("Kvitterat av jouren");
  }
  return p.level > 0 ? gettext("Larm skickat – ej kvitterat än, jouren larmas igen") : gettext("Larm skickat");
}

/** My own alarms on top of the shift tab, on shift or not, until a while after they are resolved. */
function renderMyAlarms() {
  const now = Date.now();
  const mine = live.state
    .layer("alert")
    .map((f) => f.properties)
    .filter((p) => p.author === config.user)
    .filter((p) => p.status !== "resolved" || now - Date.parse(p.resolved_at) < RESOLVED_ALARM_SHOWN_MS)
    .sort((a, b) => Date.parse(b.raised_at) - Date.parse(a.raised_at));
  $("#my-alarms").hidden = mine.length === 0;
  setHtml(
    $("#my-alarm-list"),
    mine
      .map(
        (p) =>
          `<li class="alert-item ${p.status}" data-id="alert.${p.id}"><strong>${escapeHtml(gettext("Larm"))}</strong>` +
          `${p.text ? ` – ${escapeHtml(p.text)}` : ""} <time>${timeText(p.raised_at)}</time>` +
          ` <span class="tag tag-${p.status}">${escapeHtml(alarmState(p))}</span></li>`,
      )
      .join(""),
  );
}

function renderFeed() {
  const mine = [...live.state.features.values()].filter(
    (f) =>
      (f.properties.layer === "note" || f.properties.layer === "alert") &&
      (myTeams.has(f.properties.team) || (f.properties.layer === "alert" && f.properties.author === config.user)),
  );
  const when = (p) => p.created_at ?? p.raised_at;
  mine.sort((a, b) => Date.parse(when(b.properties)) - Date.parse(when(a.properties)));
  setHtml(
    $("#my-feed"),
    mine.length
      ? mine.map((f) => feedItem(f)).join("")
      : `<li class="muted">${escapeHtml(gettext("Inget rapporterat än i kväll."))}</li>`,
  );
}

function feedItem(feature) {
  const p = feature.properties;
  if (p.layer === "alert") {
    const state = alarmState(p);
    return (
      `<li class="alert-item ${p.status}" data-id="${feature.id}"><strong>${escapeHtml(gettext("Larm"))}</strong>` +
      `${p.text ? ` – ${escapeHtml(p.text)}` : ""} <time>${timeText(p.raised_at)}</time>` +
      ` <span class="tag tag-${p.status}">${escapeHtml(state)}</span></li>`
    );
  }
  const state = p.status === "acknowledged" ? gettext("Kvitterad") : gettext("Ny");
  const count = p.youth_count != null ? ` · ${p.youth_count} ${escapeHtml(gettext("unga"))}` : "";
  return (
    `<li class="note-item sev-${p.severity}" data-id="${feature.id}"><strong>${escapeHtml(label.category[p.category])}</strong>` +
    ` · ${escapeHtml(label.severity[p.severity])}${count}${p.text ? ` – ${escapeHtml(p.text)}` : ""}` +
    ` <time>${timeText(p.created_at)}</time> <span class="tag ${p.status === "acknowledged" ? "tag-acknowledged" : "tag-new"}">${escapeHtml(state)}</span></li>`
  );
}

// --- chat -------------------------------------------------------------------------------------------

function renderChatChannels(shift) {
  const channels = [
    ...[...myTeams].map((id) => chatChannel("team", id)),
    chatChannel("everyone"),
    ...(shift?.areas ?? []).map((id) => chatChannel("area", id)),
  ];
  renderChannels($("#chat-channel"), [[null, channels]], names);
}

function addChat(event) {
  if (!chat.add(event)) return;
  if (document.querySelector(".tab:not([hidden])")?.dataset.tab !== "chat") unread += 1;
  renderChat();
}

function renderChat() {
  chat.render(live.outbox);
  const badge = $("#chat-unread");
  badge.hidden = unread === 0;
  badge.textContent = unread;
}

// --- position -----------------------------------------------------------------------------------------

function metres(a, b) {
  const rad = Math.PI / 180;
  const x = (b.lon - a.lon) * rad * Math.cos(((a.lat + b.lat) / 2) * rad);
  const y = (b.lat - a.lat) * rad;
  return Math.sqrt(x * x + y * y) * 6371000;
}

function updatePositionWatch(out) {
  const want = out && !paused && sharingChoice() === "yes" && "geolocation" in navigator;
  if (want && watchId === null) {
    geoError = null;
    watchId = navigator.geolocation.watchPosition(onFix, onFixError, {
      enableHighAccuracy: true,
      maximumAge: 5000,
      timeout: 30000,
    });
  } else if (!want && watchId !== null) {
    navigator.geolocation.clearWatch(watchId);
    watchId = null;
  }
  renderSharing(out);
}

function onFix(position) {
  const { latitude: lat, longitude: lon, accuracy } = position.coords;
  lastFix = { lat, lon, accuracy, at: position.timestamp };
  geoError = null;
  const now = Date.now();
  const due =
    !lastSent ||
    now - lastSent.at >= POSITION_EVERY_MS ||
    (now - lastSent.at >= POSITION_MIN_MS && metres(lastSent, lastFix) >= POSITION_MOVED_M);
  if (due && onShift() && !paused && sharingChoice() === "yes") {
    lastSent = { lat, lon, at: now };
    live.send("position", {
      lat: Number(lat.toFixed(6)),
      lon: Number(lon.toFixed(6)),
      accuracy: Math.round(accuracy),
      recorded_at: new Date(position.timestamp).toISOString(),
    });
  }
  renderSharing(onShift());
  drawMyPosition();
  renderWhere();
}

function onFixError(error) {
  geoError = error.message || String(error.code);
  renderSharing(onShift());
}

function renderSharing(out) {
  const choice = sharingChoice();
  const line = sharingLine({
    onShift: out,
    consent: choice,
    paused,
    geoError: "geolocation" in navigator ? geoError : gettext("telefonen ger ingen position"),
    hasFix: lastFix !== null,
    status: live.status,
    lastAck,
    oldestQueued: pending("position")[0]?.created ?? null,
    accuracy: lastFix?.accuracy ?? null,
  });
  $("#sharing").dataset.state = line.state;
  $("#sharing-text").textContent = line.text;
  const toggle = $("#sharing-toggle");
  // Signed out, nothing is sent either way: the one thing to do is the page line's "Logga in igen".
  toggle.hidden = line.login;
  toggle.textContent =
    choice !== "yes" ? toggle.dataset.consent : paused ? toggle.dataset.resume : toggle.dataset.pause;
}

function drawMyPosition() {
  if (!map || !lastFix) return;
  const at = [lastFix.lat, lastFix.lon];
  if (!myMarker) {
    myMarker = L.circleMarker(at, { radius: 8, color: "#fff", weight: 3, fillColor: "#1f6fd1", fillOpacity: 1 });
    myMarker.addTo(map);
  } else {
    myMarker.setLatLng(at);
  }
}

// --- map --------------------------------------------------------------------------------------------

function popupText(p) {
  if (p.layer === "team") return `${escapeHtml(p.team_name)} · ${escapeHtml(label.status[p.status] ?? "")}`;
  if (p.layer === "note")
    return `${escapeHtml(label.category[p.category])} · ${escapeHtml(label.severity[p.severity])}`;
  if (p.layer === "alert") return `${escapeHtml(gettext("Larm"))} · ${escapeHtml(p.team_name)}`;
  return `${escapeHtml(p.title)} · ${escapeHtml(p.organization_name)}`;
}

onMap("field-map", (leafletMap) => {
  map = leafletMap;
  layers = liveLayers(map, { names: ["area", "activity", "note", "team", "alert"], popup: popupText });
  layers.sync(live.state);
  drawMyPosition();
  map.on("click", (event) => {
    if (!$("#pick-banner").hidden || $("input[name=where]:checked")?.value === "map") {
      picked = { lat: event.latlng.lat, lon: event.latlng.lng };
      if (pickMarker) pickMarker.setLatLng(event.latlng);
      else pickMarker = L.marker(event.latlng, { icon: noteIcon({ category: "other", severity: 1 }) }).addTo(map);
      if (!$("#pick-banner").hidden) {
        $("#pick-banner").hidden = true;
        show("note");
      }
      renderWhere();
    }
  });
});
keepAgeing(() => layers);

// --- tabs -------------------------------------------------------------------------------------------

function show(tab) {
  for (const section of document.querySelectorAll(".tab")) section.hidden = section.dataset.tab !== tab;
  for (const button of document.querySelectorAll(".tabbar [data-show]")) {
    if (button.dataset.show === tab) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  // The map is made the first time it is seen (templates/coordination/field.html: loadevent): a phone
  // that stays on the shift card never pays for Leaflet's tiles and markers while the page loads.
  if (tab === "map" && !map) window.dispatchEvent(new Event("field:map"));
  if (tab === "map" && map) {
    setTimeout(() => {
      // Frame it the first time it is seen (its size is known once the tab shows).
      map.invalidateSize();
      if (!framed) {
        framed = true;
        if (lastFix) map.setView([lastFix.lat, lastFix.lon], 16);
        else layers.fitAreas();
      }
    }, 0);
  }
  if (tab === "chat") {
    unread = 0;
    renderChat();
    const list = $("#chat-list");
    list.scrollTop = list.scrollHeight; // it had no height while the tab was hidden
  }
}

for (const button of document.querySelectorAll(".tabbar [data-show]")) {
  button.addEventListener("click", () => show(button.dataset.show));
}

// --- actions ----------------------------------------------------------------------------------------

function afterSend() {
  if (live.status !== "online") toast(gettext("Sparad på telefonen – skickas när anslutningen är tillbaka."));
}

$("#shift-start").addEventListener("click", async () => {
  const areas = [...document.querySelectorAll("#shift-areas input:checked")].map((i) => Number(i.value));
  const fields = { areas };
  const team = $("#shift-team");
  if (team) fields.team = Number(team.value);
  consent.startedHere(); // starting it myself is my yes
  await live.send("shift_start", fields);
  afterSend();
});

$("#shift-end").addEventListener("click", async () => {
  if (!confirm(gettext("Avsluta passet? Positionen slutar delas."))) return;
  endingHere = true;
  consent.forgetStart();
  await live.send("shift_end");
  lastSent = null;
  afterSend();
});

function answerConsent(answer) {
  const shift = serverShift()?.shift;
  if (shift != null) consent.set(shift, answer);
  else if (answer === "yes") consent.startedHere();
  if (answer === "yes") {
    paused = false;
    localStorage.setItem(PAUSE_KEY, "0");
  }
  render();
}

$("#sharing-toggle").addEventListener("click", () => {
  if (sharingChoice() !== "yes") {
    answerConsent("yes");
    return;
  }
  paused = !paused;
  localStorage.setItem(PAUSE_KEY, paused ? "1" : "0");
  render();
});
$("#consent-yes").addEventListener("click", () => answerConsent("yes"));
$("#consent-no").addEventListener("click", () => answerConsent("no"));
$("#shift-ended-ok").addEventListener("click", () => ($("#shift-ended").hidden = true));

for (const button of document.querySelectorAll("#status-buttons button")) {
  button.addEventListener("click", async () => {
    await live.send("status", { status: button.dataset.status });
    afterSend();
  });
}

$("#checkin-form").addEventListener("submit", async (submit) => {
  submit.preventDefault();
  await live.send("checkin", { place: Number($("#checkin-place").value) });
  afterSend();
});

for (const button of document.querySelectorAll(".stepper button")) {
  button.addEventListener("click", () => {
    const input = $("#youth-count");
    const value = Math.max(0, (Number(input.value) || 0) + Number(button.dataset.step));
    input.value = value;
  });
}

function renderWhere() {
  const where = $("input[name=where]:checked")?.value;
  const text = $("#note-where-text");
  if (where === "device") {
    text.textContent = lastFix
      ? `${gettext("Min position")}: ±${Math.round(lastFix.accuracy)} m`
      : gettext("Väntar på position …");
  } else if (where === "map") {
    text.textContent = picked
      ? fmt(gettext("Vald plats: %(lat)s, %(lon)s"), { lat: picked.lat.toFixed(5), lon: picked.lon.toFixed(5) })
      : gettext("Tryck på kartan där det gäller.");
  } else {
    text.textContent = gettext("Ingen plats");
  }
}

for (const radio of document.querySelectorAll("input[name=where]")) {
  radio.addEventListener("change", () => {
    if (radio.value === "map" && radio.checked) {
      $("#pick-banner").hidden = false;
      show("map");
    }
    renderWhere();
  });
}

function restoreNote(frame) {
  const form = $("#note-form");
  if (form.elements.text.value) return;
  form.elements.text.value = frame.text ?? "";
  const chip = form.querySelector(`input[name=category][value="${frame.category}"]`);
  if (chip) chip.checked = true;
}

$("#note-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const category = form.elements.category.value;
  if (!category) {
    toast(gettext("Välj en kategori."), { error: true });
    return;
  }
  const fields = { category, severity: Number(form.elements.severity.value || 1) };
  const count = form.elements.youth_count.value;
  if (count !== "") fields.youth_count = Math.max(0, Math.round(Number(count)));
  const text = form.elements.text.value.trim();
  if (text) fields.text = text;
  const where = form.elements.where.value;
  const at = where === "device" ? lastFix : where === "map" ? picked : null;
  if (at) Object.assign(fields, { lat: Number(at.lat.toFixed(6)), lon: Number(at.lon.toFixed(6)) });
  await live.send("note", fields);
  form.reset();
  picked = null;
  if (pickMarker) {
    pickMarker.remove();
    pickMarker = null;
  }
  renderWhere();
  afterSend();
  show("shift");
});

const alarmSheet = new Sheet($("#alert-sheet"));
$("#alert-open").addEventListener("click", () => {
  alarmSheet.show();
  // Off shift the phone shares no position; ask for one now, so the alarm can carry where it is.
  if (!lastFix && "geolocation" in navigator) {
    navigator.geolocation.getCurrentPosition(
      (position) => (alarmFix = { lat: position.coords.latitude, lon: position.coords.longitude }),
      () => (alarmFix = null),
      { enableHighAccuracy: true, maximumAge: 60000, timeout: 15000 },
    );
  }
});
$("#alert-cancel").addEventListener("click", () => alarmSheet.close());
$("#alert-confirm").addEventListener("click", async () => {
  const fields = {};
  const text = $("#alert-text").value.trim();
  if (text) fields.text = text;
  const at = lastFix ?? alarmFix;
  if (at) Object.assign(fields, { lat: Number(at.lat.toFixed(6)), lon: Number(at.lon.toFixed(6)) });
  alarmFix = null;
  alarmSheet.close();
  $("#alert-text").value = "";
  await live.send("alert", fields);
  afterSend();
  show("shift");
});

sendChatFrom(live);

// --- start --------------------------------------------------------------------------------------------

if ("serviceWorker" in navigator) {
  // The worker lives beside the page (/falt/sw.js) so that its scope covers /falt/.
  const scope = new URL("./", new URL(config.sw_url, location.href)).pathname;
  navigator.serviceWorker.register(config.sw_url, { scope }).catch((error) => console.warn("sw", error));
}
await live.start();
render();
renderWhere();
setInterval(() => {
  renderSharing(onShift());
  renderStatus();
}, STATE_EVERY_MS);
