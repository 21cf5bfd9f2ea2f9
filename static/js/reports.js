// Citizen reports on the duty page (templates/coordination/_reports.html): the ones nobody has
// taken yet, in a list and on the map, kept live by the `report` and `report_changed` events the
// duty socket hands on (ops.js dispatches each event as "narvaro:event").

import { fmt, gettext } from "./i18n.js";
import { escapeHtml, onMap, timeText } from "./maplayers.js";
import { setHtml } from "./ui.js";

const reports = new Map();
const markers = new Map();
let map = null;
let group = null;

const waiting = (r) => r.taken_by === null && !r.rejected && r.status === "received";

const ICON = () =>
  L.divIcon({ className: "mk mk-report", html: '<span style="background:#7b3fb5">?</span>', iconSize: [26, 26] });

function render() {
  const list = [...reports.values()].filter(waiting);
  list.sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
  document.getElementById("reports-count").textContent = String(list.length);
  setHtml(
    document.getElementById("reports-new"),
    list
      .map(
        (r) =>
          `<li class="report-line" data-report="${r.id}"><span>${escapeHtml(r.area_name ?? "")} ` +
          `${escapeHtml(r.text.slice(0, 80))}</span><time>${escapeHtml(timeText(r.created_at))}</time></li>`,
      )
      .join("") || `<li class="muted">${escapeHtml(gettext("Inga nya rapporter."))}</li>`,
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
