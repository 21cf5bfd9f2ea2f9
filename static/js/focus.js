// "Veckans fokus" on the duty map and the field page (templates/coordination/_focus.html).
//
// The EST decisions arrive as features `focus.<id>` in the live state (the staff snapshot holds those
// with an evening still to come; `decision` and `decision_withdrawn` events keep them current). Each
// carries its evenings as absolute `windows`; while now is inside one, the panel lists the decision
// and its areas are outlined on the map. A clock re-checks every minute, so a page left open at 18:00
// shows the focus at 19:00 without a reload.

import { fmt, gettext } from "./i18n.js";

/** Text safe inside HTML (as maplayers.escapeHtml; that module needs a document, these load in Node too). */
export function escapeHtml(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const TICK_MS = 60 * 1000;
const OUTLINE = { color: "#e08a00", weight: 4, dashArray: "8 6", fill: false, interactive: false };

/** The decisions (feature properties) whose evening window holds `now` (ms since the epoch). */
export function activeFocus(features, now = Date.now()) {
  const active = [];
  for (const feature of features) {
    const p = feature.properties;
    if (p.layer !== "focus") continue;
    if ((p.windows ?? []).some(([from, to]) => Date.parse(from) <= now && now < Date.parse(to))) active.push(p);
  }
  return active.sort((a, b) => a.start.localeCompare(b.start) || a.id - b.id);
}

/** The ids of the areas in focus now. */
export function focusAreaIds(state, now = Date.now()) {
  return new Set(activeFocus(state.features.values(), now).flatMap((p) => p.areas));
}

/** For Array.sort: areas in focus now first (coverage ranks them first), otherwise equal (0). */
export function focusFirst(state, a, b, now = Date.now()) {
  const focus = focusAreaIds(state, now);
  return Number(focus.has(b.id)) - Number(focus.has(a.id));
}

/** The panel's HTML for the active decisions. */
export function focusHtml(active) {
  return active
    .map((p) => {
      const note = p.note ? `<span class="muted">${escapeHtml(p.note)}</span>` : "";
      const when = fmt(gettext("%(start)s–%(end)s · %(who)s ansvarar"), {
        start: p.start,
        end: p.end,
        who: p.who_name,
      });
      return (
        `<li data-decision="${p.id}"><strong>${escapeHtml(p.area_names.join(", "))}</strong> ` +
        `<span class="muted">${escapeHtml(when)}</span>${note}</li>`
      );
    })
    .join("");
}

const maps = new Map(); // map id -> {map, group}
let lastState = null;
let lastMapId = null;
let shownKey = null;
let shownAreas = null; // the area ids last outlined, as text

function outline(state, mapId, areaIds) {
  const entry = maps.get(mapId);
  if (!entry) return;
  entry.group.clearLayers();
  for (const id of areaIds) {
    const area = state.features.get(`area.${id}`);
    if (area?.geometry) window.L.geoJSON(area.geometry, { style: OUTLINE }).addTo(entry.group).bringToFront();
  }
}

/**
 * Show the decisions in focus now in #focus-panel and outline their areas on the map `mapId`.
 * Called from the page's render(); cheap when nothing changed.
 */
export function renderFocus(state, mapId) {
  lastState = state;
  lastMapId = mapId;
  const panel = document.getElementById("focus-panel");
  if (!panel) return;
  const active = activeFocus(state.features.values());
  const ids = [...new Set(active.flatMap((p) => p.areas))].sort((a, b) => a - b);
  const key = JSON.stringify([active.map((p) => [p.id, p.note, p.who_name, p.start, p.end]), ids]);
  if (key === shownKey) return;
  const changed = shownAreas !== null && shownAreas !== ids.join();
  shownKey = key;
  shownAreas = ids.join();
  // The ranking of where to go next (where-next.js) changes with the areas in focus.
  if (changed) document.dispatchEvent(new CustomEvent("focus:change", { detail: { areas: ids } }));
  panel.hidden = active.length === 0;
  document.getElementById("focus-list").innerHTML = focusHtml(active);
  outline(state, mapId, ids);
}

/** Start drawing outlines once the page's Leaflet map `mapId` exists. */
export function focusOnMap(mapId) {
  // As maplayers.onMap (not imported: this module also loads in Node for its tests).
  window.addEventListener("map:init", (event) => {
    if (event.detail.id !== mapId) return;
    maps.set(mapId, { map: event.detail.map, group: window.L.layerGroup().addTo(event.detail.map) });
    if (lastState) outline(lastState, mapId, shownAreas ? shownAreas.split(",").map(Number) : []);
  });
}

// The windows open and close with the clock, not with events.
if (typeof window !== "undefined" && typeof document !== "undefined") {
  setInterval(() => {
    if (lastState) renderFocus(lastState, lastMapId);
  }, TICK_MS);
  for (const id of ["ops-map", "field-map"]) focusOnMap(id);
}
