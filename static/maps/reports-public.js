// Published citizen reports on the public map (templates/maps/_reports_public.html): counts per
// area and category, the municipality's answers, and a coarse marker per report. The server sends
// only what a moderator published (never the reporter's text, e-mail or the point given);
// `report_published` events keep it live (public.js dispatches each event as "narvaro:event").

import { fmt, gettext, ngettext } from "../js/i18n.js";
import { escapeHtml, onMap } from "../js/maplayers.js";
import { setHtml } from "../js/ui.js";

let CATEGORY = {}; // value -> label in the reader's language, from the server
const reports = new Map();
const markers = new Map();
let group = null;

const ICON = () =>
  L.divIcon({ className: "mk mk-report", html: '<span style="background:#7b3fb5">!</span>', iconSize: [24, 24] });

function popup(r) {
  const answer = r.answer ? `<br><em>${escapeHtml(gettext("Kommunens svar"))}:</em> ${escapeHtml(r.answer)}` : "";
  return `<strong>${escapeHtml(CATEGORY[r.category] ?? r.category)}</strong> · ${escapeHtml(r.area_name ?? "")}${answer}`;
}

function render() {
  const counts = new Map(); // "area name|category" -> n
  for (const r of reports.values()) {
    const key = `${r.area_name ?? gettext("Utanför områdena")}|${r.category}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const rows = [...counts].sort(([a], [b]) => a.localeCompare(b));
  setHtml(
    document.getElementById("public-report-counts"),
    rows
      .map(([key, n]) => {
        const [area, category] = key.split("|");
        const count = fmt(ngettext("%(n)s rapport", "%(n)s rapporter", n), { n });
        return `<li><strong>${escapeHtml(area)}</strong> · ${escapeHtml(CATEGORY[category] ?? category)} <span class="count">${escapeHtml(count)}</span></li>`;
      })
      .join("") || `<li class="muted">${escapeHtml(gettext("Inga publicerade rapporter än."))}</li>`,
  );
  const answered = [...reports.values()].filter((r) => r.answer);
  setHtml(
    document.getElementById("public-report-answers"),
    answered.map((r) => `<li>${popup(r)}</li>`).join("") ||
      `<li class="muted">${escapeHtml(gettext("Inga svar än."))}</li>`,
  );
  if (!group) return;
  for (const r of reports.values()) {
    if (r.lat == null) continue;
    const marker = markers.get(r.id) ?? L.marker([r.lat, r.lon], { icon: ICON() }).addTo(group);
    marker.setLatLng([r.lat, r.lon]).bindPopup(popup(r));
    markers.set(r.id, marker);
  }
}

onMap("public-map", (map) => {
  group = L.layerGroup().addTo(map);
  render();
});

document.addEventListener("narvaro:event", (event) => {
  if (event.detail.kind !== "report_published") return;
  reports.set(event.detail.data.id, event.detail.data);
  render();
});

const response = await fetch("/tips/publicerade.json", { headers: { Accept: "application/json" } });
if (response.ok) {
  const body = await response.json();
  CATEGORY = Object.fromEntries(body.categories);
  for (const r of body.reports) if (!reports.has(r.id)) reports.set(r.id, r);
  render();
}
