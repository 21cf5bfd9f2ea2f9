// Citizen reports on the duty page (templates/coordination/_reports.html): the ones nobody has
// taken yet wait in the "Att hantera" queue (counted there and in the tab's title) and on the map,
// kept live by the `report` and `report_changed` events the duty socket hands on (ops.js
// dispatches each event as "narvaro:event"). Taken, rejected, published, answered or closed: the
// report leaves the queue; released again: it comes back.

import { fmt, gettext } from "./i18n.js";
import { escapeHtml, onMap, timeText } from "./maplayers.js";
import { queueKeep, queueUpsert } from "../coordination/queue.js";

const reports = new Map();
const markers = new Map();
let map = null;
let group = null;

const waiting = (r) => r.taken_by === null && !r.rejected && r.status === "received";

const ICON = () =>
  L.divIcon({ className: "mk mk-report", html: '<span style="background:#7b3fb5">?</span>', iconSize: [26, 26] });

function queueItem(r) {
  const where = r.area_name ? ` <span class="muted">${escapeHtml(r.area_name)}</span>` : "";
  const url = document.getElementById("reports-panel").dataset.queueUrl;
  return {
    html:
      `<strong>${escapeHtml(gettext("Medborgarrapport"))}</strong>${where} <time>${escapeHtml(timeText(r.created_at))}</time>` +
      `<p>${escapeHtml(r.text.slice(0, 120))}</p><a href="${escapeHtml(url)}">${escapeHtml(gettext("Hantera i kön"))}</a>`,
    at: r.created_at,
    // Below the field's own notes (severity 1–3) and teams needing backup: the public can wait a moment.
    priority: 0,
    focus: r.lat == null ? null : `report.${r.id}`,
  };
}

function render() {
  const list = [...reports.values()].filter(waiting);
  document.getElementById("reports-count").textContent = String(list.length);
  for (const r of list) queueUpsert("report", r.id, queueItem(r));
  queueKeep(
    "report",
    list.map((r) => r.id),
  );
  if (!group) return;
  for (const [id, marker] of markers) {
    if (!list.some((r) => r.id === id)) {
      group.removeLayer(marker);
      markers.delete(id);
    }
  }
  for (const r of list) {
    if (markers.has(r.id) || r.lat == null) continue;
    const marker = L.marker([r.lat, r.lon], { icon: ICON() }).bindPopup(
      `<strong>${escapeHtml(fmt(gettext("Medborgarrapport %(id)s"), { id: r.id }))}</strong><br>${escapeHtml(r.text)}`,
    );
    markers.set(r.id, marker);
    group.addLayer(marker);
  }
}

onMap("ops-map", (made) => {
  map = made;
  group = L.layerGroup().addTo(map);
  render();
});

// A report in the queue shows its place on the map (ops.js focuses the live layers; reports are not among them).
document.addEventListener("click", (event) => {
  const item = event.target.closest('[data-focus^="report."]');
  if (!item || event.target.closest("a") || !map) return;
  const marker = markers.get(Number(item.dataset.focus.slice("report.".length)));
  if (!marker) return;
  map.setView(marker.getLatLng(), Math.max(map.getZoom(), 16));
  marker.openPopup();
});

document.addEventListener("narvaro:event", (event) => {
  const { kind, data } = event.detail;
  if (kind !== "report" && kind !== "report_changed") return;
  reports.set(data.id, data);
  render();
});

const response = await fetch("/jour/tips.json?status=received", { headers: { Accept: "application/json" } });
if (response.ok) {
  for (const r of (await response.json()).reports) if (!reports.has(r.id)) reports.set(r.id, r);
  render();
} else {
  document.getElementById("reports-panel").hidden = true;
}
